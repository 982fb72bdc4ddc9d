"""Feature Pyramid Network (Lin et al. 2017): lateral 1x1 convs, top-down sum, 3x3 output convs."""

from __future__ import annotations

from torch import Tensor, nn

from nas.layers import ConvBnAct
from nas.model.necks.common import extra_levels, neck_conv, resize_to
from nas.model.necks.registry import Neck, register_neck, required_features
from nas.model.shapes import ShapeSpec
from nas.space.spec import NeckSpec


class FPN(Neck):
    """Top-down pyramid over levels ``min_level..min(max_level, 5)``, then max-pooled
    extra levels up to ``max_level``."""

    def __init__(self, in_shapes: dict[str, ShapeSpec], spec: NeckSpec) -> None:
        super().__init__(in_shapes, spec)
        self.inputs = required_features(spec)
        self.lateral = nn.ModuleList(ConvBnAct(in_shapes[f].channels, spec.channels, 1, act=None) for f in self.inputs)
        self.output = nn.ModuleList(neck_conv(spec.channels, spec.channels, spec.depthwise) for _ in self.inputs)
        self.extra = spec.max_level - min(spec.max_level, 5)

    def top_down(self, features: dict[str, Tensor]) -> list[Tensor]:
        """Pyramid levels from the finest to the coarsest backbone level."""
        laterals = [conv(features[f]) for conv, f in zip(self.lateral, self.inputs)]
        merged = [laterals[-1]]
        for lateral in reversed(laterals[:-1]):
            merged.insert(0, lateral + resize_to(merged[0], lateral))
        return [conv(x) for conv, x in zip(self.output, merged)]

    def forward(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        levels = self.top_down(features)
        levels += extra_levels(levels[-1], self.extra)
        return {f"p{lvl}": x for lvl, x in zip(self.spec.levels, levels)}


@register_neck("fpn")
def build_fpn(in_shapes: dict[str, ShapeSpec], spec: NeckSpec) -> Neck:
    return FPN(in_shapes, spec)
