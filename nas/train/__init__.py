"""Proxy training under a budget, with DensePose evaluation at chosen points."""

from __future__ import annotations

from nas.train.budget import Budget, lr_factor
from nas.train.config import TrainConfig
from nas.train.loop import TrainResult, TrainingDiverged, resolve_device, train

__all__ = ["Budget", "TrainConfig", "TrainResult", "TrainingDiverged", "lr_factor", "resolve_device", "train"]
