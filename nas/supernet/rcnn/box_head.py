"""Elastic box head: two FC layers elastic in the RoI feature's channels and the hidden width."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from nas.supernet.conv_bn import prefixed
from nas.supernet.elastic import ElasticLinear, State

__all__ = ["ElasticBoxHead"]


class ElasticBoxHead(nn.Module):
    """``flatten -> fc1 -> ReLU -> fc2 -> ReLU -> (scores, deltas)`` at the active hidden width."""

    def __init__(self, channels: int, pool: int, hidden: int) -> None:
        super().__init__()
        self.pool = pool
        self.fc1 = ElasticLinear(channels * pool * pool, hidden)
        self.fc2 = ElasticLinear(hidden, hidden)
        self.cls_score = ElasticLinear(hidden, 2)
        self.bbox_pred = ElasticLinear(hidden, 4)
        # the stand-alone box head's initialisation of its predictors
        nn.init.normal_(self.cls_score.weight, std=0.01)
        nn.init.normal_(self.bbox_pred.weight, std=0.001)
        for layer in (self.cls_score, self.bbox_pred):
            nn.init.zeros_(layer.bias)
        self.hidden = hidden

    def activate(self, hidden: int) -> None:
        self.hidden = hidden

    def forward(self, pooled: Tensor) -> tuple[Tensor, Tensor]:
        x = F.relu(self.fc1(pooled.flatten(1), self.hidden))
        x = F.relu(self.fc2(x, self.hidden))
        return self.cls_score(x), self.bbox_pred(x)

    def slice_state(self, channels: int, hidden: int) -> State:
        """The state_dict of ``BoxHead(channels, pool, hidden)``."""
        return {**prefixed("fc1", self.fc1.slice_state(channels * self.pool * self.pool, hidden)),
                **prefixed("fc2", self.fc2.slice_state(hidden, hidden)),
                **prefixed("cls_score", self.cls_score.slice_state(hidden, 2)),
                **prefixed("bbox_pred", self.bbox_pred.slice_state(hidden, 4))}
