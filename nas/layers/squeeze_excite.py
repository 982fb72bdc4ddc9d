"""Squeeze-and-excitation (MobileNetV3 / MixNet style)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from nas.layers.activations import make_activation
from nas.layers.conv_bn_act import make_divisible


class SqueezeExcite(nn.Module):
    """Channel gating: global pool, 1x1 reduce, activation, 1x1 expand, gate.

    Args:
        channels: channels gated (the expanded width inside a block).
        ratio: reduced width as a fraction of ``channels``, rounded to a multiple of 8
            (MobileNetV3's ``_make_divisible(expanded // 4, 8)`` for ``ratio=0.25``).
        gate: ``"hsigmoid"`` (MobileNetV3) or ``"sigmoid"``.
    """

    def __init__(self, channels: int, ratio: float, act: str = "relu", gate: str = "sigmoid") -> None:
        super().__init__()
        self.reduced = make_divisible(channels * ratio, 8)
        self.reduce = nn.Conv2d(channels, self.reduced, 1, bias=True)
        self.act = make_activation(act)
        self.expand = nn.Conv2d(self.reduced, channels, 1, bias=True)
        self.gate = nn.Hardsigmoid() if gate == "hsigmoid" else nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        scale = torch.mean(x, dim=(2, 3), keepdim=True)
        scale = self.gate(self.expand(self.act(self.reduce(scale))))
        return x * scale
