"""Depthwise convolution whose channels are split over several kernel sizes (MixConv)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from nas.errors import SpecError


def split_channels(channels: int, parts: int) -> list[int]:
    """Split ``channels`` into ``parts`` near-equal groups; the first takes the remainder."""
    if parts < 1 or channels < parts:
        raise SpecError(f"cannot split {channels} channels over {parts} kernel sizes; use fewer kernels or more channels")
    sizes = [channels // parts] * parts
    sizes[0] += channels - sum(sizes)
    return sizes


class MixedDepthwiseConv(nn.Module):
    """Depthwise conv, one kernel size per channel group, outputs concatenated (MixNet)."""

    def __init__(self, channels: int, kernels: tuple[int, ...], stride: int = 1) -> None:
        super().__init__()
        self.splits = split_channels(channels, len(kernels))
        self.convs = nn.ModuleList(
            nn.Conv2d(c, c, k, stride, k // 2, groups=c, bias=False) for c, k in zip(self.splits, kernels)
        )

    def forward(self, x: Tensor) -> Tensor:
        if len(self.convs) == 1:
            return self.convs[0](x)
        chunks = torch.split(x, self.splits, dim=1)
        return torch.cat([conv(chunk) for conv, chunk in zip(self.convs, chunks)], dim=1)
