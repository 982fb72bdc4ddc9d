"""MixConv block (MixNet): an inverted residual whose depthwise conv mixes kernel sizes.

Registered as ``mix``. The channels of the depthwise conv are split near-equally over
the kernel sizes (``k3.5.7``: a third each at 3x3, 5x5, 7x7).
"""

from __future__ import annotations

from torch import nn

from nas.blocks.inverted_residual import InvertedResidual
from nas.blocks.options import EXPAND_GROUPS, EXPANSION, KERNELS, PROJECT_GROUPS, SE, SearchForm
from nas.blocks.registry import register_block
from nas.errors import SpecError


@register_block(
    "mix",
    # several kernel sizes, searched as lists of them (each choice [3, 5], [3, 5, 7], ...)
    options=(KERNELS.with_(count=(2, 8), search=SearchForm("kernels", "intlist", 1, 11)), EXPANSION, SE, EXPAND_GROUPS, PROJECT_GROUPS),
    description="MixConv inverted residual (MixNet): depthwise channels split over several kernel sizes",
)
def build_mixconv(in_ch: int, out_ch: int, stride: int, **params: object) -> nn.Module:
    kernels = tuple(params.get("kernels", (3, 5)))  # type: ignore[arg-type]
    if len(kernels) < 2:
        raise SpecError(f"block 'mix' needs at least two kernel sizes (e.g. k3.5), got {kernels}; use block 'ir' for one")
    return InvertedResidual(in_ch, out_ch, stride, **{**params, "kernels": kernels})  # type: ignore[arg-type]
