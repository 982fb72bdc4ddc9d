"""``none`` neck: one level, a 1x1 projection of one backbone feature (R-CNN C4 style)."""

from __future__ import annotations

from torch import Tensor

from nas.layers import ConvBnAct
from nas.model.necks.registry import Neck, register_neck
from nas.model.shapes import ShapeSpec
from nas.space.spec import NeckSpec


class SingleLevel(Neck):
    def __init__(self, in_shapes: dict[str, ShapeSpec], spec: NeckSpec) -> None:
        super().__init__(in_shapes, spec)
        self.level = spec.min_level
        self.project = ConvBnAct(in_shapes[f"c{self.level}"].channels, spec.channels, 1, act="relu")

    def forward(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        return {f"p{self.level}": self.project(features[f"c{self.level}"])}


@register_neck("none")
def build_single(in_shapes: dict[str, ShapeSpec], spec: NeckSpec) -> Neck:
    return SingleLevel(in_shapes, spec)
