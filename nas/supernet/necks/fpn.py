"""Elastic FPN: laterals and output convs held per backbone level, so a pyramid of any
levels the space offers uses the weights of its own levels."""

from __future__ import annotations

from torch import Tensor, nn

from nas.model.necks import required_features
from nas.model.necks.common import extra_levels, resize_to
from nas.space.spec import NeckSpec
from nas.supernet.conv_bn import ElasticConvBnAct, prefixed
from nas.supernet.elastic import State
from nas.supernet.necks.conv import ElasticNeckConv
from nas.supernet.necks.registry import ElasticNeck, register_elastic_neck


def extra_count(spec: NeckSpec) -> int:
    """Levels above P5, max-pooled from the top one."""
    return spec.max_level - min(spec.max_level, 5)


@register_elastic_neck("fpn")
class ElasticFPN(ElasticNeck):
    """``lateral[c<l>]`` 1x1 convs, top-down sums, ``output[c<l>]`` 3x3 convs."""

    def __init__(self, specs: tuple[NeckSpec, ...], in_widths: dict[str, int]) -> None:
        super().__init__(specs, in_widths)
        self.lateral = nn.ModuleDict({f: ElasticConvBnAct(self.in_widths[f], self.channels, 1) for f in self.features})
        self.output = nn.ModuleDict({f: ElasticNeckConv(self.channels, self.depthwise) for f in self.features})

    def top_down(self, features: dict[str, Tensor], spec: NeckSpec) -> list[Tensor]:
        inputs = required_features(spec)
        laterals = [self.lateral[f](features[f], spec.channels) for f in inputs]
        merged = [laterals[-1]]
        for lateral in reversed(laterals[:-1]):
            merged.insert(0, lateral + resize_to(merged[0], lateral))
        return [self.output[f](x, spec.channels, spec.depthwise) for f, x in zip(inputs, merged)]

    def forward(self, features: dict[str, Tensor], spec: NeckSpec) -> dict[str, Tensor]:
        levels = self.top_down(features, spec)
        levels += extra_levels(levels[-1], extra_count(spec))
        return {f"p{lvl}": x for lvl, x in zip(spec.levels, levels)}

    def slice_state(self, spec: NeckSpec, in_channels: dict[str, int]) -> State:
        state: State = {}
        for i, f in enumerate(required_features(spec)):
            state.update(prefixed(f"lateral.{i}", self.lateral[f].slice_state(in_channels[f], spec.channels)))
            state.update(prefixed(f"output.{i}", self.output[f].slice_state(spec.channels, spec.channels, spec.depthwise)))
        return state
