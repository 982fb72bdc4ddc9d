"""What Ray gives the trials: how many run at once on the nodes, and the device a trial trains on.

Ray places a trial where its ``--cpus-per-trial`` CPUs and ``--gpus-per-trial`` GPU share
are free; ``--gpus-per-trial 0.25`` packs four trials on each GPU, provided the node also
has four trials' CPUs. A trial granted a GPU share sees only that GPU (Ray sets
``CUDA_VISIBLE_DEVICES`` to its id, so it is ``cuda:0`` inside the trial); a trial granted
none keeps the node's ``CUDA_VISIBLE_DEVICES`` as it is (Ray 2.60 no longer empties it for a
zero request, ray-project/ray#54868), so it must not pick a GPU by itself: nothing would
account for its use there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nas.errors import SearchError

__all__ = ["Packing", "packing", "trial_device", "check_trial_device"]

# Ray keeps resource amounts to 4 decimal places: 1 / 0.3 GPU is 3 trials, not 3.33
_RAY_PRECISION = 1e-4


def _fit(available: float, per_trial: float) -> int:
    """Trials that ``available`` units hold at ``per_trial`` (> 0) each."""
    return int(math.floor(available / per_trial + _RAY_PRECISION))


@dataclass(frozen=True)
class Packing:
    """How many trials the nodes hold at once, and what limits them.

    Attributes:
        at_once: trials running at the same time (summed over the nodes).
        by_gpus: what the GPUs alone would hold (None: trials ask for no GPU).
        nodes, cpus, gpus: alive nodes and their CPU and GPU totals.
        cpus_per_trial, gpus_per_trial: one trial's request.
        fill_cpus: ``--cpus-per-trial`` that would fill every GPU (None: the GPUs are full,
            or trials ask for none).
    """

    at_once: int
    by_gpus: int | None
    nodes: int
    cpus: float
    gpus: float
    cpus_per_trial: float
    gpus_per_trial: float
    fill_cpus: float | None

    def note(self) -> str:
        """One line for the driver's console."""
        line = (f"resources: {self.at_once} trial(s) at once on {self.nodes} node(s) ({self.cpus:g} CPU, {self.gpus:g} GPU; "
                f"a trial takes {self.cpus_per_trial:g} CPU and {self.gpus_per_trial:g} GPU)")
        if self.fill_cpus is not None:
            line += (f"; the CPUs limit it: the GPUs would hold {self.by_gpus}, "
                     f"--cpus-per-trial {self.fill_cpus:g} would fill them")
        elif self.gpus_per_trial == 0 and self.gpus > 0:
            line += "; trials train on CPU and the GPUs stay unused (--gpus-per-trial 0.25 packs four trials on each)"
        return line


def packing(nodes: Sequence[Mapping[str, float]], cpus_per_trial: float, gpus_per_trial: float) -> Packing:
    """How many trials of the given request ``nodes`` (each node's Ray resources, e.g.
    ``{"CPU": 16, "GPU": 1}``) run at once."""
    at_once = by_gpus = 0
    fill: list[float] = []
    for node in nodes:
        cpus, gpus = float(node.get("CPU", 0.0)), float(node.get("GPU", 0.0))
        on_cpus = _fit(cpus, cpus_per_trial)
        if gpus_per_trial == 0:
            at_once += on_cpus
            continue
        on_gpus = _fit(gpus, gpus_per_trial)
        at_once += min(on_cpus, on_gpus)
        by_gpus += on_gpus
        if on_cpus < on_gpus:
            # CPUs a trial may take so that this node's GPUs are full, rounded down to Ray's precision
            fill.append(math.floor(cpus / on_gpus / _RAY_PRECISION) * _RAY_PRECISION)
    return Packing(at_once=at_once, by_gpus=by_gpus if gpus_per_trial > 0 else None, nodes=len(nodes),
                   cpus=sum(float(n.get("CPU", 0.0)) for n in nodes), gpus=sum(float(n.get("GPU", 0.0)) for n in nodes),
                   cpus_per_trial=cpus_per_trial, gpus_per_trial=gpus_per_trial,
                   fill_cpus=round(min(fill), 4) if fill and min(fill) > 0 else None)


def check_trial_device(device: str, gpus_per_trial: float) -> None:
    """Refuse a proxy device that contradicts the trial's GPU share (before anything runs)."""
    if device.startswith("cuda") and gpus_per_trial == 0:
        raise SearchError(f"--device {device} needs --gpus-per-trial > 0: Ray gives a trial a GPU only when it asks for a "
                          "share (e.g. --gpus-per-trial 1, or 0.25 to pack four trials on a GPU); or use --device auto")
    if device == "cpu" and gpus_per_trial > 0:
        raise SearchError(f"--device cpu with --gpus-per-trial {gpus_per_trial:g}: the trials would hold GPU shares they never "
                          "use; use --device auto (or cuda), or --gpus-per-trial 0")


def trial_device(requested: str, gpu_ids: Sequence[object], cuda_available: bool) -> tuple[str, str]:
    """The device a trial trains on and why, from the proxy's ``requested`` device, the GPUs
    Ray granted the trial (``ray.get_gpu_ids()``) and whether torch can use CUDA.

    ``auto`` is CUDA only with a granted GPU that torch can use; otherwise the CPU (a node
    whose GPU torch cannot drive, or a test's declared fake GPU, trains on CPU). An explicit
    device is kept (``--device cuda`` without CUDA then fails in the trial with the reason)."""
    granted = f"Ray granted GPU {', '.join(str(i) for i in gpu_ids)}" if gpu_ids else "Ray granted no GPU"
    if requested != "auto":
        return requested, f"asked for; {granted}"
    if not gpu_ids:
        return "cpu", granted
    if not cuda_available:
        return "cpu", f"{granted} but torch cannot use CUDA here"
    return "cuda", granted
