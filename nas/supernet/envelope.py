"""What a search space can ask of each supernet layer: every block call a stage position
can make, and the widest feature each backbone level can give.

The supernet sizes every shared weight to the largest of these, so any architecture of the
space is a slice of it. The calls are made by the same :class:`~nas.model.BlockCall` the
stand-alone backbone builds from, so both agree on channels, strides and options.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from nas.model.backbone import BlockCall
from nas.model.rcnn.rpn import AnchorGenerator
from nas.model.shapes import ShapeSpec
from nas.space.neck_variants import NECK_VARIANTS
from nas.space.search_space import SearchSpace, searchable_options
from nas.space.spec import ArchSpec, HeadSpec, NeckSpec, StageSpec

__all__ = ["StageEnvelope", "stage_envelopes", "feature_widths", "some_arch", "neck_specs", "head_specs", "anchors_for", "anchor_counts", "neck_depthwise"]


@dataclass(frozen=True)
class StageEnvelope:
    """Per block type of one stage, the calls its first repeat and its later repeats can make.

    Attributes:
        first: calls of repeat 0 (the stage's stride, the previous stage's widths in).
        later: calls of repeats 1.. (stride 1, the stage's width in and out); empty when
            the stage's depth is always 1.
        depth: the largest depth.
    """

    first: dict[str, tuple[BlockCall, ...]]
    later: dict[str, tuple[BlockCall, ...]]
    depth: int


def _option_values(space: SearchSpace, block: str, width: int) -> list[dict[str, Any]]:
    """Every combination of the block's option values the space offers at ``width``."""
    choices = space.blocks[block].options
    per_option = []
    for key, option in searchable_options(block).items():
        assert option.search is not None  # searchable_options holds searchable ones only
        per_option.append([(option.name, option.search.to_value(c, width)) for c in choices[key]])
    return [dict(combo) for combo in itertools.product(*per_option)]


def _calls(space: SearchSpace, index: int, block: str, in_widths: tuple[int, ...], stride: int, position: int) -> tuple[BlockCall, ...]:
    stage = space.stages[index]
    calls = []
    for width, act in itertools.product(stage.widths, stage.acts):
        for options in _option_values(space, block, width):
            params = tuple(sorted(StageSpec(block, width, 1, stage.stride, act=act, **options).block_params().items()))
            ins = in_widths if position == 0 else (width,)
            calls += [BlockCall(f"s{index}.b{position}", block, c, width, stride, params) for c in ins]
    return tuple(dict.fromkeys(calls))  # unique, in order


def stage_envelopes(space: SearchSpace) -> list[StageEnvelope]:
    """One :class:`StageEnvelope` per stage of ``space``."""
    out = []
    in_widths = space.stem_channels
    for index, stage in enumerate(space.stages):
        depth = max(stage.depths)
        first = {b: _calls(space, index, b, in_widths, stage.stride, 0) for b in stage.blocks}
        later = {b: _calls(space, index, b, in_widths, 1, 1) for b in stage.blocks} if depth > 1 else {}
        out.append(StageEnvelope(first, later, depth))
        in_widths = stage.widths
    return out


def some_arch(space: SearchSpace) -> ArchSpec:
    """An architecture of the space (the first choice everywhere): what every one shares,
    such as the stride schedule, can be read from it."""
    return space.build(lambda name, choices: choices[0])


def feature_widths(space: SearchSpace) -> dict[str, int]:
    """Backbone feature name (``c2``..``c5``) -> the most channels it can have in the space.

    The stride schedule is fixed by the space, so the stage ending each level is too."""
    stages = some_arch(space).feature_stages()
    return {name: max(space.stages[index].widths) for name, index in stages.items()}


def neck_specs(space: SearchSpace, variant: str) -> tuple[NeckSpec, ...]:
    """Every neck of ``variant`` the space offers (as :meth:`SearchSpace.build` assembles them)."""
    if not NECK_VARIANTS.get(variant).multi_level:
        level = space.neck_none_level
        return tuple(NeckSpec(variant, c, level, level) for c in space.neck_channels)
    repeats = space.neck_repeats if NECK_VARIANTS.get(variant).repeats else (1,)
    combos = itertools.product(space.neck_channels, space.neck_levels, space.neck_depthwise, repeats)
    return tuple(NeckSpec(variant, c, low, high, dw, r) for c, (low, high), dw, r in combos)


def head_specs(space: SearchSpace) -> tuple[HeadSpec, ...]:
    """Every head setting combination the space offers (unset keys at HeadSpec's defaults)."""
    keys = list(space.head)
    return tuple(HeadSpec(**dict(zip(keys, combo))) for combo in itertools.product(*(space.head[k] for k in keys)))


def anchors_for(neck: NeckSpec, ratios: tuple[float, ...]) -> int:
    """Anchors per location the RPN has in front of ``neck`` (the anchor generator's own count)."""
    levels = {f"p{lvl}": ShapeSpec(neck.channels, 2**lvl) for lvl in neck.levels}
    return AnchorGenerator(levels, ratios).num_anchors


def anchor_counts(space: SearchSpace, ratios: tuple[float, ...]) -> tuple[int, ...]:
    """Anchors per location the RPN can need: a one-level neck has every anchor size at its
    level, a pyramid one size per level."""
    return tuple(sorted({anchors_for(neck_specs(space, v)[0], ratios) for v in space.neck_variants}))


def neck_depthwise(space: SearchSpace) -> frozenset[bool]:
    """Whether necks (and so the RPN conv) can be plain, depthwise-separable, or both."""
    return frozenset(spec.depthwise for v in space.neck_variants for spec in neck_specs(space, v))
