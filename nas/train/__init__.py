"""Proxy training under a budget, with DensePose evaluation at chosen points."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nas._lazy import lazy_exports

if TYPE_CHECKING:
    from nas.train.budget import Budget, lr_factor
    from nas.train.config import TrainConfig
    from nas.train.evaluator import Evaluator
    from nas.train.loop import TrainingDiverged, train
    from nas.train.result import TrainResult
    from nas.train.session import resolve_device

# imported on first use: the training loop imports torch and the whole model
_EXPORTS = {
    **dict.fromkeys(("Budget", "lr_factor"), "nas.train.budget"),
    "TrainConfig": "nas.train.config",
    "Evaluator": "nas.train.evaluator",
    **dict.fromkeys(("TrainingDiverged", "train"), "nas.train.loop"),
    "TrainResult": "nas.train.result",
    "resolve_device": "nas.train.session",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
