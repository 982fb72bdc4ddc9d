"""The training state a checkpoint carries, so a resumed run continues exactly."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TrainState", "RECENT_LOSSES"]

# Steps whose mean loss the progress bar and the metrics show.
RECENT_LOSSES = 20


@dataclass
class TrainState:
    """Where a training run stands (plain data: saved in the checkpoint as is).

    Attributes:
        step: optimiser steps taken.
        epoch: passes over the training set begun (0-based).
        position: images of this epoch's order already used.
        elapsed: seconds of training so far (evaluation not counted).
        history: metrics of every evaluation point so far.
        recent_losses: the last :data:`RECENT_LOSSES` step losses.
    """

    step: int = 0
    epoch: int = 0
    position: int = 0
    elapsed: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)
    recent_losses: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_LOSSES))

    @property
    def mean_loss(self) -> float:
        """Mean of the recent step losses (0 before the first step)."""
        return sum(self.recent_losses) / max(1, len(self.recent_losses))

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint's fields (the keys checkpoints have always had)."""
        return {"step": self.step, "epoch": self.epoch, "position": self.position, "elapsed": self.elapsed,
                "history": self.history, "recent_losses": list(self.recent_losses)}

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> TrainState:
        """The state stored by :meth:`to_dict` (extra checkpoint fields ignored)."""
        return cls(step=saved["step"], epoch=saved["epoch"], position=saved["position"], elapsed=saved["elapsed"],
                   history=list(saved["history"]), recent_losses=deque(saved["recent_losses"], maxlen=RECENT_LOSSES))
