"""Elastic backbone: the stem, then per stage and per block type the stage offers a stack of
blocks as deep as the stage can be; an architecture runs the first ``depth`` of its type.

It computes what :class:`nas.model.Backbone` computes for the architecture, and
:meth:`ElasticBackbone.slice_state` gives that backbone's state_dict.
"""

from __future__ import annotations

from torch import Tensor, nn

from nas.model.backbone import BlockCall, backbone_calls
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec
from nas.supernet.blocks import build_elastic_block
from nas.supernet.conv_bn import ElasticConvBnAct, prefixed
from nas.supernet.elastic import State
from nas.supernet.envelope import StageEnvelope, stage_envelopes

__all__ = ["ElasticBackbone", "ElasticStage"]


class ElasticStage(nn.Module):
    """``blocks[<type>][i]``: repeat ``i`` of the stage when built of that block type."""

    def __init__(self, envelope: StageEnvelope) -> None:
        super().__init__()
        self.blocks = nn.ModuleDict({
            block: nn.ModuleList(build_elastic_block(block, first if i == 0 else envelope.later[block]) for i in range(envelope.depth))
            for block, first in envelope.first.items()
        })

    def forward(self, x: Tensor, calls: list[BlockCall]) -> Tensor:
        for index, call in enumerate(calls):
            x = self.blocks[call.block][index](x, call)
        return x

    def slice_state(self, calls: list[BlockCall]) -> State:
        state: State = {}
        for index, call in enumerate(calls):
            state.update(prefixed(str(index), self.blocks[call.block][index].slice_state(call)))
        return state


class ElasticBackbone(nn.Module):
    """Stem and elastic stages of a search space."""

    def __init__(self, space: SearchSpace) -> None:
        super().__init__()
        self.stem = ElasticConvBnAct(3, max(space.stem_channels), space.stem_kernel)
        self.stages = nn.ModuleList(ElasticStage(envelope) for envelope in stage_envelopes(space))

    @staticmethod
    def plan(arch: ArchSpec, out_features: tuple[str, ...]) -> tuple[list[list[BlockCall]], dict[int, str]]:
        """The block calls of the stages the stand-alone backbone builds (up to the last one
        giving a requested feature) and the feature each feature stage gives."""
        available = arch.feature_stages()
        after = {available[name]: name for name in out_features}
        return backbone_calls(arch)[: max(after) + 1], after

    def forward(self, x: Tensor, arch: ArchSpec, out_features: tuple[str, ...]) -> dict[str, Tensor]:
        calls, after = self.plan(arch, out_features)
        stem = arch.stem
        x = self.stem(x, stem.channels, stem.kernel, stem.stride, stem.act)
        out: dict[str, Tensor] = {}
        for index, stage_calls in enumerate(calls):
            x = self.stages[index](x, stage_calls)
            if index in after:
                out[after[index]] = x
        return out

    def slice_state(self, arch: ArchSpec, out_features: tuple[str, ...]) -> State:
        """The state_dict of ``Backbone(arch, out_features)``."""
        calls, _ = self.plan(arch, out_features)
        state = prefixed("stem.0", self.stem.slice_state(3, arch.stem.channels, arch.stem.kernel))
        for index, stage_calls in enumerate(calls):
            state.update(prefixed(f"stages.{index}", self.stages[index].slice_state(stage_calls)))
        return state
