"""Elastic depthwise-separable (``dw``) block: elastic in widths, kernel, SE and activation."""

from __future__ import annotations

from torch import Tensor

from nas.model.backbone import BlockCall
from nas.supernet.blocks.registry import ElasticBlock, register_elastic_block
from nas.supernet.conv_bn import ElasticConvBnAct, prefixed
from nas.supernet.elastic import State
from nas.supernet.squeeze_excite import ElasticSqueezeExcite, se_width


@register_elastic_block("dw")
class ElasticDepthwiseSeparable(ElasticBlock):
    """kxk depthwise conv-bn-act -> SE -> 1x1 pointwise conv-bn."""

    def __init__(self, calls: tuple[BlockCall, ...]) -> None:
        super().__init__(calls)
        params = [dict(c.params) for c in calls]
        max_in, max_out = max(c.in_ch for c in calls), max(c.out_ch for c in calls)
        reduced = [se_width(c.in_ch, p["se"]) for c, p in zip(calls, params) if p["se"] > 0]
        self.depthwise = ElasticConvBnAct(max_in, max_in, max(p["kernels"][0] for p in params), depthwise=True)
        self.se = ElasticSqueezeExcite(max_in, max(reduced)) if reduced else None
        self.pointwise = ElasticConvBnAct(max_in, max_out, 1)

    def forward(self, x: Tensor, call: BlockCall) -> Tensor:
        p = dict(call.params)
        y = self.depthwise(x, kernel=p["kernels"][0], stride=call.stride, act=p["act"])
        if p["se"] > 0:
            assert self.se is not None  # held whenever a call of the envelope has SE
            y = self.se(y, p["se"], p["act"])
        y = self.pointwise(y, call.out_ch)
        return x + y if self.residual(call) else y

    def slice_state(self, call: BlockCall) -> State:
        p = dict(call.params)
        state = prefixed("depthwise", self.depthwise.slice_state(call.in_ch, call.in_ch, p["kernels"][0]))
        if p["se"] > 0:
            assert self.se is not None
            state.update(prefixed("se", self.se.slice_state(call.in_ch, p["se"])))
        state.update(prefixed("pointwise", self.pointwise.slice_state(call.in_ch, call.out_ch)))
        return state
