"""Elastic inverted residual (``ir``) and MixConv (``mix``) blocks.

Elastic in input and output width, expansion (the expanded width is the first channels of
the widest), kernel size(s) (centres of the largest kernel), SE ratio and activation.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from nas.blocks.inverted_residual import expanded_channels
from nas.errors import SupernetError
from nas.model.backbone import BlockCall
from nas.supernet.blocks.registry import ElasticBlock, register_elastic_block
from nas.supernet.conv_bn import ElasticConvBnAct, activation, prefixed
from nas.supernet.elastic import ElasticBatchNorm2d, ElasticMixedDepthwise, State
from nas.supernet.squeeze_excite import ElasticSqueezeExcite, se_width


def _params(call: BlockCall) -> dict[str, Any]:
    params = dict(call.params)
    if params.get("expand_groups", 1) != 1 or params.get("project_groups", 1) != 1:
        raise SupernetError(f"{call.name}: grouped 1x1 convs (expand/project groups) have no elastic version; "
                            "a search space never offers them")
    return params


@register_elastic_block("ir", "mix")
class ElasticInvertedResidual(ElasticBlock):
    """1x1 expand -> depthwise (one or mixed kernels) -> SE -> 1x1 linear project."""

    def __init__(self, calls: tuple[BlockCall, ...]) -> None:
        super().__init__(calls)
        params = [_params(c) for c in calls]
        mids = [expanded_channels(c.in_ch, p["expansion"]) for c, p in zip(calls, params)]
        max_in, max_out, max_mid = max(c.in_ch for c in calls), max(c.out_ch for c in calls), max(mids)
        kernel = max(k for p in params for k in p["kernels"])
        reduced = [se_width(m, p["se"]) for m, p in zip(mids, params) if p["se"] > 0]
        # an expansion of 1 skips the expand conv; it is held only if some call has one
        self.expand = ElasticConvBnAct(max_in, max_mid, 1) if any(m != c.in_ch for m, c in zip(mids, calls)) else None
        self.depthwise = ElasticMixedDepthwise(max_mid, kernel)
        self.depthwise_bn = ElasticBatchNorm2d(max_mid)
        self.se = ElasticSqueezeExcite(max_mid, max(reduced)) if reduced else None
        self.project = ElasticConvBnAct(max_mid, max_out, 1)

    def forward(self, x: Tensor, call: BlockCall) -> Tensor:
        p = dict(call.params)
        mid = expanded_channels(call.in_ch, p["expansion"])
        y = x
        if mid != call.in_ch:
            assert self.expand is not None  # held whenever a call of the envelope expands
            y = self.expand(y, mid, act=p["act"])
        y = activation(p["act"])(self.depthwise_bn(self.depthwise(y, p["kernels"], call.stride)))
        if p["se"] > 0:
            assert self.se is not None
            y = self.se(y, p["se"], p["act"])
        y = self.project(y, call.out_ch)
        return x + y if self.residual(call) else y

    def slice_state(self, call: BlockCall) -> State:
        p = dict(call.params)
        mid = expanded_channels(call.in_ch, p["expansion"])
        state: State = {}
        if mid != call.in_ch:
            assert self.expand is not None
            state.update(prefixed("expand", self.expand.slice_state(call.in_ch, mid)))
        state.update(prefixed("depthwise.0", self.depthwise.slice_state(mid, p["kernels"])))
        state.update(prefixed("depthwise.1", self.depthwise_bn.slice_state(mid)))
        if p["se"] > 0:
            assert self.se is not None
            state.update(prefixed("se", self.se.slice_state(mid, p["se"])))
        state.update(prefixed("project", self.project.slice_state(mid, call.out_ch)))
        return state
