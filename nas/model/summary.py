"""Per-stage summary of a network: block type, widths, strides, output resolution, counts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from nas.model.backbone import Backbone
from nas.model.classifier import ImageClassifier
from nas.model.complexity import count_macs, count_params
from nas.model.features import FeatureNetwork
from nas.space.codec import encode_stage
from nas.space.spec import ArchSpec

__all__ = ["StageRow", "ArchSummary", "summarize"]


@dataclass(frozen=True)
class StageRow:
    name: str
    token: str
    block: str
    out_channels: int
    stride: int  # cumulative, input pixels per output pixel
    resolution: tuple[int, int]  # output H, W at the summarised input size
    params: int


@dataclass(frozen=True)
class ArchSummary:
    arch: str
    id: str
    input: tuple[int, int]
    classifier: int | None
    params: int
    macs: int
    backbone_params: int
    neck_params: int
    stages: list[StageRow]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["input"] = list(self.input)
        for row in data["stages"]:
            row["resolution"] = list(row["resolution"])
        return data


def _stage_resolutions(backbone: Backbone, x: torch.Tensor) -> list[tuple[int, int]]:
    shapes: list[tuple[int, int]] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[-2:]))) for m in [backbone.stem, *backbone.stages]]
    try:
        with torch.no_grad():
            backbone.forward_last(x)
    finally:
        for h in hooks:
            h.remove()
    return shapes


def summarize(arch: ArchSpec, input_size: tuple[int, int] | None = None, classifier: int | None = None) -> ArchSummary:
    """Params and MACs at ``input_size`` (default: the deploy size) of the backbone + neck,
    or of the backbone + an ImageNet-style classifier with ``classifier`` classes."""
    h, w = input_size or arch.input_size
    x = torch.randn(1, 3, h, w)
    model: nn.Module
    if classifier is not None:
        model = ImageClassifier(arch, classifier)
        backbone, neck_params = model.backbone, 0
    else:
        model = FeatureNetwork(arch)
        backbone, neck_params = model.backbone, count_params(model.neck)
    model.eval()
    macs = count_macs(model, x)
    resolutions = _stage_resolutions(backbone, x)
    strides = arch.stage_strides()
    rows = [StageRow("stem", "stem", "conv", arch.stem.channels, arch.stem.total_stride, resolutions[0], count_params(backbone.stem))]
    for i, stage in enumerate(backbone.stages):
        spec = arch.stages[i]
        rows.append(StageRow(f"s{i}", encode_stage(spec), spec.block, spec.channels, strides[i], resolutions[i + 1], count_params(stage)))
    return ArchSummary(
        arch=arch.to_string(),
        id=arch.id,
        input=(h, w),
        classifier=classifier,
        params=count_params(model),
        macs=macs,
        backbone_params=count_params(backbone),
        neck_params=neck_params,
        stages=rows,
    )
