"""Feature shape metadata passed from backbones to necks (detectron2's ``ShapeSpec``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ShapeSpec:
    """Channels and stride (input pixels per feature pixel) of one feature map."""

    channels: int
    stride: int
