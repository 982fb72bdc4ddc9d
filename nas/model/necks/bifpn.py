"""BiFPN (Tan et al., EfficientDet 2020): repeated top-down + bottom-up paths with
fast normalised weighted fusion and (by default) depthwise-separable convs."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nas.layers import ConvBnAct
from nas.model.necks.common import downsample, extra_levels, neck_conv, resize_to
from nas.model.necks.registry import Neck, register_neck, required_features
from nas.model.shapes import ShapeSpec
from nas.space.spec import NeckSpec

_EPS = 1e-4  # EfficientDet's epsilon in w_i / (eps + sum w)


class WeightedFusion(nn.Module):
    """``sum_i relu(w_i) x_i / (eps + sum_i relu(w_i))`` then activation and a 3x3 conv."""

    def __init__(self, inputs: int, channels: int, depthwise: bool) -> None:
        super().__init__()
        self.weights = nn.Parameter(torch.ones(inputs))
        self.conv = neck_conv(channels, channels, depthwise)

    def forward(self, xs: list[Tensor]) -> Tensor:
        w = F.relu(self.weights)
        # one (1, 1, 1) weight per input, not 0-dim scalars: the same values, and an int8
        # lowering (XNNPACK, ExecuTorch 1.5) fails on a quantized 0-dim tensor
        w = (w / (w.sum() + _EPS)).reshape(-1, 1, 1, 1)
        fused = sum(w[i] * x for i, x in enumerate(xs))
        return self.conv(F.silu(fused))  # type: ignore[arg-type]


class BiFPNLayer(nn.Module):
    """One bidirectional layer over ``n`` levels (finest first)."""

    def __init__(self, levels: int, channels: int, depthwise: bool) -> None:
        super().__init__()
        self.top_down = nn.ModuleList(WeightedFusion(2, channels, depthwise) for _ in range(levels - 1))
        # inner levels fuse input, top-down and bottom-up; the top level has no top-down node
        self.bottom_up = nn.ModuleList(WeightedFusion(3 if i < levels - 2 else 2, channels, depthwise) for i in range(levels - 1))

    def forward(self, xs: list[Tensor]) -> list[Tensor]:
        td = [xs[-1]]
        for fuse, x in zip(self.top_down, reversed(xs[:-1])):
            td.insert(0, fuse([x, resize_to(td[0], x)]))
        out = [td[0]]
        for i, fuse in enumerate(self.bottom_up):
            level = i + 1
            down = resize_to(downsample(out[-1]), xs[level])
            inputs = [xs[level], td[level], down] if level < len(xs) - 1 else [xs[level], down]
            out.append(fuse(inputs))
        return out


class BiFPN(Neck):
    def __init__(self, in_shapes: dict[str, ShapeSpec], spec: NeckSpec) -> None:
        super().__init__(in_shapes, spec)
        self.inputs = required_features(spec)
        self.project = nn.ModuleList(ConvBnAct(in_shapes[f].channels, spec.channels, 1, act=None) for f in self.inputs)
        self.extra = spec.max_level - min(spec.max_level, 5)
        self.layers = nn.ModuleList(BiFPNLayer(len(spec.levels), spec.channels, spec.depthwise) for _ in range(spec.repeats))

    def forward(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        xs = [proj(features[f]) for proj, f in zip(self.project, self.inputs)]
        xs += extra_levels(xs[-1], self.extra)
        for layer in self.layers:
            xs = layer(xs)
        return {f"p{lvl}": x for lvl, x in zip(self.spec.levels, xs)}


@register_neck("bifpn")
def build_bifpn(in_shapes: dict[str, ShapeSpec], spec: NeckSpec) -> Neck:
    return BiFPN(in_shapes, spec)
