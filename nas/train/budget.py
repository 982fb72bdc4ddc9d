"""Training budgets (steps, epochs or seconds) and the learning-rate schedule over them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from nas.errors import NasError

__all__ = ["Budget", "lr_factor"]


class BudgetError(NasError, ValueError):
    """An invalid training budget."""


@dataclass(frozen=True)
class Budget:
    """Exactly one of ``steps``, ``epochs`` or ``seconds`` bounds the training."""

    steps: int | None = None
    epochs: float | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        given = [n for n in ("steps", "epochs", "seconds") if getattr(self, n) is not None]
        if len(given) != 1:
            raise BudgetError(f"give exactly one budget (--budget-steps, --budget-epochs or --budget-seconds), got {given or 'none'}")
        value = getattr(self, given[0])
        if not 0 < value < math.inf:
            raise BudgetError(f"budget {given[0]} must be positive and finite, got {value}")

    @property
    def kind(self) -> str:
        return "steps" if self.steps is not None else "epochs" if self.epochs is not None else "seconds"

    def total_steps(self, steps_per_epoch: int) -> int | None:
        """Steps the budget allows, or None for a time budget."""
        if self.steps is not None:
            return self.steps
        if self.epochs is not None:
            return max(1, math.ceil(self.epochs * steps_per_epoch))
        return None

    def progress(self, step: int, elapsed: float, steps_per_epoch: int) -> float:
        """Fraction of the budget used, in [0, 1]."""
        total = self.total_steps(steps_per_epoch)
        if total is not None:
            return min(1.0, step / total)
        return min(1.0, elapsed / float(self.seconds))  # type: ignore[arg-type]

    def describe(self) -> str:
        value = getattr(self, self.kind)
        return f"{value:g} {self.kind}"


def lr_factor(progress: float, warmup: float) -> float:
    """Linear warm-up over the first ``warmup`` fraction, then cosine decay to 0."""
    if warmup > 0 and progress < warmup:
        return max(progress / warmup, 1e-3)
    span = max(1e-9, 1.0 - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (progress - warmup) / span)))
