"""Benchmark runner for ExecuTorch programs; also a standalone script pushed to devices.

This module imports only the standard library, torch and ExecuTorch's runtime bindings,
so it runs on any board with Python and ExecuTorch (the transports push this very file
next to the ``.pte`` files). Usage on the device::

    python3 nas_runner.py --threads 1 --warmup 5 --rounds 15 --seed 0 --budget-ms 150 a.pte b.pte ...

Measurement: every program is loaded, warmed up ``warmup`` times, then timed in
``rounds`` rounds; each round runs every program once in a freshly shuffled order, so
slow machine drift (thermal, frequency, background load) spreads over all programs
instead of biasing the ones measured last. With ``--budget-ms B`` a program whose run takes
longer than ``B / rounds`` ms gets proportionally fewer rounds (at least ``--min-rounds``)
and warm-ups (at least two): a 1-second op is as precise after 5 runs as a 1-ms op after
15, and the few largest ops otherwise take half of a profile's timing. Output is one line
per program::

    NASLAT <file name> <ms>,<ms>,...        # wall time of each timed run, ms, batch 1

followed by ``NASLAT-END <count>``; a failing program prints ``NASLAT-ERROR <file> <why>``.
Lines not starting with ``NASLAT`` (runtime logging) are ignored by the parser.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["TimedFn", "interleaved", "budgeted_runs", "budgeted_warmups", "budgeted_rounds", "load_executorch", "main", "PREFIX", "END", "ERROR", "MIN_ROUNDS", "DEFAULT_BUDGET_MS"]

PREFIX = "NASLAT"
END = "NASLAT-END"
ERROR = "NASLAT-ERROR"

TimedFn = Callable[[], float]  # runs the program once, returns its duration in ms
MIN_ROUNDS = 5  # timed runs a budgeted program keeps however slow it is
# `nas profile`'s timing budget per program (ms): with 15 rounds, ops up to 10 ms (three
# quarters of the default space's ops on a desktop core) get every warm-up and round; the
# largest (~1 s, one 14 s) get two warm-ups and MIN_ROUNDS rounds, which halves the time
# spent running a whole space's ops (bench/bench_profile_budget.py).
DEFAULT_BUDGET_MS = 150.0


def budgeted_runs(runs: int, run_ms: float, budget_ms: float | None, rounds: int, floor: int) -> int:
    """How many of ``runs`` (warm-ups or rounds) a program whose run takes ``run_ms`` gets
    under a timing budget: all of them when its ``rounds`` runs fit in ``budget_ms`` (or
    without a budget), else the same share of them as the budget is of ``rounds`` runs,
    rounded up, never under ``floor`` nor over ``runs``."""
    if budget_ms is None or budget_ms <= 0 or run_ms * rounds <= budget_ms:
        return runs
    share = budget_ms / (run_ms * rounds)
    return min(runs, max(floor, math.ceil(runs * share)))


def budgeted_warmups(warmup: int, run_ms: float, budget_ms: float | None, rounds: int) -> int:
    """Warm-ups of a program under the budget: at least two where two were asked for (the
    first run may pay one-off costs, the second shows the warm speed)."""
    return budgeted_runs(warmup, run_ms, budget_ms, rounds, min(2, warmup))


def budgeted_rounds(rounds: int, run_ms: float, budget_ms: float | None, min_rounds: int) -> int:
    """Timed rounds of a program under the budget: at least ``min_rounds`` (or all)."""
    return budgeted_runs(rounds, run_ms, budget_ms, rounds, min(min_rounds, rounds))


def interleaved(
    timers: dict[str, TimedFn],
    warmup: int,
    rounds: int,
    seed: int = 0,
    on_round: Callable[[int], None] | None = None,
    budget_ms: float | None = None,
    min_rounds: int = MIN_ROUNDS,
) -> dict[str, list[float]]:
    """Time every program ``rounds`` times, shuffling the order each round.

    Args:
        timers: name -> function running the program once and returning ms.
        warmup: untimed runs of each program first (caches, allocator, thread pool).
        rounds: timed runs of each program.
        seed: shuffle seed (reproducible orders).
        on_round: called after each round with its index (progress).
        budget_ms: timed-run time each program aims at (ms); a program slower than
            ``budget_ms / rounds`` gets fewer rounds (at least ``min_rounds``) and fewer
            warm-ups (at least two), sized from its fastest warm-up (or, without
            warm-ups, its first timed run). None: every program ``warmup`` + ``rounds`` times.
        min_rounds: the fewest timed runs of a budgeted program.

    Returns:
        name -> the durations in ms, in round order (``rounds`` of them without a budget).
    """
    names = list(timers)
    planned = dict.fromkeys(names, rounds)
    for name in names:
        if warmup <= 0:
            continue
        fastest = timers[name]()  # the rounds are sized on the fastest warm-up
        for _ in range(budgeted_warmups(warmup, fastest, budget_ms, rounds) - 1):
            fastest = min(fastest, timers[name]())
        planned[name] = budgeted_rounds(rounds, fastest, budget_ms, min_rounds)
    samples: dict[str, list[float]] = {n: [] for n in names}
    rng = random.Random(seed)
    order = list(names)
    for index in range(rounds):
        order = [n for n in order if planned[n] > index]
        if not order:
            break
        rng.shuffle(order)
        for name in order:
            samples[name].append(timers[name]())
            if index == 0 and warmup <= 0:  # no warm-up to size it from: its first run
                planned[name] = budgeted_rounds(rounds, samples[name][0], budget_ms, min_rounds)
        if on_round is not None:
            on_round(index)
    return samples


def runtime_bindings() -> Any:
    """ExecuTorch's compiled runtime module (``_load_program``, ``Verification``, thread pool).

    Imported directly: its public wrappers (``executorch.runtime``,
    ``pybindings.portable_lib``) first import the whole ahead-of-time compiler
    (``executorch.exir``), 9.5 of the 11 s each runner start took here, once per chunk of
    ops a remote profile sends. torch comes first: the bindings link against it.
    """
    import torch  # noqa: F401

    try:
        from executorch.extension.pybindings import _C
    except ImportError:  # another packaging of the bindings: the public module
        from executorch.extension.pybindings import portable_lib as _C
    return _C


def set_threads(threads: int) -> None:
    """Size ExecuTorch's XNNPACK thread pool (0 keeps the runtime's default)."""
    if threads <= 0:
        return
    runtime_bindings()._unsafe_reset_threadpool(threads)


def load_executorch(path: str) -> TimedFn:
    """Load one ``.pte`` and return a timed runner with inputs of its declared shapes.

    The inputs are set once and only ``execute()`` is timed: ``Method.execute(inputs)``
    would also copy the inputs in and clone the outputs out (~5 ms for a 512x384 stem
    here), copies a layer inside a whole network never makes.
    """
    import torch

    bindings = runtime_bindings()
    program = bindings._load_program(path, program_verification=bindings.Verification.Minimal)
    raw = program.load_method("forward")
    meta = raw.method_meta()
    inputs = [torch.randn(*meta.input_tensor_meta(i).sizes()) for i in range(meta.num_inputs())]
    raw.set_inputs(inputs)

    def run() -> float:
        start = time.perf_counter_ns()
        raw.execute()
        return (time.perf_counter_ns() - start) / 1e6

    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time ExecuTorch programs, interleaved (nas latency runner).")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-ms", type=float, default=0.0, help="timed-run time per program; slower programs get fewer runs (0: none)")
    parser.add_argument("--min-rounds", type=int, default=MIN_ROUNDS)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    timers: dict[str, TimedFn] = {}
    for path in args.files:
        name = path.rsplit("/", 1)[-1]
        try:
            timers[name] = load_executorch(path)
        except Exception as exc:  # report and go on: one bad program must not hide the rest
            print(f"{ERROR} {name} {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", flush=True)
    samples = interleaved(timers, args.warmup, args.rounds, args.seed, budget_ms=args.budget_ms or None, min_rounds=args.min_rounds)
    for name, values in samples.items():
        print(f"{PREFIX} {name} {','.join(f'{v:.6f}' for v in values)}", flush=True)
    print(f"{END} {len(samples)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
