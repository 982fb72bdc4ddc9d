"""Layers shared by the necks: 3x3 convs (plain or depthwise-separable) and resizing."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from nas.layers import ConvBnAct


def neck_conv(in_ch: int, out_ch: int, depthwise: bool, stride: int = 1, act: str | None = None) -> nn.Module:
    """A 3x3 conv-bn(-act); depthwise-separable (3x3 depthwise, 1x1 pointwise) when asked."""
    if depthwise:
        return nn.Sequential(
            nn.Conv2d(in_ch, in_ch, 3, stride, 1, groups=in_ch, bias=False),
            ConvBnAct(in_ch, out_ch, 1, act=act),
        )
    return ConvBnAct(in_ch, out_ch, 3, stride, act=act)


def resize_to(x: Tensor, like: Tensor) -> Tensor:
    """Nearest resize of ``x`` to the spatial size of ``like`` (no-op when equal)."""
    if x.shape[-2:] == like.shape[-2:]:
        return x
    return F.interpolate(x, size=like.shape[-2:], mode="nearest")


def downsample(x: Tensor) -> Tensor:
    """Halve the resolution with a 3x3/2 max-pool (ceil of H/2, W/2)."""
    return F.max_pool2d(x, 3, 2, 1)


def extra_levels(top: Tensor, count: int) -> list[Tensor]:
    """Levels above P5, each a 3x3/2 max-pool of the one below (detectron2's LastLevelMaxPool idea)."""
    out = []
    for _ in range(count):
        top = downsample(top)
        out.append(top)
    return out
