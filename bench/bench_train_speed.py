"""Benchmark (issue 36): how fast the proxy trains, and where a training step's time goes.

    python bench/bench_train_speed.py [--data DATA] [--device cpu|cuda] [--batches 4 16 64]
                                      [--archs densemobile mid] [--steps 10] [--warmup 3]
                                      [--threads N] [--quick] [--json PATH]

For densemobile and a mid-size sampled network of the default space (``mid``: the network
of median backbone + neck MACs at the proxy input among ``--pool`` 31 samples drawn with
``--sample-seed`` 0, the same rule as ``bench_proxy.py cost``; it prints which), at each
batch size, it runs the proxy's own training step (``nas.train.loop.train_step`` on a
``nas.train.session.set_up`` session of the default proxy, ``DEFAULT_PROXY`` with the batch
and device changed) and prints:

* images/s and the step time as training runs it (no instrumentation);
* the same step instrumented, split into phases: data loading (dataset ``__getitem__`` +
  ``collate``), backbone + neck forward, RPN (anchors + head convs), proposal selection
  (top-k, decoding, NMS), RoI sampling (matching proposals to the ground truth and
  sampling the heads' RoIs: the model's own work in ``DensePoseRCNN._losses`` or, on CUDA,
  ``_losses_padded``, input normalisation and target padding included), RoIAlign (box and DensePose poolers), box and DensePose heads,
  losses (RPN, box and DensePose losses with their target gathering), backward, optimiser
  (zero_grad, gradient clipping, the scaler and AdamW's step); "other" is the rest of the
  step (host-to-device copy, summing the losses, the finiteness check);
* the loader path alone (``__getitem__`` + ``collate`` of a batch, outside the step);
* an overhead figure: steps/s of a tiny network (23k parameters) at 64x64, batch
  ``--overhead-batch`` 4, where the arithmetic is negligible: the fixed cost of a step
  (``--archs`` with no name: this figure alone, e.g. ``--archs --threads 1``).

Phases are timed without changing what the step computes: for the instrumented steps
only, the sub-modules' ``forward`` and the few methods and functions named above are
wrapped by timers (restored after each step); each phase is its exclusive time (a nested
region's time is taken out of its parent's). With ``--device cuda`` every timed region
is bracketed by ``torch.cuda.synchronize``, so phase times are honest but the
instrumented step is slower than a real one (the syncs drain the GPU's queue twice per
region, ~40 times a step plus two per image loaded): compare the un-instrumented step time, which has only the step's own syncs.
Plain and instrumented steps alternate, ``--steps`` of each after ``--warmup`` plain
ones, taken from the start of the proxy's schedule (fresh seeded weights per run); the
figures are medians. Without ``--data`` the proxy's synthetic set is rendered once into
.cache/bench_proxy_data (``nas.train.proxy.benchmark_data``); ``--data`` takes a dataset
folder or descriptor (``nas.data.source``). ``--quick`` (CI-sized, well under a minute
on 2 cores): batch 4 only, 3 steps after 1 warm-up; options given explicitly win.

On one GPU (an estimate, not a measurement: no GPU was available when this was written):

    python bench/bench_train_speed.py --device cuda --steps 5 --warmup 2 --json bench/reports/train_speed_cuda.json

should take 2-3.5 minutes. Basis: 12 steps per network and batch; issue 36 measured the
proxy's batch-4 step at 0.15-0.27 s on an H200 (40-70 ms an image, bound by per-image and
per-RoI Python work, not arithmetic); scaled per image, at most ~4.5 s a step at batch 64
and ~70 s a network; plus the tiny network, rendering the proxy data (~15 s), the mid-size
pick (~5 s), set-ups and CUDA start-up. The default ``--steps 10 --warmup 3`` would take up
to ~5.5 minutes there. On the 2-core CPU, ``--steps 5 --warmup 2`` (the figures in
docs/results.md) took 6.6 minutes at 2 threads and 10.5 at 1. Two threads on 2 cores are
only worth measuring on an idle machine: with another process on one core, a step slowed
5-30x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

import nas.model.rcnn.model as rcnn_model
from nas.data import collate
from nas.errors import NasError
from nas.io import atomic_write_json
from nas.model import FeatureNetwork
from nas.model.complexity import count_macs
from nas.space.references import resolve_arch
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec, decode
from nas.train import loop
from nas.train.budget import Budget
from nas.train.proxy import DEFAULT_PROXY, benchmark_data
from nas.train.session import TrainingSession, set_up
from nas.train.state import TrainState

ROOT = Path(__file__).resolve().parent.parent
SPACE = ROOT / "search_spaces" / "densepose_mobile.yaml"

# (key, label) in step order; "other" is the step's time outside every timed region
PHASES = (
    ("data", "data loading"),
    ("backbone_neck", "backbone + neck"),
    ("rpn", "RPN"),
    ("proposals", "proposal selection"),
    ("roi_sampling", "RoI sampling"),
    ("roi_align", "RoIAlign"),
    ("heads", "box + DensePose heads"),
    ("losses", "losses"),
    ("backward", "backward"),
    ("optimiser", "optimiser step"),
)

# Overhead network: four stride-2 stages of 8 channels, an 8-channel FPN and a one-conv head.
TINY = ("stem_k3_c8_s2_relu+ir_k3_e1_c8_n1_s2_relu+ir_k3_e1_c8_n1_s2_relu+ir_k3_e1_c8_n1_s2_relu"
        "+ir_k3_e1_c8_n1_s2_relu+fpn_c8_l2.5+head_n1_c8_k3_r7_o14_b16+in64x64")
TINY_INPUT = (64, 64)


class PhaseTimer:
    """Exclusive seconds per phase of nested timed regions (``sync``: called at both ends
    of each region, so queued device work lands in the region that queued it)."""

    def __init__(self, sync: Callable[[], None] | None) -> None:
        self.sync = sync
        self.seconds: dict[str, float] = defaultdict(float)
        self._open: list[list[Any]] = []  # [phase, start, seconds of its children]

    def wrap(self, phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self.sync is not None:
                self.sync()
            self._open.append([phase, time.perf_counter(), 0.0])
            try:
                return function(*args, **kwargs)
            finally:
                if self.sync is not None:
                    self.sync()
                name, start, children = self._open.pop()
                took = time.perf_counter() - start
                self.seconds[name] += took - children
                if self._open:
                    self._open[-1][2] += took

        return timed

    def take(self) -> dict[str, float]:
        """The seconds gathered since the last call, every phase present."""
        taken = {key: self.seconds.get(key, 0.0) for key, _ in PHASES}
        self.seconds.clear()
        return taken


@contextmanager
def _wrapped(owner: Any, name: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Iterator[None]:
    """``owner.name`` replaced by ``wrap(owner.name)`` for the block, then restored."""
    if not hasattr(owner, name):
        raise NasError(f"the training step no longer has {type(owner).__name__}.{name}: "
                       "update the phase map of bench/bench_train_speed.py")
    own = name in vars(owner)
    original = getattr(owner, name)
    setattr(owner, name, wrap(original))
    try:
        yield
    finally:
        if own:
            setattr(owner, name, original)
        else:
            delattr(owner, name)


@contextmanager
def instrumented(session: TrainingSession, timer: PhaseTimer) -> Iterator[None]:
    """The step's sub-modules, methods and functions wrapped by ``timer`` (see the module
    docstring for what each phase holds)."""
    model = session.model
    regions = [
        (type(session.train_set), "__getitem__", "data"), (loop, "collate", "data"),
        (model, "forward", "roi_sampling"),  # its exclusive time: normalising, matching, sampling
        (model.features, "forward", "backbone_neck"),
        (model.rpn, "forward", "rpn"), (model.rpn, "forward_padded", "rpn"),
        (model.rpn, "select_proposals", "proposals"), (model.rpn, "select_proposals_padded", "proposals"),
        (model.rpn, "anchor_losses", "losses"), (model.rpn, "anchor_losses_padded", "losses"),
        (model.box_pooler, "forward", "roi_align"), (model.dp_pooler, "forward", "roi_align"),
        (model.box_pooler, "forward_padded", "roi_align"), (model.dp_pooler, "forward_padded", "roi_align"),
        (model.box_head, "forward", "heads"), (model.dp_head, "forward", "heads"),
        (rcnn_model, "box_losses", "losses"), (model, "dp_losses", "losses"), (model, "dp_losses_padded", "losses"),
        (rcnn_model, "densepose_losses", "losses"),
        (torch.Tensor, "backward", "backward"),
        (session.optimizer, "zero_grad", "optimiser"), (torch.nn.utils, "clip_grad_norm_", "optimiser"),
        (session.scaler, "unscale_", "optimiser"), (session.optimizer, "step", "optimiser"),
        (session.scaler, "update", "optimiser"),
    ]
    with ExitStack() as stack:
        for owner, name, phase in regions:
            stack.enter_context(_wrapped(owner, name, lambda f, p=phase: timer.wrap(p, f)))
        yield


@dataclass
class SpeedRun:
    """One network at one batch size; seconds are medians over the measured steps."""

    name: str
    arch: str
    arch_id: str
    input: tuple[int, int]
    batch: int
    steps: int
    step_s: float  # as training runs it
    images_per_s: float
    steps_per_s: float
    instrumented_step_s: float
    phases_s: dict[str, float]
    phase_sum_s: float  # median over steps of the phases' sum
    other_s: float  # median over steps of the instrumented step less its phases
    loader_s: float  # __getitem__ + collate of one batch, outside the step


def _median(values: list[float]) -> float:
    return statistics.median(values)


def loader_seconds(session: TrainingSession, batches: int) -> list[float]:
    """Seconds to load ``batches`` batches the way ``train_step`` does, in its order."""
    order, size, took = session.epoch_order(0).tolist(), session.config.batch_size, []
    for k in range(batches):
        indices = [order[(k * size + j) % len(order)] for j in range(size)]
        start = time.perf_counter()
        collate([session.train_set[i] for i in indices])
        took.append(time.perf_counter() - start)
    return took


def measure(name: str, arch: ArchSpec, data: Path, batch: int, size: tuple[int, int], device: str,
            threads: int | None, warmup: int, steps: int) -> SpeedRun:
    config = replace(DEFAULT_PROXY, batch_size=batch, input_size=size, device=device, threads=threads,
                     budget=Budget(steps=warmup + 2 * steps))
    session = set_up(arch, data, config)
    if batch > len(session.train_set):
        raise NasError(f"--batches {batch} exceeds the {len(session.train_set)} training images of {data}; "
                       "give smaller batches or more data")
    session.model.train()
    sync = (lambda: torch.cuda.synchronize(session.device)) if session.device.type == "cuda" else None
    timer, state = PhaseTimer(sync), TrainState()
    schedule = DEFAULT_PROXY.budget.steps  # the steps are the first ones of a proxy run

    def step() -> float:
        return loop.train_step(session, state, min(state.step / schedule, 0.999))

    for _ in range(warmup):
        step()
    plain, timed, phases = [], [], []
    for _ in range(steps):  # alternating, so both see the same machine state
        plain.append(step())
        with instrumented(session, timer):
            timed.append(step())
        phases.append(timer.take())
    loads = loader_seconds(session, steps)
    sums = [sum(p.values()) for p in phases]
    step_s = _median(plain)
    print(f"  {name}, batch {batch}: {batch / step_s:.1f} images/s ({1e3 * step_s:.0f} ms a step)", flush=True)
    return SpeedRun(
        name=name, arch=arch.to_string(), arch_id=arch.id, input=size, batch=batch, steps=steps,
        step_s=step_s, images_per_s=batch / step_s, steps_per_s=1.0 / step_s, instrumented_step_s=_median(timed),
        phases_s={key: _median([p[key] for p in phases]) for key, _ in PHASES},
        phase_sum_s=_median(sums), other_s=_median([t - s for t, s in zip(timed, sums)]), loader_s=_median(loads),
    )


def mid_size(pool: int, seed: int) -> ArchSpec:
    """The sample of median backbone + neck MACs at the proxy input among ``pool`` draws."""
    space = SearchSpace.from_yaml(SPACE)
    rng = np.random.default_rng(seed)
    archs = [space.sample(rng) for _ in range(pool)]
    h, w = space.proxy_input
    macs = [count_macs(FeatureNetwork(a), torch.randn(1, 3, h, w)) for a in archs]
    return archs[int(np.argsort(macs)[len(macs) // 2])]


def print_runs(runs: list[SpeedRun]) -> None:
    """One table per network: a column per batch size, times in ms."""
    head = runs[0]
    print(f"\n{head.name} (id {head.arch_id}) at {head.input[0]}x{head.input[1]}: {head.arch}")
    print(f"{'':30}" + "".join(f"{'batch ' + str(r.batch):>16}" for r in runs))
    rows: list[tuple[str, Callable[[SpeedRun], str]]] = [
        ("images/s", lambda r: f"{r.images_per_s:.1f}"),
        ("steps/s", lambda r: f"{r.steps_per_s:.2f}"),
        ("step, ms (as trained)", lambda r: f"{1e3 * r.step_s:.0f}"),
        ("step, ms (instrumented)", lambda r: f"{1e3 * r.instrumented_step_s:.0f}"),
    ]
    rows += [(f"  {label}", lambda r, k=key: f"{1e3 * r.phases_s[k]:.1f} {100 * r.phases_s[k] / r.instrumented_step_s:3.0f}%")
             for key, label in PHASES]
    rows += [("  other", lambda r: f"{1e3 * r.other_s:.1f} {100 * r.other_s / r.instrumented_step_s:3.0f}%"),
             ("loader alone, ms/batch", lambda r: f"{1e3 * r.loader_s:.1f}")]
    for label, cell in rows:
        print(f"{label:30}" + "".join(f"{cell(r):>16}" for r in runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="dataset folder or descriptor YAML (default: the proxy's synthetic set)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    parser.add_argument("--archs", nargs="*", default=["densemobile", "mid"],
                        help="reference names, spec strings, or 'mid' (the mid-size sample); none: the overhead figure only")
    parser.add_argument("--batches", nargs="+", type=int, help="batch sizes (default 4 16 64; --quick: 4)")
    parser.add_argument("--steps", type=int, help="measured steps of each kind (default 10; --quick: 3)")
    parser.add_argument("--warmup", type=int, help="plain steps before measuring (default 3; --quick: 1)")
    parser.add_argument("--input", nargs=2, type=int, metavar=("H", "W"), default=list(DEFAULT_PROXY.input_size))
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's, one per core)")
    parser.add_argument("--overhead-batch", type=int, default=4)
    parser.add_argument("--overhead-steps", type=int, help="measured steps of the tiny network (default 30; --quick: 10)")
    parser.add_argument("--pool", type=int, default=31, help="samples the mid-size network is the median of")
    parser.add_argument("--sample-seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="CI-sized: batch 4, 3 steps after 1 warm-up")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    quick = {"batches": [4], "steps": 3, "warmup": 1, "overhead_steps": 10}
    full = {"batches": [4, 16, 64], "steps": 10, "warmup": 3, "overhead_steps": 30}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    try:
        report = run(args)
    except NasError as err:
        sys.exit(f"error: {err}")
    if args.json:
        atomic_write_json(args.json, report, indent=2)
        print(f"\nwrote {args.json}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    data = benchmark_data(args.data, ROOT / ".cache")
    load_before = os.getloadavg()
    size = (args.input[0], args.input[1])
    runs: list[SpeedRun] = []
    for name in args.archs:
        arch = mid_size(args.pool, args.sample_seed) if name == "mid" else resolve_arch(name)
        label = f"mid-size sample (median MACs of {args.pool}, seed {args.sample_seed})" if name == "mid" else name
        mine = [measure(label, arch, data, batch, size, args.device, args.threads, args.warmup, args.steps)
                for batch in args.batches]
        print_runs(mine)
        runs += mine
    overhead = measure("tiny network (overhead)", decode(TINY), data, args.overhead_batch, TINY_INPUT, args.device,
                       args.threads, args.warmup, args.overhead_steps)
    print_runs([overhead])
    print(f"\noverhead: {overhead.steps_per_s:.1f} steps/s of the tiny network at 64x64, batch {overhead.batch} "
          f"(data loading {1e3 * overhead.phases_s['data']:.1f} ms of its {1e3 * overhead.instrumented_step_s:.1f} ms "
          "instrumented step)")
    device = torch.cuda.get_device_name(args.device) if args.device.startswith("cuda") else "cpu"
    return {
        "device": device, "threads": torch.get_num_threads(), "torch": torch.__version__, "data": str(data),
        "warmup": args.warmup, "amp": DEFAULT_PROXY.amp and args.device.startswith("cuda"),
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "phases": dict(PHASES), "runs": [asdict(r) for r in runs], "overhead": asdict(overhead),
        "wall_s": round(time.perf_counter() - started, 1),  # the whole benchmark, data rendering included
    }


if __name__ == "__main__":
    main()
