"""Neck registry: ``builder(in_shapes, spec) -> Neck``, one module per variant."""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from nas.errors import RegistryError, SpecError
from nas.model.shapes import ShapeSpec
from nas.space.spec import FEATURE_STRIDES, NeckSpec

__all__ = ["Neck", "NECKS", "register_neck", "build_neck", "neck_names"]


class Neck(nn.Module):
    """Base class: maps backbone features ``c<l>`` to output levels ``p<l>``."""

    def __init__(self, in_shapes: dict[str, ShapeSpec], spec: NeckSpec) -> None:
        super().__init__()
        self.spec = spec
        self.in_shapes = dict(in_shapes)
        self._out = {f"p{level}": ShapeSpec(spec.channels, 2**level) for level in spec.levels}

    def output_shape(self) -> dict[str, ShapeSpec]:
        """Output level name -> channels and stride."""
        return dict(self._out)

    def forward(self, features: dict[str, Tensor]) -> dict[str, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError


NeckBuilder = Callable[[dict[str, ShapeSpec], NeckSpec], Neck]
NECKS: dict[str, NeckBuilder] = {}


def register_neck(name: str) -> Callable[[NeckBuilder], NeckBuilder]:
    def wrap(builder: NeckBuilder) -> NeckBuilder:
        if name in NECKS:
            raise ValueError(f"neck {name!r} is registered twice")
        NECKS[name] = builder
        return builder

    return wrap


def neck_names() -> list[str]:
    return list(NECKS)


def required_features(spec: NeckSpec) -> tuple[str, ...]:
    """Backbone features a neck reads: ``c<l>`` for its levels up to 5 (levels above 5
    are made from the top one)."""
    top = min(spec.max_level, 5)
    return tuple(f"c{level}" for level in range(spec.min_level, top + 1))


def build_neck(in_shapes: dict[str, ShapeSpec], spec: NeckSpec) -> Neck:
    """Build the neck ``spec`` names, checking the backbone provides what it reads."""
    try:
        builder = NECKS[spec.variant]
    except KeyError:
        raise RegistryError(f"unknown neck variant {spec.variant!r}; known variants: {', '.join(NECKS)}") from None
    missing = [f for f in required_features(spec) if f not in in_shapes]
    if missing:
        have = ", ".join(f"{n} (stride {FEATURE_STRIDES[n]})" for n in in_shapes) or "none"
        raise SpecError(f"neck {spec.variant!r} with levels P{spec.min_level}..P{spec.max_level} needs backbone features {missing}; the backbone gives {have}")
    return builder(in_shapes, spec)
