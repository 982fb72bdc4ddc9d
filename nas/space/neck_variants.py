"""Neck variants as a spec knows them: name, one level or a pyramid, stacked repeats or not.

This is the space layer's half of the neck registry: a :class:`~nas.space.spec.NeckSpec`,
the codec and search spaces validate a neck from these declarations alone. The model
layer's builders (:mod:`nas.model.necks`) register against the declared names and
refuse undeclared ones, and a contract test checks every declared variant has a builder.
"""

from __future__ import annotations

from dataclasses import dataclass

from nas.registry import Registry, instance_of

__all__ = ["NeckVariant", "NECK_VARIANTS", "declare_neck_variant", "repeat_variants"]


@dataclass(frozen=True)
class NeckVariant:
    """A declared neck variant.

    Attributes:
        name: the token in spec strings (``fpn_c64_l2.5``) and YAML files.
        multi_level: a pyramid of two levels or more; else one level (``l<k>.<k>``).
        repeats: stacked layers apply (``r<n>``), as BiFPN's.
        description: one line for documentation and messages.
    """

    name: str
    multi_level: bool
    repeats: bool
    description: str


NECK_VARIANTS: Registry[NeckVariant] = Registry("neck variant", instance_of(NeckVariant), plural="variants")


def declare_neck_variant(variant: NeckVariant) -> NeckVariant:
    return NECK_VARIANTS.register(variant.name, variant)


def repeat_variants() -> list[str]:
    """Variants whose layers stack (``r<n>``)."""
    return [v.name for v in NECK_VARIANTS.values() if v.repeats]


declare_neck_variant(NeckVariant("none", multi_level=False, repeats=False, description="one level, a 1x1 projection of one backbone feature"))
declare_neck_variant(NeckVariant("fpn", multi_level=True, repeats=False, description="Feature Pyramid Network: top-down path"))
declare_neck_variant(NeckVariant("panet", multi_level=True, repeats=False, description="PANet: FPN plus a bottom-up path"))
declare_neck_variant(NeckVariant("bifpn", multi_level=True, repeats=True, description="BiFPN: repeated weighted bidirectional layers"))
