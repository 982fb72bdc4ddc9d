"""Fire module (SqueezeNet), with the depthwise expand option of the mobile DensePose backbones.

Registered as ``fire``. A 1x1 squeeze conv feeds two expand branches whose outputs are
concatenated: a 1x1 branch and a 3x3 branch, half of the output channels each. With
``depthwise`` the 3x3 branch is a depthwise 3x3 followed by a 1x1 pointwise conv, the
cheap "fire + depthwise" variant. Downsampling follows SqueezeNet: a 3x3/2 max-pool
(ceil mode) in front of the module.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from nas.blocks.options import DEPTHWISE, SQUEEZE
from nas.blocks.registry import register_block
from nas.errors import SpecError
from nas.layers import ConvBnAct


class Fire(nn.Module):
    """SqueezeNet fire module with optional depthwise 3x3 expand and identity residual."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        stride: int,
        squeeze: int = 16,
        depthwise: bool = False,
        act: str = "relu",
    ) -> None:
        super().__init__()
        if out_ch % 2:
            raise SpecError(f"fire output channels must be even (two equal expand branches), got {out_ch}")
        if squeeze < 1:
            raise SpecError(f"fire squeeze width must be positive, got {squeeze}")
        self.in_ch, self.out_ch, self.stride = in_ch, out_ch, stride
        self.pool = nn.MaxPool2d(3, stride, ceil_mode=True) if stride > 1 else nn.Identity()
        half = out_ch // 2
        self.squeeze = ConvBnAct(in_ch, squeeze, 1, act=act)
        self.expand1x1 = ConvBnAct(squeeze, half, 1, act=act)
        if depthwise:
            self.expand3x3: nn.Module = nn.Sequential(
                ConvBnAct(squeeze, squeeze, 3, groups=squeeze, act=None),
                ConvBnAct(squeeze, half, 1, act=act),
            )
        else:
            self.expand3x3 = ConvBnAct(squeeze, half, 3, act=act)
        self.has_residual = stride == 1 and in_ch == out_ch

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool(x)
        s = self.squeeze(x)
        y = torch.cat([self.expand1x1(s), self.expand3x3(s)], dim=1)
        return x + y if self.has_residual else y


def _needs_squeeze(squeeze: int) -> str | None:
    return None if squeeze >= 1 else "fire needs a squeeze width sq<n> >= 1"


@register_block(
    "fire",
    options=(SQUEEZE.with_(checks=(*SQUEEZE.checks, _needs_squeeze)), DEPTHWISE),
    width_multiple=2,
    width_reason="two equal expand branches",
    description="fire module (SqueezeNet): 1x1 squeeze, 1x1 + 3x3 (or depthwise 3x3) expand, concatenated",
)
def build_fire(in_ch: int, out_ch: int, stride: int, **params: object) -> nn.Module:
    return Fire(in_ch, out_ch, stride, **params)  # type: ignore[arg-type]
