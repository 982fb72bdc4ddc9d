"""Op keys of the DensePose R-CNN heads, and the dense deployed network they sum to.

The heads add three kinds of keys after the neck (the ``heads`` part), built from the
same modules :class:`~nas.model.rcnn.DensePoseRCNN` builds::

    rpn-in:HxWxC-a<anchors>-dw<0|1>                    RPN head on one neck level
    boxhead-r<R>-in:PxPxC-h<hidden>                    box head on R pooled RoIs
    dphead-r<R>-in:PxPxC-n<convs>-c<channels>-k<kernel>-o<out>   DensePose head on R RoIs

``R`` is the RoI count the heads are keyed at (:data:`~nas.latency.providers.DEFAULT_ROIS`,
configurable per call). RoIAlign, anchor decoding and NMS are not keyed: their cost
depends on the image content (proposal counts), they run on the CPU outside the
delegate, and they are the same for every candidate of a space.

:class:`DenseDeployment` is the whole network those keys describe (feature network,
the RPN head on every level, both heads on ``R`` RoI feature inputs); validation
measures it end to end against the sum of its keys.
"""

from __future__ import annotations

import functools
import re

import torch
from torch import Tensor, nn

from nas.errors import SpecError
from nas.latency.opkinds import BuiltOp, Shape, parse_shape, register_op_kind, shape_token
from nas.latency.providers import KeyContext, Op, SpaceContext, enumerate_decisions, register_op_provider
from nas.model.features import FeatureNetwork
from nas.model.rcnn.box_head import BoxHead
from nas.model.rcnn.config import RCNNConfig
from nas.model.rcnn.densepose_head import DensePoseHead
from nas.model.rcnn.rpn import AnchorGenerator, RPNHead
from nas.model.shapes import ShapeSpec
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec, HeadSpec

__all__ = ["DENSE_PREFIX", "DenseDeployment", "dense_program", "rpn_key", "box_head_key", "dp_head_key", "clear_head_caches"]

DENSE_PREFIX = "dense:"
_CONFIG = RCNNConfig()


def rpn_key(level: Shape, anchors: int, depthwise: bool) -> str:
    return f"rpn-in:{shape_token(level)}-a{anchors}-dw{int(depthwise)}"


def box_head_key(rois: int, pool: int, channels: int, hidden: int) -> str:
    return f"boxhead-r{rois}-in:{shape_token((pool, pool, channels))}-h{hidden}"


def dp_head_key(rois: int, channels: int, head: HeadSpec) -> str:
    pooled = shape_token((head.pool, head.pool, channels))
    return f"dphead-r{rois}-in:{pooled}-n{head.convs}-c{head.channels}-k{head.kernel}-o{head.out}"


@functools.lru_cache(maxsize=None)
def _anchors(level_names: tuple[str, ...]) -> int:
    """Anchors per location, from the generator the RPN builds (a single level gets every
    size). The count does not depend on the levels' strides or channels, so unit ones are
    passed."""
    return AnchorGenerator({name: ShapeSpec(1, 1) for name in level_names}, _CONFIG.anchor_ratios).num_anchors


@functools.lru_cache(maxsize=65536)
def _head_ops(levels: tuple[tuple[str, Shape], ...], depthwise: bool, head: HeadSpec, rois: int) -> tuple[Op, ...]:
    """Memoised: a search looks up thousands of architectures a second."""
    anchors = _anchors(tuple(name for name, _ in levels))
    channels = levels[0][1][2]
    ops = [Op("heads", f"rpn.{name}", rpn_key(shape, anchors, depthwise)) for name, shape in levels]
    ops.append(Op("heads", "box_head", box_head_key(rois, _CONFIG.box_pool, channels, head.box_dim)))
    ops.append(Op("heads", "densepose_head", dp_head_key(rois, channels, head)))
    return tuple(ops)


def clear_head_caches() -> None:
    """Forget memoised head ops (:func:`nas.latency.keys.clear_key_caches`)."""
    _head_ops.cache_clear()


def _heads_arch(arch: ArchSpec, ctx: KeyContext) -> list[Op]:
    return list(_head_ops(tuple(sorted(ctx.levels.items())), arch.neck.depthwise, arch.head, ctx.rois))


def _heads_space(space: SearchSpace, ctx: SpaceContext) -> set[str]:
    variants = {(a.neck.depthwise, a.head) for a in enumerate_decisions(space, lambda name: name.startswith("neck.") or name.startswith("head."))}
    keys: set[str] = set()
    for levels in ctx.level_shapes:
        for depthwise, head in variants:
            keys.update(op.key for op in _head_ops(levels, depthwise, head, ctx.rois))
    return keys


