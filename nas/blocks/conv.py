"""Plain conv-bn-act block (stems of references, MobileNet's last 1x1 conv), registered as ``conv``."""

from __future__ import annotations

from torch import nn

from nas.blocks.options import KERNELS
from nas.blocks.registry import register_block
from nas.errors import SpecError
from nas.layers import ConvBnAct


@register_block("conv", options=(KERNELS,), reference_only=True, description="conv-bn-act (reference architectures)")
def build_conv(in_ch: int, out_ch: int, stride: int, **params: object) -> nn.Module:
    kernels = tuple(params.get("kernels", (3,)))  # type: ignore[arg-type]
    if len(kernels) != 1:
        raise SpecError(f"block 'conv' takes one kernel size, got {kernels}")
    block = ConvBnAct(in_ch, out_ch, kernels[0], stride, act=str(params.get("act", "relu")))
    block.has_residual = False  # type: ignore[attr-defined]
    return block
