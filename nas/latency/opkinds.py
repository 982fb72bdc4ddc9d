"""Op keys as text: one readable string per deployed op, and the module it builds.

A key carries the full shape and settings of one op, so a table row can be profiled on
any device from the key alone. Every key starts with its *kind* (the text before the
first ``-``); a registry maps kinds to a parser that rebuilds the module and example
inputs. Formats (``HxWxC`` is height, width, channels of one image, batch 1)::

    <block>-in:HxWxC-out:HxWxC-s<stride>-<params>      backbone block, params sorted by name
        e.g. ir-in:64x48x24-out:32x24x40-s2-e6-k5-relu-se0
        params: every option the block declares (:mod:`nas.blocks.options`), by its key
                letter: k<kernels, dot-joined> e<expansion> se<ratio> sq<squeeze> dw<0|1>
                eg<expand groups> pg<project groups>; the activation by its name
    stem-in:HxWxC-out:HxWxC-k<kernel>-s<stride>-<act>-pool<0|1>-pad<padding>
    unit-in:HxWxC-out:HxWxC-<layer>.<layer>...        a sequential conv unit (neck convs)
        layers: c<out>k<kernel>s<stride>p<pad>g<groups>[b] (conv, b = with bias), bn, <act>
    glue-<variant>-c<channels>-l<min>.<max>-r<repeats>-in:HxW.HxW...
        everything of a neck that is not a conv unit (sums, resizes, pools, fusion
        weights), with the units replaced by identities; one input size per level read

Other parts (the DensePose R-CNN heads) add their kinds with :func:`register_op_kind`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from nas.blocks import BLOCKS, BlockOption, build_block, get_block
from nas.errors import RegistryError, SpecError
from nas.latency.units import ACTIVATION_TYPES, strip_units
from nas.layers.activations import ACTIVATIONS, make_activation
from nas.registry import Registry, callable_with

__all__ = [
    "BuiltOp",
    "OpKindBuilder",
    "OP_KINDS",
    "register_op_kind",
    "op_kinds",
    "build_op",
    "key_kind",
    "shape_token",
    "parse_shape",
    "block_key",
    "parse_block_key",
    "stem_key",
    "unit_key",
    "unit_layers",
    "glue_key",
]

Shape = tuple[int, int, int]  # (H, W, C) of one image


@dataclass
class BuiltOp:
    """A module rebuilt from a key, with inputs of the key's shapes (batch 1, fp32).

    Attributes:
        module: the op in eval mode; ``module(*inputs)`` runs it once.
        inputs: example inputs (random values; latency does not depend on them).
    """

    module: nn.Module
    inputs: tuple[Tensor, ...]


OpKindBuilder = Callable[[str], BuiltOp]


def _not_a_block(kind: str, builder: OpKindBuilder) -> None:
    if kind in BLOCKS:
        raise ValueError(f"op kind {kind!r} is a block type: its keys are rebuilt through the block registry")


# Kinds other than block types (every block type is a kind of its own, built by the block registry).
OP_KINDS: Registry[OpKindBuilder] = Registry("op kind", callable_with("key"), plural="kinds", admit=_not_a_block)


def register_op_kind(kind: str, builder: OpKindBuilder) -> None:
    """Register how keys starting with ``<kind>-`` are rebuilt into a module."""
    OP_KINDS.register(kind, builder)


def op_kinds() -> list[str]:
    """Known key kinds: the registered ones and every block type."""
    return sorted(set(OP_KINDS) | set(BLOCKS))


def key_kind(key: str) -> str:
    return key.split("-", 1)[0]


def build_op(key: str) -> BuiltOp:
    """Rebuild the module and example inputs a key describes."""
    kind = key_kind(key)
    if kind in BLOCKS:
        return _build_block(key)
    if kind not in OP_KINDS:
        raise RegistryError(f"op key {key!r} has unknown kind {kind!r}; known kinds: {', '.join(op_kinds())}")
    return OP_KINDS.get(kind)(key)


# -- shapes ------------------------------------------------------------------------
def shape_token(shape: Shape) -> str:
    return f"{shape[0]}x{shape[1]}x{shape[2]}"


def parse_shape(text: str, key: str) -> Shape:
    parts = text.split("x")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise SpecError(f"op key {key!r}: bad shape {text!r}, expected HxWxC")
    return int(parts[0]), int(parts[1]), int(parts[2])


def _tensor(shape: Shape) -> Tensor:
    h, w, c = shape
    return torch.randn(1, c, h, w)


def _split_io(key: str, parts: list[str]) -> tuple[Shape, Shape]:
    if len(parts) < 3 or not parts[1].startswith("in:") or not parts[2].startswith("out:"):
        raise SpecError(f"op key {key!r}: expected '<kind>-in:HxWxC-out:HxWxC-...'")
    return parse_shape(parts[1][3:], key), parse_shape(parts[2][4:], key)


# -- block params: each written by the key letter its block declares ------------------
_PARAM_TOKEN = re.compile(r"^([a-z]+)([0-9][0-9.]*)$")


def _option(block: str, name: str) -> BlockOption:
    option = get_block(block).option(name)
    if option is None:
        raise SpecError(f"block {block!r}: parameter {name!r} is no option the block declares; declare it where the block registers")
    return option


def block_key(block: str, in_shape: Shape, out_shape: Shape, stride: int, params: tuple[tuple[str, Any], ...]) -> str:
    """Key of one backbone block instance (``params`` as in :class:`~nas.model.BlockCall`),
    the params sorted by name."""
    tokens = [block, f"in:{shape_token(in_shape)}", f"out:{shape_token(out_shape)}", f"s{stride}"]
    for name, value in sorted(params):
        tokens.append(str(value) if name == "act" else _option(block, name).key_text(value))
    return "-".join(tokens)


def parse_block_key(key: str) -> tuple[str, Shape, Shape, int, dict[str, Any]]:
    """Inverse of :func:`block_key`: block, input shape, output shape, stride, params."""
    parts = key.split("-")
    block = parts[0]
    in_shape, out_shape = _split_io(key, parts)
    if len(parts) < 4 or not re.fullmatch(r"s[0-9]+", parts[3]):
        raise SpecError(f"op key {key!r}: expected the stride s<n> after the shapes")
    by_letter = {o.key_letter: o for o in get_block(block).options}
    params: dict[str, Any] = {}
    for token in parts[4:]:
        if token in ACTIVATIONS:
            params["act"] = token
            continue
        match = _PARAM_TOKEN.match(token)
        if not match or match.group(1) not in by_letter:
            raise SpecError(f"op key {key!r}: unknown token {token!r}")
        option = by_letter[match.group(1)]
        params[option.name] = option.parse_key(match.group(2))
    return block, in_shape, out_shape, int(parts[3][1:]), params


def _build_block(key: str) -> BuiltOp:
    block, in_shape, out_shape, stride, params = parse_block_key(key)
    module = build_block(block, in_shape[2], out_shape[2], stride, **params)
    return BuiltOp(module.eval(), (_tensor(in_shape),))


# -- stem ----------------------------------------------------------------------------
def stem_key(in_shape: Shape, out_shape: Shape, kernel: int, stride: int, act: str, pool: bool, padding: int) -> str:
    return f"stem-in:{shape_token(in_shape)}-out:{shape_token(out_shape)}-k{kernel}-s{stride}-{act}-pool{int(pool)}-pad{padding}"


def _build_stem(key: str) -> BuiltOp:
    from nas.model.backbone import Stem
    from nas.space.spec import StemSpec

    parts = key.split("-")
    in_shape, out_shape = _split_io(key, parts)
    match = re.fullmatch(r"k(\d+)-s(\d+)-([a-z0-9]+)-pool([01])-pad(\d+)", "-".join(parts[3:]))
    if not match:
        raise SpecError(f"op key {key!r}: expected stem-in:..-out:..-k<k>-s<s>-<act>-pool<0|1>-pad<p>")
    kernel, stride, act, pool, pad = match.groups()
    spec = StemSpec(channels=out_shape[2], kernel=int(kernel), stride=int(stride), act=act, pool=pool == "1", padding=int(pad))
    return BuiltOp(Stem(spec, in_ch=in_shape[2]).eval(), (_tensor(in_shape),))


# -- conv units (:mod:`nas.latency.units`) ----------------------------------------------
def unit_layers(unit: nn.Module) -> list[str]:
    """Layer tokens of a sequential conv unit, in execution order (identities dropped)."""
    tokens = []
    for leaf in (m for m in unit.modules() if not list(m.children())):
        if isinstance(leaf, nn.Conv2d):
            k, s, p = leaf.kernel_size[0], leaf.stride[0], leaf.padding[0]  # type: ignore[index]
            tokens.append(f"c{leaf.out_channels}k{k}s{s}p{p}g{leaf.groups}{'b' if leaf.bias is not None else ''}")
        elif isinstance(leaf, nn.BatchNorm2d):
            tokens.append("bn")
        elif type(leaf) in ACTIVATION_TYPES:
            tokens.append(ACTIVATION_TYPES[type(leaf)])
        elif not isinstance(leaf, nn.Identity):
            raise SpecError(f"conv unit holds an unsupported layer {type(leaf).__name__}")
    return tokens


def unit_key(in_shape: Shape, out_shape: Shape, layers: list[str]) -> str:
    return f"unit-in:{shape_token(in_shape)}-out:{shape_token(out_shape)}-{'.'.join(layers)}"


_CONV_TOKEN = re.compile(r"c(\d+)k(\d+)s(\d+)p(\d+)g(\d+)(b?)")


def _build_unit(key: str) -> BuiltOp:
    parts = key.split("-")
    in_shape, _ = _split_io(key, parts)
    if len(parts) != 4:
        raise SpecError(f"op key {key!r}: expected unit-in:..-out:..-<layers>")
    layers: list[nn.Module] = []
    channels = in_shape[2]
    for token in parts[3].split("."):
        conv = _CONV_TOKEN.fullmatch(token)
        if conv:
            out, k, s, p, g, bias = conv.groups()
            layers.append(nn.Conv2d(channels, int(out), int(k), int(s), int(p), groups=int(g), bias=bias == "b"))
            channels = int(out)
        elif token == "bn":
            layers.append(nn.BatchNorm2d(channels))
        elif token in ACTIVATIONS:
            layers.append(make_activation(token))
        else:
            raise SpecError(f"op key {key!r}: unknown unit layer {token!r}")
    return BuiltOp(nn.Sequential(*layers).eval(), (_tensor(in_shape),))


# -- neck glue -------------------------------------------------------------------------
def glue_key(variant: str, channels: int, min_level: int, max_level: int, repeats: int, sizes: list[tuple[int, int]]) -> str:
    hw = ".".join(f"{h}x{w}" for h, w in sizes)
    return f"glue-{variant}-c{channels}-l{min_level}.{max_level}-r{repeats}-in:{hw}"


class GlueOp(nn.Module):
    """A neck whose conv units are identities, called with positional level inputs."""

    def __init__(self, neck: nn.Module, names: tuple[str, ...]) -> None:
        super().__init__()
        self.neck = neck
        self.names = names

    def forward(self, *xs: Tensor) -> tuple[Tensor, ...]:
        out = self.neck(dict(zip(self.names, xs)))
        return tuple(out[k] for k in sorted(out))


def _build_glue(key: str) -> BuiltOp:
    from nas.model.necks import build_neck, required_features
    from nas.model.shapes import ShapeSpec
    from nas.space.spec import FEATURE_STRIDES, NeckSpec

    match = re.fullmatch(r"glue-([a-z]+)-c(\d+)-l(\d+)\.(\d+)-r(\d+)-in:([0-9x.]+)", key)
    if not match:
        raise SpecError(f"op key {key!r}: expected glue-<variant>-c<ch>-l<min>.<max>-r<repeats>-in:HxW.HxW...")
    variant, ch, low, high, repeats, sizes_text = match.groups()
    spec = NeckSpec(variant, int(ch), int(low), int(high), False, int(repeats))
    names = required_features(spec)
    sizes = [tuple(int(v) for v in s.split("x")) for s in sizes_text.split(".")]
    if len(sizes) != len(names) or any(len(s) != 2 for s in sizes):
        raise SpecError(f"op key {key!r}: {len(names)} input sizes expected for features {', '.join(names)}")
    neck = build_neck({n: ShapeSpec(int(ch), FEATURE_STRIDES[n]) for n in names}, spec)
    strip_units(neck)
    inputs = tuple(torch.randn(1, int(ch), h, w) for h, w in sizes)
    return BuiltOp(GlueOp(neck, names).eval(), inputs)


register_op_kind("stem", _build_stem)
register_op_kind("unit", _build_unit)
register_op_kind("glue", _build_glue)
