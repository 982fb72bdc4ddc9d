"""Elastic feature network: the elastic backbone and one elastic neck per variant the space
offers. Activated with an architecture, it computes what :class:`nas.model.FeatureNetwork`
computes for it, and :meth:`ElasticFeatureNetwork.slice_state` gives that network's weights.
"""

from __future__ import annotations

from torch import Tensor, nn

from nas.errors import SupernetError
from nas.model.necks import required_features
from nas.model.shapes import ShapeSpec
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec
from nas.supernet.backbone import ElasticBackbone
from nas.supernet.conv_bn import prefixed
from nas.supernet.elastic import State
from nas.supernet.envelope import feature_widths, neck_specs
from nas.supernet.membership import require_in_space
from nas.supernet.necks import build_elastic_neck

__all__ = ["ElasticFeatureNetwork"]


class ElasticFeatureNetwork(nn.Module):
    """``image -> {p<l>: features}`` for the active architecture of a search space."""

    def __init__(self, space: SearchSpace) -> None:
        super().__init__()
        self.space = space
        self.backbone = ElasticBackbone(space)
        widths = feature_widths(space)
        self.necks = nn.ModuleDict({v: build_elastic_neck(v, neck_specs(space, v), widths) for v in space.neck_variants})
        self.arch: ArchSpec | None = None

    def activate(self, arch: ArchSpec) -> ElasticFeatureNetwork:
        """Select ``arch``'s sub-network (an architecture of the space, else :class:`SupernetError`)."""
        require_in_space(self.space, arch)
        self.arch = arch
        return self

    @property
    def active(self) -> ArchSpec:
        if self.arch is None:
            raise SupernetError("no architecture is active in the supernet; call activate(arch) before running it")
        return self.arch

    def output_shape(self) -> dict[str, ShapeSpec]:
        neck = self.active.neck
        return {f"p{level}": ShapeSpec(neck.channels, 2**level) for level in neck.levels}

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        arch = self.active
        features = self.backbone(x, arch, required_features(arch.neck))
        return self.necks[arch.neck.variant](features, arch.neck)

    def slice_state(self, arch: ArchSpec) -> State:
        """The state_dict of ``FeatureNetwork(arch)``."""
        require_in_space(self.space, arch)
        out_features = required_features(arch.neck)
        widths = {name: arch.stages[index].channels for name, index in arch.feature_stages().items()}
        return {**prefixed("backbone", self.backbone.slice_state(arch, out_features)),
                **prefixed("neck", self.necks[arch.neck.variant].slice_state(arch.neck, widths))}
