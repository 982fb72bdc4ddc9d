"""Elastic necks: one per neck variant, registered under the variant's name.

An elastic neck holds the weights of every neck of its variant a space offers (elastic in
channels, levels, depthwise convs and repeats) and computes, for one
:class:`~nas.space.spec.NeckSpec`, what :func:`nas.model.build_neck` builds for it.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from nas.errors import SupernetError
from nas.model.necks import required_features
from nas.registry import Registry, subclass_of
from nas.space.spec import NeckSpec
from nas.supernet.elastic import State

__all__ = ["ElasticNeck", "ELASTIC_NECKS", "register_elastic_neck", "build_elastic_neck"]


class ElasticNeck(nn.Module):
    """Base class, built from the neck specs it must hold and the widest width of each
    backbone feature (``c<l>`` -> channels)."""

    def __init__(self, specs: tuple[NeckSpec, ...], in_widths: dict[str, int]) -> None:
        super().__init__()
        if not specs:
            raise ValueError("an elastic neck needs at least one neck spec to hold weights for")
        self.channels = max(s.channels for s in specs)
        self.depthwise = frozenset(s.depthwise for s in specs)
        self.features = tuple(sorted({f for s in specs for f in required_features(s)}, key=lambda f: int(f[1:])))
        self.in_widths = {f: in_widths[f] for f in self.features}

    def forward(self, features: dict[str, Tensor], spec: NeckSpec) -> dict[str, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def slice_state(self, spec: NeckSpec, in_channels: dict[str, int]) -> State:  # pragma: no cover - abstract
        """The state_dict of ``build_neck(shapes, spec)`` for backbone features of ``in_channels``."""
        raise NotImplementedError


ELASTIC_NECKS: Registry[type[ElasticNeck]] = Registry("elastic neck variant", subclass_of(ElasticNeck), plural="variants", error=SupernetError)


def register_elastic_neck(name: str) -> Callable[[type[ElasticNeck]], type[ElasticNeck]]:
    return ELASTIC_NECKS.decorator(name)


def build_elastic_neck(variant: str, specs: tuple[NeckSpec, ...], in_widths: dict[str, int]) -> ElasticNeck:
    if variant not in ELASTIC_NECKS:
        raise SupernetError(f"neck variant {variant!r} has no elastic version for a supernet; supernets hold "
                            f"{', '.join(ELASTIC_NECKS.names())}: remove {variant!r} from the search space")
    return ELASTIC_NECKS.get(variant)(specs, in_widths)
