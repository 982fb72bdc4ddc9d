"""What a proxy training returns: the final metrics, every evaluation point, the model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nas.model.rcnn import DensePoseRCNN

__all__ = ["TrainResult"]


@dataclass(frozen=True)
class TrainResult:
    """The outcome of :func:`nas.train.train`.

    Attributes:
        gps_ap, gpsm_ap, iou_ap: the final AP of each mode, percent (-1 where undefined).
        ap50, ap75: GPS AP at GPS thresholds 0.5 and 0.75, percent.
        train_seconds: seconds spent training (evaluation not counted).
        steps: optimiser steps taken.
        metrics: the last evaluation point whole, in the order ``metrics.json`` and ``nas
            train --json`` give it: every AP/AR of the evaluator, ``ap50``/``ap75``,
            ``detections``, ``train_seconds`` and ``eval_seconds``, ``steps``, ``images``,
            ``progress`` (fraction of the budget) and ``loss`` (mean of the last 20 steps).
        history: every evaluation point, the last one included.
        model: the trained model (its weight average when ``ema_decay``: the weights
            that were evaluated); None when not kept.
    """

    gps_ap: float
    gpsm_ap: float
    iou_ap: float
    ap50: float
    ap75: float
    train_seconds: float
    steps: int
    metrics: dict[str, float]
    history: list[dict[str, float]] = field(default_factory=list)
    model: DensePoseRCNN | None = None

    @classmethod
    def from_history(cls, history: list[dict[str, float]], model: DensePoseRCNN | None) -> TrainResult:
        """The result whose final metrics are the last of ``history``."""
        final = dict(history[-1])
        return cls(gps_ap=final["gps_ap"], gpsm_ap=final["gpsm_ap"], iou_ap=final["iou_ap"], ap50=final["ap50"], ap75=final["ap75"],
                   train_seconds=final["train_seconds"], steps=int(final["steps"]), metrics=final, history=list(history), model=model)

    def to_dict(self) -> dict[str, float]:
        """The final metrics as ``nas train --json`` prints them."""
        return dict(self.metrics)
