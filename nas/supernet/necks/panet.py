"""Elastic PANet: the elastic FPN plus bottom-up convs held per destination level."""

from __future__ import annotations

from torch import Tensor, nn

from nas.model.necks import required_features
from nas.model.necks.common import extra_levels, resize_to
from nas.space.spec import NeckSpec
from nas.supernet.conv_bn import prefixed
from nas.supernet.elastic import State
from nas.supernet.necks.conv import ElasticNeckConv
from nas.supernet.necks.fpn import ElasticFPN, extra_count
from nas.supernet.necks.registry import register_elastic_neck


@register_elastic_neck("panet")
class ElasticPANet(ElasticFPN):
    """``down[c<l>]`` (3x3/2 from the level below) and ``fuse[c<l>]`` for every level
    that can have one below it."""

    def __init__(self, specs: tuple[NeckSpec, ...], in_widths: dict[str, int]) -> None:
        super().__init__(specs, in_widths)
        upper = {f for s in specs for f in required_features(s)[1:]}
        self.down = nn.ModuleDict({f: ElasticNeckConv(self.channels, self.depthwise) for f in self.features if f in upper})
        self.fuse = nn.ModuleDict({f: ElasticNeckConv(self.channels, self.depthwise) for f in self.features if f in upper})

    def forward(self, features: dict[str, Tensor], spec: NeckSpec) -> dict[str, Tensor]:
        pyramid = self.top_down(features, spec)
        out = [pyramid[0]]
        for f, p in zip(required_features(spec)[1:], pyramid[1:]):
            down = self.down[f](out[-1], spec.channels, spec.depthwise, stride=2, act="relu")
            out.append(self.fuse[f](p + resize_to(down, p), spec.channels, spec.depthwise, act="relu"))
        out += extra_levels(out[-1], extra_count(spec))
        return {f"p{lvl}": x for lvl, x in zip(spec.levels, out)}

    def slice_state(self, spec: NeckSpec, in_channels: dict[str, int]) -> State:
        state = super().slice_state(spec, in_channels)
        ch, dw = spec.channels, spec.depthwise
        for i, f in enumerate(required_features(spec)[1:]):
            state.update(prefixed(f"down.{i}", self.down[f].slice_state(ch, ch, dw)))
            state.update(prefixed(f"fuse.{i}", self.fuse[f].slice_state(ch, ch, dw)))
        return state