# -- rebuilding modules from keys ---------------------------------------------------------
class _FlatHead(nn.Module):
    """A head whose output (a tensor, a dict or nested lists) is flattened to a tuple of
    tensors for export. ``listed``: the head takes a list of levels (the RPN head), and
    runs here on one."""

    def __init__(self, head: nn.Module, listed: bool = False) -> None:
        super().__init__()
        self.head = head
        self.listed = listed

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        return _flatten(self.head([x] if self.listed else x))


def _flatten(out: object) -> tuple[Tensor, ...]:
    if isinstance(out, Tensor):
        return (out,)
    if isinstance(out, dict):
        return tuple(t for k in sorted(out) for t in _flatten(out[k]))
    return tuple(t for item in out for t in _flatten(item))  # type: ignore[attr-defined]


_RPN = re.compile(r"^rpn-in:([0-9x]+)-a(\d+)-dw([01])$")
_BOX = re.compile(r"^boxhead-r(\d+)-in:([0-9x]+)-h(\d+)$")
_DP = re.compile(r"^dphead-r(\d+)-in:([0-9x]+)-n(\d+)-c(\d+)-k(\d+)-o(\d+)$")


def _match(pattern: re.Pattern[str], key: str) -> re.Match[str]:
    found = pattern.match(key)
    if found is None:
        raise SpecError(f"malformed head op key {key!r}; expected the form {pattern.pattern}")
    return found


def _build_rpn(key: str) -> BuiltOp:
    m = _match(_RPN, key)
    h, w, c = parse_shape(m.group(1), key)
    head = RPNHead(c, int(m.group(2)), depthwise=m.group(3) == "1")
    return BuiltOp(_FlatHead(head, listed=True).eval(), (torch.randn(1, c, h, w),))


def _build_box_head(key: str) -> BuiltOp:
    m = _match(_BOX, key)
    rois = int(m.group(1))
    p, _, c = parse_shape(m.group(2), key)
    return BuiltOp(_FlatHead(BoxHead(c, p, int(m.group(3)))).eval(), (torch.randn(rois, c, p, p),))


def _build_dp_head(key: str) -> BuiltOp:
    m = _match(_DP, key)
    rois = int(m.group(1))
    p, _, c = parse_shape(m.group(2), key)
    head = HeadSpec(convs=int(m.group(3)), channels=int(m.group(4)), kernel=int(m.group(5)), pool=p, out=int(m.group(6)))
    return BuiltOp(_FlatHead(DensePoseHead(c, head)).eval(), (torch.randn(rois, c, p, p),))


# -- the dense deployed network (validation) ------------------------------------------------
class DenseDeployment(nn.Module):
    """Feature network + RPN head on every level + box and DensePose heads on ``rois``
    RoI feature inputs: everything the keys of an architecture add up to.

    Inputs: the image ``(1, 3, H, W)``, box-head RoI features ``(R, C, 7, 7)`` and
    DensePose-head RoI features ``(R, C, P, P)``; outputs flattened to a tuple.
    """

    def __init__(self, arch: ArchSpec) -> None:
        super().__init__()
        self.features = FeatureNetwork(arch)
        levels = self.features.output_shape()
        self.level_names = sorted(levels)
        channels = arch.neck.channels
        anchors = AnchorGenerator(levels, _CONFIG.anchor_ratios).num_anchors
        self.rpn = RPNHead(channels, anchors, depthwise=arch.neck.depthwise)
        self.box_head = BoxHead(channels, _CONFIG.box_pool, arch.head.box_dim)
        self.dp_head = DensePoseHead(channels, arch.head)

    def forward(self, image: Tensor, box_rois: Tensor, dp_rois: Tensor) -> tuple[Tensor, ...]:
        feats = self.features(image)
        outs = _flatten(self.rpn([feats[name] for name in self.level_names]))
        return outs + _flatten(self.box_head(box_rois)) + _flatten(self.dp_head(dp_rois))


def dense_program(arch_string: str, rois: int) -> str:
    """Program name of :class:`DenseDeployment` at ``rois`` RoIs (end-to-end validation)."""
    return f"{DENSE_PREFIX}r{rois}:{arch_string}"


def build_dense(name: str) -> BuiltOp:
    """The module and inputs of a :func:`dense_program` name."""
    found = re.match(rf"^{DENSE_PREFIX}r(\d+):(.+)$", name)
    if found is None:
        raise SpecError(f"malformed dense program name {name!r}; expected {DENSE_PREFIX}r<rois>:<arch string>")
    rois, arch = int(found.group(1)), ArchSpec.from_string(found.group(2))
    h, w = arch.input_size
    c, p = arch.neck.channels, arch.head.pool
    inputs = (torch.randn(1, 3, h, w), torch.randn(rois, c, _CONFIG.box_pool, _CONFIG.box_pool), torch.randn(rois, c, p, p))
    return BuiltOp(DenseDeployment(arch).eval(), inputs)


register_op_kind("rpn", _build_rpn)
register_op_kind("boxhead", _build_box_head)
register_op_kind("dphead", _build_dp_head)
register_op_provider("heads", _heads_arch, _heads_space)
