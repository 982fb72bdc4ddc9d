"""PANet neck (Liu et al. 2018): FPN followed by a bottom-up path augmentation."""

from __future__ import annotations

from torch import Tensor, nn

from nas.model.necks.common import extra_levels, neck_conv, resize_to
from nas.model.necks.fpn import FPN
from nas.model.necks.registry import Neck, register_neck
from nas.model.shapes import ShapeSpec
from nas.space.spec import NeckSpec


class PANet(FPN):
    """``N_min = P_min``; ``N_{l+1} = conv3x3(P_{l+1} + conv3x3_s2(N_l))``."""

    def __init__(self, in_shapes: dict[str, ShapeSpec], spec: NeckSpec) -> None:
        super().__init__(in_shapes, spec)
        steps = len(self.inputs) - 1
        self.down = nn.ModuleList(neck_conv(spec.channels, spec.channels, spec.depthwise, stride=2, act="relu") for _ in range(steps))
        self.fuse = nn.ModuleList(neck_conv(spec.channels, spec.channels, spec.depthwise, act="relu") for _ in range(steps))

    def forward(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        pyramid = self.top_down(features)
        out = [pyramid[0]]
        for down, fuse, p in zip(self.down, self.fuse, pyramid[1:]):
            out.append(fuse(p + resize_to(down(out[-1]), p)))
        out += extra_levels(out[-1], self.extra)
        return {f"p{lvl}": x for lvl, x in zip(self.spec.levels, out)}


@register_neck("panet")
def build_panet(in_shapes: dict[str, ShapeSpec], spec: NeckSpec) -> Neck:
    return PANet(in_shapes, spec)
