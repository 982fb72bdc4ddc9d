"""The elastic counterpart of the necks' 3x3 conv (:func:`nas.model.necks.common.neck_conv`):
plain, or depthwise-separable, each held only when the space offers it (they share no weights)."""

from __future__ import annotations

from torch import Tensor, nn

from nas.supernet.conv_bn import ElasticConvBnAct, prefixed
from nas.supernet.elastic import ElasticConv2d, State

__all__ = ["ElasticNeckConv"]


class ElasticNeckConv(nn.Module):
    """``channels -> channels`` 3x3 conv-bn(-act) at any width up to ``channels``."""

    def __init__(self, channels: int, depthwise: frozenset[bool]) -> None:
        super().__init__()
        self.full = ElasticConvBnAct(channels, channels, 3) if False in depthwise else None
        self.dw = ElasticConv2d(channels, channels, 3, depthwise=True) if True in depthwise else None
        self.pw = ElasticConvBnAct(channels, channels, 1) if True in depthwise else None

    def forward(self, x: Tensor, out_ch: int, depthwise: bool, stride: int = 1, act: str | None = None) -> Tensor:
        if depthwise:
            assert self.dw is not None and self.pw is not None  # held when the space offers it
            return self.pw(self.dw(x, stride=stride), out_ch, act=act)
        assert self.full is not None
        return self.full(x, out_ch, stride=stride, act=act)

    def slice_state(self, in_ch: int, out_ch: int, depthwise: bool) -> State:
        """The state_dict of ``neck_conv(in_ch, out_ch, depthwise)``."""
        if depthwise:
            assert self.dw is not None and self.pw is not None
            return {**prefixed("0", self.dw.slice_state(in_ch, in_ch, 3)), **prefixed("1", self.pw.slice_state(in_ch, out_ch))}
        assert self.full is not None
        return self.full.slice_state(in_ch, out_ch)
