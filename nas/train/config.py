"""Proxy training settings."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from nas.errors import NasError
from nas.io import excerpt
from nas.train.budget import Budget

__all__ = ["TrainConfig", "TrainConfigError", "RUN_INPUT_RANGE", "run_input_problem", "SETTINGS_BEFORE_THEY_EXISTED", "as_recorded_now"]

_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")

# Input sizes a network may be run at (nas arch info --input, the proxy's input;
# kept here, away from torch, because the CLI imports this module at every start), pixels.
RUN_INPUT_RANGE = (16, 8192)


def run_input_problem(size: tuple[int, ...] | list[int], option: str = "--proxy-input") -> str | None:
    """What is wrong with ``size`` as the input ``H W`` to run at, given as ``option``, or None."""
    low, high = RUN_INPUT_RANGE
    if len(size) == 2 and all(low <= int(v) <= high for v in size):
        return None
    return f"{option} {' '.join(map(str, size))}: height and width must be in {low}..{high}"


# What a setting added after a record was written had been before it existed (the
# behaviour the record was made with): records without the key read as this.
SETTINGS_BEFORE_THEY_EXISTED: dict[str, Any] = {"ema_decay": 0.0}


def as_recorded_now(config: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded training config (``TrainConfig.to_dict()``) with every setting it predates
    filled in with its neutral value, so records of different ages compare."""
    return {**SETTINGS_BEFORE_THEY_EXISTED, **config}


class TrainConfigError(NasError, ValueError):
    """A proxy setting out of its range."""


@dataclass(frozen=True)
class TrainConfig:
    """How a candidate is trained and evaluated by the proxy.

    Attributes:
        budget: steps, epochs or seconds of training.
        input_size: ``(H, W)`` images are fitted into (the space's proxy input).
        batch_size: images per step.
        lr: peak AdamW learning rate (training starts from scratch: no weights are downloaded).
        weight_decay: AdamW weight decay.
        warmup: fraction of the budget spent warming the learning rate up.
        evals: evaluation points spread evenly over the budget (the last at its end);
            each reports metrics so a scheduler can stop a bad trial early.
        val_images: evaluate on the first N validation images (None: all).
        seed: seeds torch (weights, sampling order, augmentation).
        device: ``cpu``, ``cuda`` or ``auto``.
        amp: mixed precision on CUDA.
        mask_size: side of the coarse-mask targets read from the 256 box frame.
        grad_clip: max gradient norm.
        threads: torch CPU threads (None: torch's default, one per core). Set it to the
            CPUs a trial owns: oversubscribed threads slow training several-fold.
        precise_bn_batches: before each evaluation, re-estimate the BatchNorm statistics
            over this many training batches (0: keep the running averages); see
            :mod:`nas.train.precise_bn`. Off by default: with 16 batches the proxy's
            seed-to-seed spread stayed as wide (densemobile GPS AP 9.1 / 21.4 for seeds
            0 / 1, against 11.6 / 20.4 without).
        ema_decay: evaluate (and return) an exponential moving average of the weights
            with this decay per step instead of the last weights (0: off, the default); see
            :mod:`nas.train.ema`.
    """

    budget: Budget = field(default_factory=lambda: Budget(steps=150))
    input_size: tuple[int, int] = (256, 192)
    batch_size: int = 4
    # 3e-3, not 2e-3: densemobile on the default proxy, seeds 0/1/2, scored GPS AP 12.8 / 10.2 /
    # 22.4 at 2e-3 and 18.6 / 16.5 / 16.6 at 3e-3 (1e-3: 4.2 / 5.5); the short budget
    # needs the larger step to get past the stage where runs diverge from each other.
    lr: float = 3e-3
    weight_decay: float = 1e-4
    warmup: float = 0.1
    evals: int = 2
    val_images: int | None = None
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    mask_size: int = 64
    grad_clip: float = 10.0
    threads: int | None = None
    precise_bn_batches: int = 0
    # 0 (off): on the 12 fidelity architectures of the 2,000-image set, trained on one machine at
    # 1 and at 2 threads, an average of decay 0.98 changed the scores by a median 1.7 GPS AP
    # points (ranking tau 0.79) against 2.3 (0.73) for the last weights, and ranked the 10x
    # trainings no better (Kendall tau 0.36 and 0.39 either way): too little to change the proxy that
    # every recorded search and benchmark used (bench_proxy.py variants --images 2000).
    ema_decay: float = 0.0

    def __post_init__(self) -> None:
        input_problem = run_input_problem(tuple(self.input_size))
        problems = [input_problem] if input_problem else []
        problems += [f"{name} must be at least 1, got {value}" for name, value in
                     (("--batch-size", self.batch_size), ("--evals", self.evals), ("--val-images", self.val_images),
                      ("--threads", self.threads)) if value is not None and value < 1]
        if not 0 < self.lr < math.inf:
            problems.append(f"--lr must be positive and finite, got {self.lr}")
        if not 0 <= self.ema_decay < 1:
            problems.append(f"--ema-decay is a decay per step in [0, 1) (0: off), got {self.ema_decay}")
        if not 0 <= self.warmup < 1:
            problems.append(f"warmup is a fraction of the budget in [0, 1), got {self.warmup}")
        if not _DEVICE.fullmatch(self.device):
            # checked here, on the driver: a search would otherwise fail each trial on its worker
            problems.append(f"unknown device {excerpt(self.device)}; use cpu, cuda, cuda:N or auto")
        if problems:
            raise TrainConfigError("; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["input_size"] = list(self.input_size)
        return data
