"""Backbone + neck: the searched part of the network, producing pyramid levels ``p<l>``."""

from __future__ import annotations

from torch import Tensor, nn

from nas.model.backbone import Backbone
from nas.model.necks import build_neck, required_features
from nas.model.shapes import ShapeSpec
from nas.space.spec import ArchSpec


class FeatureNetwork(nn.Module):
    """``image -> {p<l>: features}`` for an architecture spec."""

    def __init__(self, arch: ArchSpec) -> None:
        super().__init__()
        self.backbone = Backbone(arch, out_features=required_features(arch.neck))
        self.neck = build_neck(self.backbone.output_shape(), arch.neck)

    def output_shape(self) -> dict[str, ShapeSpec]:
        return self.neck.output_shape()

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        return self.neck(self.backbone(x))
