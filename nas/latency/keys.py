"""Op keys of an architecture (and of a whole search space), from the code that builds it.

The deployed network is split into *parts*, each served by an op provider
(:mod:`nas.latency.providers`), run in execution order:

* ``stem``: the stem as one op;
* ``backbone``: one op per block instance, from :func:`nas.model.backbone_calls` (the
  list the :class:`~nas.model.Backbone` is built from), truncated like the backbone of
  :class:`~nas.model.FeatureNetwork` after the last feature the neck reads;
* ``neck``: one op per conv unit of the built neck plus one *glue* op (see
  :mod:`nas.latency.units`); keyed per unit because units recur across neck variants and
  backbones (a few hundred keys instead of thousands of whole-neck keys), while the glue
  keeps the elementwise work and resizes in the sum;
* ``heads``: registered by :mod:`nas.latency.heads` (a provider reading
  ``ctx.levels`` and ``ctx.rois``), which this module imports.

Shapes are found by running the modules on PyTorch's ``meta`` device (no memory, no
compute), memoised per distinct call, so deriving keys costs microseconds per
architecture once the cache is warm.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from itertools import product
from typing import Any

import torch
from torch import nn

from nas.latency.heads import clear_head_caches  # importing registers the heads part
from nas.latency.opkinds import Shape, block_key, glue_key, stem_key, unit_key, unit_layers
from nas.latency.providers import (
    DEFAULT_ROIS,
    KeyContext,
    Op,
    OpProvider,
    SpaceContext,
    enumerate_decisions,
    op_providers,
    register_op_provider,
)
from nas.latency.units import find_units
from nas.model.backbone import Stem, backbone_calls
from nas.model.necks import build_neck, required_features
from nas.model.shapes import ShapeSpec
from nas.space.search_space import SearchSpace
from nas.space.spec import FEATURE_STRIDES, ArchSpec, NeckSpec, StageSpec, StemSpec

__all__ = [
    "DEFAULT_ROIS",
    "Op",
    "KeyContext",
    "SpaceContext",
    "OpProvider",
    "register_op_provider",
    "op_providers",
    "arch_ops",
    "op_keys",
    "space_keys",
    "enumerate_decisions",
    "clear_key_caches",
]


def arch_ops(arch: ArchSpec, rois: int = DEFAULT_ROIS) -> list[Op]:
    """Every deployed op of ``arch`` at its deploy input size, in execution order."""
    ctx = KeyContext(rois=rois, shape=(arch.input_size[0], arch.input_size[1], 3))
    ops: list[Op] = []
    for provider in op_providers():
        ops.extend(provider.arch_ops(arch, ctx))
    return ops


def op_keys(arch: ArchSpec, rois: int = DEFAULT_ROIS) -> list[str]:
    """The keys of :func:`arch_ops` (repeats kept: a model's latency is their sum)."""
    return [op.key for op in arch_ops(arch, rois)]


def space_keys(space: SearchSpace, rois: int = DEFAULT_ROIS) -> list[str]:
    """Every key an architecture of ``space`` can produce, deduplicated and sorted.

    Per stage, every input shape any previous choice can give meets every stage choice,
    so the set is exact for the stem and blocks and a superset at worst for the neck
    (feature combinations are taken as a product).
    """
    ctx = SpaceContext(rois=rois)
    keys: set[str] = set()
    for provider in op_providers():
        keys |= provider.space_ops(space, ctx)
    return sorted(keys)


def clear_key_caches() -> None:
    """Forget memoised shapes and keys (benchmarks of cold lookups; tests)."""
    for cached in (_stem_op, _block_hw, _stage_ops, _neck_geometry, _neck_ops):
        cached.cache_clear()
    clear_head_caches()
    _BLOCK_HW.clear()


# -- shape inference on the meta device -----------------------------------------------
def _meta_out(module_factory: Callable[[], nn.Module], shape: Shape) -> Shape:
    with torch.device("meta"):
        module = module_factory().eval()  # eval: batch norm without batch statistics
    with torch.no_grad():  # outside the device mode, whose per-op dispatch is slow
        out = module(torch.empty(1, shape[2], shape[0], shape[1], device="meta"))
    return int(out.shape[2]), int(out.shape[3]), int(out.shape[1])


# -- stem ----------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _stem_op(spec: StemSpec, in_shape: Shape) -> tuple[str, Shape]:
    out = _meta_out(lambda: Stem(spec, in_ch=in_shape[2]), in_shape)
    padding = spec.kernel // 2 if spec.padding is None else spec.padding
    return stem_key(in_shape, out, spec.kernel, spec.stride, spec.act, spec.pool, padding), out


def _stem_arch(arch: ArchSpec, ctx: KeyContext) -> list[Op]:
    key, ctx.shape = _stem_op(arch.stem, ctx.shape)
    return [Op("stem", "stem", key)]


def _stem_space(space: SearchSpace, ctx: SpaceContext) -> set[str]:
    h, w = space.deploy_input
    keys = set()
    for arch in enumerate_decisions(space, lambda name: name.startswith("stem.")):
        key, out = _stem_op(arch.stem, (h, w, 3))
        keys.add(key)
        ctx.stem_shapes.add(out)
    return keys


# -- backbone ------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _block_hw(block: str, stride: int, params: tuple[tuple[str, Any], ...], in_shape: Shape, out_ch: int) -> tuple[int, int]:
    # the spatial size leaving a block depends on its type, stride, kernels and input
    # size, not on its widths: one meta run per distinct geometry (meta ops are slow)
    from nas.blocks import build_block

    out = _meta_out(lambda: build_block(block, in_shape[2], out_ch, stride, **dict(params)), in_shape)
    return out[0], out[1]


def _block_op(block: str, in_ch: int, out_ch: int, stride: int, params: tuple[tuple[str, Any], ...], in_shape: Shape) -> tuple[str, Shape]:
    geometry = tuple(p for p in params if p[0] == "kernels")
    hw = _BLOCK_HW.get((block, stride, geometry, in_shape[:2]))
    if hw is None:
        hw = _block_hw(block, stride, params, in_shape, out_ch)
        _BLOCK_HW[(block, stride, geometry, in_shape[:2])] = hw
    out = (hw[0], hw[1], out_ch)
    return block_key(block, in_shape, out, stride, params), out


_BLOCK_HW: dict[tuple[Any, ...], tuple[int, int]] = {}


def _built_stages(arch: ArchSpec) -> int:
    """Stages the feature network builds: up to the last feature its neck reads."""
    available = arch.feature_stages()
    wanted = [available[f] for f in required_features(arch.neck) if f in available]
    return max(wanted) + 1 if wanted else len(arch.stages)


@functools.lru_cache(maxsize=65536)
def _stage_ops(stage: StageSpec, index: int, in_shape: Shape) -> tuple[tuple[Op, ...], Shape]:
    """Ops of one stage from its input shape, through the same backbone_calls() code path
    (a one-stage architecture whose stem width is the stage input)."""
    probe = ArchSpec(stem=StemSpec(channels=in_shape[2]), stages=(stage,))
    ops, shape = [], in_shape
    for call in backbone_calls(probe)[0]:
        key, shape = _block_op(call.block, call.in_ch, call.out_ch, call.stride, call.params, shape)
        ops.append(Op("backbone", f"s{index}.{call.name.split('.', 1)[1]}", key))
    return tuple(ops), shape


def _backbone_arch(arch: ArchSpec, ctx: KeyContext) -> list[Op]:
    ops: list[Op] = []
    feature_after = {i: name for name, i in arch.feature_stages().items()}
    for index in range(_built_stages(arch)):
        stage_ops, ctx.shape = _stage_ops(arch.stages[index], index, ctx.shape)
        ops.extend(stage_ops)
        if index in feature_after:
            ctx.features[feature_after[index]] = ctx.shape
    return ops


def _backbone_space(space: SearchSpace, ctx: SpaceContext) -> set[str]:
    keys: set[str] = set()
    states = set(ctx.stem_shapes)
    for index in range(len(space.stages)):
        prefix = f"s{index}."
        stages = {a.stages[index] for a in enumerate_decisions(space, lambda name: name.startswith(prefix))}
        outs: set[Shape] = set()
        for stage, state in product(stages, states):
            stage_ops, out = _stage_ops(stage, index, state)
            keys.update(op.key for op in stage_ops)
            outs.add(out)
        ctx.stage_shapes.append(outs)
        states = outs
    return keys


# -- neck ----------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _neck_geometry(spec: NeckSpec, sizes: tuple[tuple[str, tuple[int, int]], ...]) -> tuple[tuple[tuple[str, tuple[int, int], tuple[int, int]], ...], tuple[tuple[str, tuple[int, int]], ...]]:
    """Spatial sizes of a neck: per unit in execution order (path, in HxW, out HxW), and
    per output level. They do not depend on the backbone widths, so one meta run (with
    every input at the neck width) serves every backbone."""
    in_shapes = {name: ShapeSpec(spec.channels, FEATURE_STRIDES[name]) for name, _ in sizes}
    with torch.device("meta"):
        neck = build_neck(in_shapes, spec).eval()
    seen: list[tuple[str, tuple[int, int], tuple[int, int]]] = []
    hooks = []
    for path, unit in find_units(neck):

        def record(module: nn.Module, args: tuple[Any, ...], out: torch.Tensor, path: str = path) -> None:
            seen.append((path, (int(args[0].shape[2]), int(args[0].shape[3])), (int(out.shape[2]), int(out.shape[3]))))

        hooks.append(unit.register_forward_hook(record))
    with torch.no_grad():
        out = neck({n: torch.empty(1, spec.channels, hw[0], hw[1], device="meta") for n, hw in sizes})
    for hook in hooks:
        hook.remove()
    levels = tuple(sorted((k, (int(v.shape[2]), int(v.shape[3]))) for k, v in out.items()))
    return tuple(seen), levels


@functools.lru_cache(maxsize=None)
def _neck_ops(spec: NeckSpec, features: tuple[tuple[str, Shape], ...]) -> tuple[tuple[Op, ...], tuple[tuple[str, Shape], ...]]:
    shapes = dict(features)
    geometry, levels = _neck_geometry(spec, tuple((n, s[:2]) for n, s in features))
    in_shapes = {name: ShapeSpec(s[2], FEATURE_STRIDES[name]) for name, s in shapes.items()}
    with torch.device("meta"):
        units = dict(find_units(build_neck(in_shapes, spec)))
    ops = []
    for path, in_hw, out_hw in geometry:
        unit = units[path]
        convs = [m for m in unit.modules() if isinstance(m, nn.Conv2d)]
        in_shape = (*in_hw, convs[0].in_channels)
        out_shape = (*out_hw, convs[-1].out_channels)
        ops.append(Op("neck", f"neck.{path}", unit_key(in_shape, out_shape, unit_layers(unit))))
    names = required_features(spec)
    glue = glue_key(spec.variant, spec.channels, spec.min_level, spec.max_level, spec.repeats, [shapes[n][:2] for n in names])
    ops.append(Op("neck", "neck.glue", glue))
    return tuple(ops), tuple((k, (*hw, spec.channels)) for k, hw in levels)


def _neck_arch(arch: ArchSpec, ctx: KeyContext) -> list[Op]:
    names = required_features(arch.neck)
    ops, levels = _neck_ops(arch.neck, tuple((n, ctx.features[n]) for n in names))
    ctx.levels = dict(levels)
    return list(ops)


def _neck_space(space: SearchSpace, ctx: SpaceContext) -> set[str]:
    feature_stage = space.sample(0).feature_stages()  # the stride schedule is fixed by the space
    keys: set[str] = set()
    for arch in enumerate_decisions(space, lambda name: name.startswith("neck.")):
        names = required_features(arch.neck)
        options = [sorted(ctx.stage_shapes[feature_stage[n]]) for n in names]
        for combo in product(*options):
            ops, levels = _neck_ops(arch.neck, tuple(zip(names, combo)))
            keys.update(op.key for op in ops)
            ctx.level_shapes.add(levels)
    return keys


register_op_provider("stem", _stem_arch, _stem_space)
register_op_provider("backbone", _backbone_arch, _backbone_space)
register_op_provider("neck", _neck_arch, _neck_space)
