"""Elastic ``none`` neck: a 1x1 conv-bn-relu projection of one backbone feature."""

from __future__ import annotations

from torch import Tensor, nn

from nas.space.spec import NeckSpec
from nas.supernet.conv_bn import ElasticConvBnAct, prefixed
from nas.supernet.elastic import State
from nas.supernet.necks.registry import ElasticNeck, register_elastic_neck


@register_elastic_neck("none")
class ElasticSingleLevel(ElasticNeck):
    def __init__(self, specs: tuple[NeckSpec, ...], in_widths: dict[str, int]) -> None:
        super().__init__(specs, in_widths)
        self.project = nn.ModuleDict({f: ElasticConvBnAct(self.in_widths[f], self.channels, 1) for f in self.features})

    def forward(self, features: dict[str, Tensor], spec: NeckSpec) -> dict[str, Tensor]:
        level = spec.min_level
        return {f"p{level}": self.project[f"c{level}"](features[f"c{level}"], spec.channels, act="relu")}

    def slice_state(self, spec: NeckSpec, in_channels: dict[str, int]) -> State:
        feature = f"c{spec.min_level}"
        return prefixed("project", self.project[feature].slice_state(in_channels[feature], spec.channels))
