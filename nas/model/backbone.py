"""Backbone built from an :class:`~nas.space.ArchSpec`: stem, then stages of registered blocks.

The backbone returns named features ``c2``..``c5`` (strides 4, 8, 16, 32), each the
output of the last stage at that stride, and reports their channels and strides through
:meth:`Backbone.output_shape` so any neck fits any backbone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import Tensor, nn

from nas.blocks import build_block
from nas.layers import ConvBnAct
from nas.model.shapes import ShapeSpec
from nas.space.spec import FEATURE_STRIDES, ArchSpec, StemSpec

__all__ = ["Backbone", "BlockCall", "Stem", "backbone_calls"]


@dataclass(frozen=True)
class BlockCall:
    """One block instance the backbone builds: the registry call, in order.

    Attributes:
        name: position, ``s<stage>.b<repeat>`` (both from 0).
        block: registered block type.
        in_ch, out_ch, stride: the builder's positional arguments.
        params: the builder's keyword arguments, sorted by name.
    """

    name: str
    block: str
    in_ch: int
    out_ch: int
    stride: int
    params: tuple[tuple[str, Any], ...]

    def build(self) -> nn.Module:
        return build_block(self.block, self.in_ch, self.out_ch, self.stride, **dict(self.params))


def backbone_calls(arch: ArchSpec) -> list[list[BlockCall]]:
    """Block calls per stage. Building, op keys and counting all walk this one list."""
    in_ch = arch.stem.channels
    stages: list[list[BlockCall]] = []
    for s, stage in enumerate(arch.stages):
        params = tuple(sorted(stage.block_params().items()))
        calls = []
        for b in range(stage.depth):
            stride = stage.stride if b == 0 else 1
            calls.append(BlockCall(f"s{s}.b{b}", stage.block, in_ch, stage.channels, stride, params))
            in_ch = stage.channels
        stages.append(calls)
    return stages


class Stem(nn.Sequential):
    """Conv-bn-act, then an optional 3x3/2 max-pool (ceil mode, as SqueezeNet and equal to
    ResNet's padded pool on even sizes)."""

    def __init__(self, spec: StemSpec, in_ch: int = 3) -> None:
        layers: list[nn.Module] = [ConvBnAct(in_ch, spec.channels, spec.kernel, spec.stride, act=spec.act, padding=spec.padding)]
        if spec.pool:
            layers.append(nn.MaxPool2d(3, 2, ceil_mode=True))
        super().__init__(*layers)


class Backbone(nn.Module):
    """Multi-scale feature extractor.

    Args:
        arch: the architecture spec.
        out_features: feature names to return (default: every stride the stages reach).
            Stages after the last requested feature are not built.
    """

    def __init__(self, arch: ArchSpec, out_features: tuple[str, ...] | None = None) -> None:
        super().__init__()
        available = arch.feature_stages()
        if out_features is None:
            out_features = tuple(available)
        missing = [f for f in out_features if f not in available]
        if missing:
            from nas.errors import SpecError

            have = ", ".join(f"{n} (stride {FEATURE_STRIDES[n]})" for n in available) or "none"
            raise SpecError(
                f"the backbone has no feature {', '.join(missing)}: its stages reach {have}; "
                "add stride-2 stages or choose neck levels the backbone reaches"
            )
        self.arch = arch
        self.out_features = tuple(sorted(out_features, key=FEATURE_STRIDES.__getitem__))
        self._feature_after = {available[name]: name for name in self.out_features}
        last_stage = max(self._feature_after) if self._feature_after else len(arch.stages) - 1
        self.stem = Stem(arch.stem)
        self.calls = backbone_calls(arch)[: last_stage + 1]
        self.stages = nn.ModuleList(nn.Sequential(*(call.build() for call in calls)) for calls in self.calls)
        self._shapes = {name: ShapeSpec(arch.stages[i].channels, FEATURE_STRIDES[name]) for i, name in self._feature_after.items()}

    def output_shape(self) -> dict[str, ShapeSpec]:
        """Feature name -> channels and stride, from the finest to the coarsest."""
        return dict(self._shapes)

    @property
    def out_channels(self) -> int:
        """Channels of the last built stage (what a classifier pools)."""
        return self.arch.stages[len(self.stages) - 1].channels

    def forward_last(self, x: Tensor) -> Tensor:
        """Output of the last built stage (classification)."""
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return x

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        x = self.stem(x)
        for index, stage in enumerate(self.stages):
            x = stage(x)
            name = self._feature_after.get(index)
            if name is not None:
                out[name] = x
        return out
