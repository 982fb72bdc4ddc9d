"""Elastic DensePose head: the first ``convs`` convs, elastic in width and kernel, and the
four deconv predictors elastic in their inputs."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from nas.model.rcnn.densepose_head import COARSE, FINE, DensePoseOutput, predict
from nas.space.spec import HeadSpec
from nas.supernet.conv_bn import prefixed
from nas.supernet.elastic import ElasticConv2d, ElasticConvTranspose2d, State

__all__ = ["ElasticDensePoseHead"]

PREDICTORS = (("coarse", COARSE), ("fine", FINE), ("u", FINE), ("v", FINE))


class ElasticDensePoseHead(nn.Module):
    """``convs`` x (kxk conv + ReLU) -> 4x4/2 deconv predictors -> bilinear to ``out``."""

    def __init__(self, in_channels: int, specs: tuple[HeadSpec, ...]) -> None:
        super().__init__()
        channels, kernel = max(s.channels for s in specs), max(s.kernel for s in specs)
        self.body = nn.ModuleList(
            ElasticConv2d(in_channels if i == 0 else channels, channels, kernel, bias=True) for i in range(max(s.convs for s in specs))
        )
        self.predictors = nn.ModuleDict({name: ElasticConvTranspose2d(channels, n, 4, stride=2, padding=1) for name, n in PREDICTORS})
        for m in self.modules():  # the stand-alone head's initialisation
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
        self.spec = specs[0]

    def activate(self, spec: HeadSpec) -> None:
        self.spec = spec

    def forward(self, pooled: Tensor) -> DensePoseOutput:
        spec = self.spec
        x = pooled
        for conv in self.body[: spec.convs]:
            x = F.relu(conv(x, spec.channels, spec.kernel))
        return predict(self.predictors, x, spec.out)

    def slice_state(self, in_channels: int, spec: HeadSpec) -> State:
        """The state_dict of ``DensePoseHead(in_channels, spec)`` (body convs at even
        indices of its Sequential, the ReLUs between)."""
        state: State = {}
        ch = in_channels
        for i in range(spec.convs):
            state.update(prefixed(f"body.{2 * i}", self.body[i].slice_state(ch, spec.channels, spec.kernel)))
            ch = spec.channels
        for name, layer in self.predictors.items():
            state.update(prefixed(f"predictors.{name}", layer.slice_state(ch)))
        return state
