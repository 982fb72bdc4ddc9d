"""ResNet bottleneck (ResNet-50 v1.5: stride on the 3x3), registered as ``res``."""

from __future__ import annotations

from torch import Tensor, nn

from nas.blocks.options import EXPANSION, KERNELS
from nas.blocks.registry import register_block
from nas.layers import ConvBnAct, make_activation


class Bottleneck(nn.Module):
    """1x1 reduce -> 3x3 (stride) -> 1x1 expand, plus identity or 1x1 projection shortcut.

    ``expansion`` is the inner width as a fraction of the output width (0.25 in ResNet-50).
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int, expansion: float = 0.25, kernels: tuple[int, ...] = (3,), act: str = "relu") -> None:
        super().__init__()
        mid = int(round(out_ch * expansion))
        (kernel,) = kernels
        self.in_ch, self.out_ch, self.stride = in_ch, out_ch, stride
        self.body = nn.Sequential(
            ConvBnAct(in_ch, mid, 1, act=act),
            ConvBnAct(mid, mid, kernel, stride, act=act),
            ConvBnAct(mid, out_ch, 1, act=None),
        )
        self.has_residual = True
        self.shortcut = ConvBnAct(in_ch, out_ch, 1, stride, act=None) if stride != 1 or in_ch != out_ch else nn.Identity()
        self.act = make_activation(act)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.body(x) + self.shortcut(x))


@register_block("res", options=(KERNELS, EXPANSION), reference_only=True, description="ResNet bottleneck (reference architectures)")
def build_bottleneck(in_ch: int, out_ch: int, stride: int, **params: object) -> nn.Module:
    return Bottleneck(in_ch, out_ch, stride, **params)  # type: ignore[arg-type]
