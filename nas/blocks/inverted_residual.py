"""Inverted residual block (MobileNetV2 / V3), registered as ``ir``."""

from __future__ import annotations

from torch import Tensor, nn

from nas.blocks.options import EXPAND_GROUPS, EXPANSION, KERNELS, PROJECT_GROUPS, SE
from nas.blocks.registry import register_block
from nas.errors import SpecError
from nas.layers import ConvBnAct, MixedDepthwiseConv, SqueezeExcite, make_activation


def expanded_channels(in_ch: int, expansion: float) -> int:
    """Width inside the block: ``round(in_ch * expansion)`` (MobileNetV3's 184 = 80 x 2.3)."""
    return int(round(in_ch * expansion))


class InvertedResidual(nn.Module):
    """1x1 expand -> kxk depthwise (one or mixed kernels) -> optional SE -> 1x1 linear project.

    The expand conv is skipped when the expansion is 1. The residual is used when the
    stride is 1 and input and output widths match. ``expand_groups`` and
    ``project_groups`` group the 1x1 convs (MixNet's grouped pointwise convs).
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        stride: int,
        kernels: tuple[int, ...] = (3,),
        expansion: float = 6.0,
        se: float = 0.0,
        act: str = "relu",
        expand_groups: int = 1,
        project_groups: int = 1,
    ) -> None:
        super().__init__()
        mid = expanded_channels(in_ch, expansion)
        for groups, name, chans in ((expand_groups, "expand", (in_ch, mid)), (project_groups, "project", (mid, out_ch))):
            if any(c % groups for c in chans):
                raise SpecError(f"{name} groups {groups} do not divide channels {chans[0]}->{chans[1]}")
        self.in_ch, self.out_ch, self.stride, self.mid_ch = in_ch, out_ch, stride, mid
        self.expand = ConvBnAct(in_ch, mid, 1, groups=expand_groups, act=act) if mid != in_ch else nn.Identity()
        self.depthwise = nn.Sequential(
            MixedDepthwiseConv(mid, tuple(kernels), stride),
            nn.BatchNorm2d(mid),
            make_activation(act),
        )
        self.se = squeeze_excite_for(mid, se, act)
        self.project = ConvBnAct(mid, out_ch, 1, groups=project_groups, act=None)
        self.has_residual = stride == 1 and in_ch == out_ch

    def forward(self, x: Tensor) -> Tensor:
        y = self.project(self.se(self.depthwise(self.expand(x))))
        return x + y if self.has_residual else y


def squeeze_excite_for(channels: int, ratio: float, block_act: str) -> nn.Module:
    """SE matching the block's family: hard-sigmoid gate and ReLU inside for hard-swish
    blocks (MobileNetV3), swish inside for swish blocks (MixNet); identity when ratio is 0."""
    if ratio <= 0:
        return nn.Identity()
    gate = "hsigmoid" if block_act == "hs" else "sigmoid"
    inner = "sw" if block_act == "sw" else "relu"
    return SqueezeExcite(channels, ratio, act=inner, gate=gate)


@register_block(
    "ir",
    options=(KERNELS, EXPANSION, SE, EXPAND_GROUPS, PROJECT_GROUPS),
    description="inverted residual (MobileNetV2/V3): 1x1 expand, kxk depthwise, SE, 1x1 linear project",
)
def build_inverted_residual(in_ch: int, out_ch: int, stride: int, **params: object) -> nn.Module:
    kernels = params.get("kernels", (3,))
    if len(kernels) != 1:  # type: ignore[arg-type]
        raise SpecError(f"block 'ir' takes one kernel size, got {kernels}; use block 'mix' for several")
    return InvertedResidual(in_ch, out_ch, stride, **params)  # type: ignore[arg-type]
