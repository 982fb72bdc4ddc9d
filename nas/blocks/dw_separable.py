"""Depthwise-separable block (MobileNetV1 / MnasNet / MixNet first block), registered as ``dw``."""

from __future__ import annotations

from torch import Tensor, nn

from nas.blocks.inverted_residual import squeeze_excite_for
from nas.blocks.options import KERNELS, SE
from nas.blocks.registry import register_block
from nas.layers import ConvBnAct


class DepthwiseSeparable(nn.Module):
    """kxk depthwise conv-bn-act -> optional SE -> 1x1 pointwise conv-bn (linear).

    Residual when the stride is 1 and widths match, as in MnasNet and MixNet.
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int, kernels: tuple[int, ...] = (3,), se: float = 0.0, act: str = "relu") -> None:
        super().__init__()
        (kernel,) = kernels
        self.in_ch, self.out_ch, self.stride = in_ch, out_ch, stride
        self.depthwise = ConvBnAct(in_ch, in_ch, kernel, stride, groups=in_ch, act=act)
        self.se = squeeze_excite_for(in_ch, se, act)
        self.pointwise = ConvBnAct(in_ch, out_ch, 1, act=None)
        self.has_residual = stride == 1 and in_ch == out_ch

    def forward(self, x: Tensor) -> Tensor:
        y = self.pointwise(self.se(self.depthwise(x)))
        return x + y if self.has_residual else y


@register_block("dw", options=(KERNELS, SE), description="depthwise-separable: kxk depthwise + 1x1 pointwise")
def build_dw_separable(in_ch: int, out_ch: int, stride: int, **params: object) -> nn.Module:
    kernels = tuple(params.pop("kernels", (3,)))  # type: ignore[arg-type]
    if len(kernels) != 1:
        from nas.errors import SpecError

        raise SpecError(f"block 'dw' takes one kernel size, got {kernels}")
    return DepthwiseSeparable(in_ch, out_ch, stride, kernels=kernels, **params)  # type: ignore[arg-type]
