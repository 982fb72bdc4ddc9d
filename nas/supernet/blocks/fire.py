"""Elastic fire (``fire``) block: elastic in widths, squeeze width and activation; the
3x3 expand branch holds a full conv and a depthwise + pointwise pair when the space
offers both, as they share no weights."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from nas.model.backbone import BlockCall
from nas.supernet.blocks.registry import ElasticBlock, register_elastic_block
from nas.supernet.conv_bn import ElasticConvBnAct, prefixed
from nas.supernet.elastic import State


@register_elastic_block("fire")
class ElasticFire(ElasticBlock):
    """(3x3/2 max-pool) -> 1x1 squeeze -> [1x1 expand | 3x3 (or depthwise 3x3 + 1x1) expand]."""

    def __init__(self, calls: tuple[BlockCall, ...]) -> None:
        super().__init__(calls)
        params = [dict(c.params) for c in calls]
        max_in, max_half = max(c.in_ch for c in calls), max(c.out_ch for c in calls) // 2
        max_squeeze = max(p["squeeze"] for p in params)
        self.squeeze = ElasticConvBnAct(max_in, max_squeeze, 1)
        self.expand1x1 = ElasticConvBnAct(max_squeeze, max_half, 1)
        kinds = {bool(p["depthwise"]) for p in params}
        self.expand3x3 = ElasticConvBnAct(max_squeeze, max_half, 3) if False in kinds else None
        self.expand3x3_dw = ElasticConvBnAct(max_squeeze, max_squeeze, 3, depthwise=True) if True in kinds else None
        self.expand3x3_pw = ElasticConvBnAct(max_squeeze, max_half, 1) if True in kinds else None

    def forward(self, x: Tensor, call: BlockCall) -> Tensor:
        p = dict(call.params)
        half, act = call.out_ch // 2, p["act"]
        if call.stride > 1:
            x = F.max_pool2d(x, 3, call.stride, ceil_mode=True)
        s = self.squeeze(x, p["squeeze"], act=act)
        if p["depthwise"]:
            assert self.expand3x3_dw is not None and self.expand3x3_pw is not None  # held when offered
            wide = self.expand3x3_pw(self.expand3x3_dw(s), half, act=act)
        else:
            assert self.expand3x3 is not None
            wide = self.expand3x3(s, half, act=act)
        y = torch.cat([self.expand1x1(s, half, act=act), wide], dim=1)
        return x + y if self.residual(call) else y

    def slice_state(self, call: BlockCall) -> State:
        p = dict(call.params)
        half, squeeze = call.out_ch // 2, p["squeeze"]
        state = {**prefixed("squeeze", self.squeeze.slice_state(call.in_ch, squeeze)),
                 **prefixed("expand1x1", self.expand1x1.slice_state(squeeze, half))}
        if p["depthwise"]:
            assert self.expand3x3_dw is not None and self.expand3x3_pw is not None
            state.update(prefixed("expand3x3.0", self.expand3x3_dw.slice_state(squeeze, squeeze)))
            state.update(prefixed("expand3x3.1", self.expand3x3_pw.slice_state(squeeze, half)))
        else:
            assert self.expand3x3 is not None
            state.update(prefixed("expand3x3", self.expand3x3.slice_state(squeeze, half)))
        return state
