"""Neck registry: ``builder(in_shapes, spec) -> Neck``, one module per variant.

The variants themselves are declared at the space layer (:mod:`nas.space.neck_variants`),
where specs are validated; a builder registers against a declared name only.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from nas.errors import SpecError
from nas.model.shapes import ShapeSpec
from nas.registry import Registry, callable_with
from nas.space.neck_variants import NECK_VARIANTS
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


def _declared(name: str, builder: NeckBuilder) -> None:
    if name not in NECK_VARIANTS:
        raise ValueError(f"neck {name!r} is not a declared variant ({', '.join(NECK_VARIANTS)}); declare it in nas.space.neck_variants")


NECKS: Registry[NeckBuilder] = Registry("neck variant", callable_with("in_shapes", "spec"), plural="variants", admit=_declared)


def register_neck(name: str) -> Callable[[NeckBuilder], NeckBuilder]:
    """Decorator registering the builder of the declared variant ``name``."""
    return NECKS.decorator(name)


def neck_names() -> list[str]:
    return NECKS.names()


def required_features(spec: NeckSpec) -> tuple[str, ...]:
    """Backbone features a neck reads: ``c<l>`` for its levels up to 5 (levels above 5
    are made from the top one)."""
    top = min(spec.max_level, 5)
    return tuple(f"c{level}" for level in range(spec.min_level, top + 1))


def build_neck(in_shapes: dict[str, ShapeSpec], spec: NeckSpec) -> Neck:
    """Build the neck ``spec`` names, checking the backbone provides what it reads."""
    builder = NECKS.get(spec.variant)
    missing = [f for f in required_features(spec) if f not in in_shapes]
    if missing:
        have = ", ".join(f"{n} (stride {FEATURE_STRIDES[n]})" for n in in_shapes) or "none"
        raise SpecError(f"neck {spec.variant!r} with levels P{spec.min_level}..P{spec.max_level} needs backbone features {missing}; the backbone gives {have}")
    return builder(in_shapes, spec)
