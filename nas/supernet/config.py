"""How a supernet is trained (``nas supernet train``)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from nas.errors import SupernetError
from nas.train.config import run_input_problem

__all__ = ["SupernetTrainConfig"]


@dataclass(frozen=True)
class SupernetTrainConfig:
    """Settings of one supernet training.

    Attributes:
        steps: optimiser steps.
        scheme: which sub-networks a step trains, a name of
            :data:`nas.supernet.sampling.SCHEMES` (``uniform`` or ``sandwich``).
        batch_size: images per sub-network forward.
        input_size: ``(H, W)`` images are fitted into; None: the space's proxy input.
        lr: peak AdamW learning rate, reached after ``warmup`` and decayed by a cosine,
            as the proxy's (:func:`nas.train.budget.lr_factor`).
        weight_decay: AdamW weight decay.
        warmup: fraction of the steps spent warming the learning rate up.
        grad_clip: max gradient norm of a step (all its sub-networks together).
        seed: seeds the weights, the sub-networks drawn, the image order and augmentation.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
        amp: mixed precision on CUDA.
        threads: torch CPU threads (None: torch's default).
        mask_size: side of the coarse-mask targets.
        checkpoint_every: steps between two checkpoints (and the last step).
    """

    steps: int
    scheme: str = "uniform"
    batch_size: int = 4
    input_size: tuple[int, int] | None = None
    lr: float = 3e-3
    weight_decay: float = 1e-4
    warmup: float = 0.02
    grad_clip: float = 10.0
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    threads: int | None = None
    mask_size: int = 64
    checkpoint_every: int = 250

    def __post_init__(self) -> None:
        problems = [f"{name} must be at least 1, got {value}" for name, value in
                    (("--steps", self.steps), ("--batch-size", self.batch_size), ("--threads", self.threads),
                     ("--checkpoint-every", self.checkpoint_every)) if value is not None and value < 1]
        if self.input_size is not None and (problem := run_input_problem(tuple(self.input_size), "--input")):
            problems.append(problem)
        if not 0 < self.lr < math.inf:
            problems.append(f"--lr must be positive and finite, got {self.lr}")
        if not 0 <= self.warmup < 1:
            problems.append(f"warmup is a fraction of the steps in [0, 1), got {self.warmup}")
        if problems:
            raise SupernetError("; ".join(problems))

    # what a resumed training may change without changing what it computes (not the steps:
    # the learning-rate schedule spans them)
    RESUMABLE_CHANGES = ("device", "threads", "checkpoint_every")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.input_size is not None:
            data["input_size"] = list(self.input_size)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SupernetTrainConfig:
        values = dict(data)
        if values.get("input_size") is not None:
            values["input_size"] = tuple(values["input_size"])
        return cls(**values)

    def differences(self, other: SupernetTrainConfig) -> list[str]:
        """Settings that differ from ``other`` and would change the training's result."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [f"{k} {theirs[k]} -> {mine[k]}" for k in mine if k not in self.RESUMABLE_CHANGES and mine[k] != theirs[k]]
