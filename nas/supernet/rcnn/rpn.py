"""Elastic region proposal network: the shared 3x3 conv elastic in channels (plain and
depthwise-separable held when offered), objectness and delta predictors per anchor count
(a one-level neck has every anchor size at its level, a pyramid one per level)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from nas.model.rcnn.boxes import BoxCoder
from nas.model.rcnn.config import RCNNConfig
from nas.model.rcnn.rpn import RPN, AnchorGenerator
from nas.model.shapes import ShapeSpec
from nas.supernet.conv_bn import prefixed
from nas.supernet.elastic import ElasticConv2d, State

__all__ = ["ElasticRPN", "ElasticRPNHead"]


def _rpn_init(module: nn.Module) -> None:
    # the stand-alone RPN head's initialisation, so a supernet starts where a model would
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.zeros_(layer.bias)


class ElasticRPNHead(nn.Module):
    """Conv + ReLU, then 1x1 objectness and deltas, for the active width and anchor count."""

    def __init__(self, channels: int, depthwise: frozenset[bool], anchor_counts: tuple[int, ...]) -> None:
        super().__init__()
        self.full = ElasticConv2d(channels, channels, 3, bias=True) if False in depthwise else None
        self.dw = ElasticConv2d(channels, channels, 3, depthwise=True, bias=True) if True in depthwise else None
        self.pw = ElasticConv2d(channels, channels, 1, bias=True) if True in depthwise else None
        self.objectness = nn.ModuleDict({f"a{a}": ElasticConv2d(channels, a, 1, bias=True) for a in anchor_counts})
        self.deltas = nn.ModuleDict({f"a{a}": ElasticConv2d(channels, 4 * a, 1, bias=True) for a in anchor_counts})
        _rpn_init(self)
        self.depthwise, self.anchors = False, anchor_counts[0]

    def activate(self, depthwise: bool, anchors: int) -> None:
        self.depthwise, self.anchors = depthwise, anchors

    def conv(self, x: Tensor) -> Tensor:
        if self.depthwise:
            assert self.dw is not None and self.pw is not None  # held when the space offers it
            return self.pw(self.dw(x), x.shape[1])
        assert self.full is not None
        return self.full(x, x.shape[1])

    def forward(self, features: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        a = self.anchors
        logits, deltas = [], []
        for feat in features:
            t = F.relu(self.conv(feat))
            n = feat.shape[0]
            logits.append(self.objectness[f"a{a}"](t).permute(0, 2, 3, 1).reshape(n, -1))
            deltas.append(self.deltas[f"a{a}"](t).permute(0, 2, 3, 1).reshape(n, -1, 4))
        return logits, deltas

    def slice_state(self, channels: int, depthwise: bool, anchors: int) -> State:
        """The state_dict of ``RPNHead(channels, anchors, depthwise)``."""
        if depthwise:
            assert self.dw is not None and self.pw is not None
            state = {**prefixed("conv.0", self.dw.slice_state(channels, channels, 3)), **prefixed("conv.1", self.pw.slice_state(channels, channels, 1))}
        else:
            assert self.full is not None
            state = prefixed("conv", self.full.slice_state(channels, channels, 3))
        state.update(prefixed("objectness", self.objectness[f"a{anchors}"].slice_state(channels, anchors, 1)))
        state.update(prefixed("deltas", self.deltas[f"a{anchors}"].slice_state(channels, 4 * anchors, 1)))
        return state


class ElasticRPN(RPN):
    """The RPN's proposal selection and losses (inherited) over the elastic head.

    ``RPN.__init__`` builds one width's head; this one builds the elastic head instead and
    sets what the inherited methods read (config, level names, anchors, head, coder), the
    levels and anchors on :meth:`activate`.
    """

    def __init__(self, config: RCNNConfig, channels: int, depthwise: frozenset[bool], anchor_counts: tuple[int, ...]) -> None:
        nn.Module.__init__(self)
        self.config = config
        self.head = ElasticRPNHead(channels, depthwise, anchor_counts)
        self.coder = BoxCoder()
        # the levels and their anchors are the active neck's, replaced by activate()
        self.level_names: list[str] = []
        self.anchor_generator = AnchorGenerator({"p4": ShapeSpec(channels, 16)}, config.anchor_ratios)

    def activate(self, levels: dict[str, ShapeSpec], depthwise: bool) -> None:
        self.level_names = list(levels)
        self.anchor_generator = AnchorGenerator(levels, self.config.anchor_ratios)
        self.head.activate(depthwise, self.anchor_generator.num_anchors)
