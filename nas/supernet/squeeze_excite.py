"""The elastic counterpart of :class:`nas.layers.SqueezeExcite`, at any gated width and ratio."""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import Tensor, nn

from nas.blocks.inverted_residual import squeeze_excite_for
from nas.layers import make_divisible
from nas.supernet.conv_bn import prefixed
from nas.supernet.elastic import ElasticConv2d, State

__all__ = ["ElasticSqueezeExcite", "se_width"]


def se_width(channels: int, ratio: float) -> int:
    """Reduced width of an SE gating ``channels`` at ``ratio`` (SqueezeExcite's rounding)."""
    return make_divisible(channels * ratio, 8)


@lru_cache(maxsize=None)
def _gate_and_act(ratio: float, block_act: str) -> tuple[nn.Module, nn.Module]:
    # the blocks' own rule picks the inner activation and the gate from the block's
    # activation; a tiny stand-alone SE is built once per setting to read them off
    se = squeeze_excite_for(8, ratio, block_act)
    assert hasattr(se, "gate"), "squeeze_excite_for gave no SE for a positive ratio"
    return se.gate, se.act


class ElasticSqueezeExcite(nn.Module):
    """Global pool, 1x1 reduce, activation, 1x1 expand, gate; the reduce width follows
    the gated width and the ratio, slicing the largest."""

    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.reduce = ElasticConv2d(channels, reduced, 1, bias=True)
        self.expand = ElasticConv2d(reduced, channels, 1, bias=True)

    def forward(self, x: Tensor, ratio: float, block_act: str) -> Tensor:
        if ratio <= 0:
            return x
        gate, act = _gate_and_act(ratio, block_act)
        channels = x.shape[1]
        scale = torch.mean(x, dim=(2, 3), keepdim=True)
        scale = gate(self.expand(act(self.reduce(scale, se_width(channels, ratio))), channels))
        return x * scale

    def slice_state(self, channels: int, ratio: float) -> State:
        if ratio <= 0:
            return {}
        reduced = se_width(channels, ratio)
        return {**prefixed("reduce", self.reduce.slice_state(channels, reduced, 1)),
                **prefixed("expand", self.expand.slice_state(reduced, channels, 1))}
