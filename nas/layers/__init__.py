"""Layers shared by the blocks: conv-bn-act, activations, squeeze-excite, mixed depthwise conv."""

from __future__ import annotations

from nas.layers.activations import ACTIVATIONS, make_activation
from nas.layers.conv_bn_act import ConvBnAct, make_divisible
from nas.layers.mixed_conv import MixedDepthwiseConv, split_channels
from nas.layers.squeeze_excite import SqueezeExcite

__all__ = [
    "ACTIVATIONS",
    "ConvBnAct",
    "MixedDepthwiseConv",
    "SqueezeExcite",
    "make_activation",
    "make_divisible",
    "split_channels",
]
