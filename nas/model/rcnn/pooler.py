"""RoIAlign over a feature pyramid: each box pooled from the level its size maps to."""

from __future__ import annotations


import torch
from torch import Tensor, nn

from nas.model.rcnn.roi_align import roi_align, roi_align_padded
from nas.model.shapes import ShapeSpec

__all__ = ["MultiScaleRoIAlign"]


class MultiScaleRoIAlign(nn.Module):
    """Level ``floor(k0 + log2(sqrt(area) / s0))`` clamped to the pyramid (FPN eq. 1).

    Only levels up to P5 pool RoIs, as in detectron2; a one-level neck pools everything
    from its level.
    """

    def __init__(self, levels: dict[str, ShapeSpec], output_size: int, canonical_level: int = 4, canonical_size: float = 224.0, sampling_ratio: int = 2) -> None:
        super().__init__()
        names = [n for n in levels if int(n[1:]) <= 5] or list(levels)[:1]
        self.names = names
        self.levels = [int(n[1:]) for n in names]
        self.scales = [1.0 / levels[n].stride for n in names]
        self.output_size = output_size
        self.canonical_level = canonical_level
        self.canonical_size = canonical_size
        self.sampling_ratio = sampling_ratio

    def assign_levels(self, boxes: Tensor) -> Tensor:
        """Index into ``self.names`` for each box ``(K, 4)``."""
        size = torch.sqrt(((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).clamp(min=1e-6))
        level = torch.floor(self.canonical_level + torch.log2(size / self.canonical_size + 1e-8))
        level = level.clamp(self.levels[0], self.levels[-1]).long()
        return level - self.levels[0]

    def forward(self, features: dict[str, Tensor], boxes: list[Tensor]) -> Tensor:
        rois = torch.cat([torch.cat([torch.full((len(b), 1), i, dtype=b.dtype, device=b.device), b], 1) for i, b in enumerate(boxes)])
        first = features[self.names[0]]
        if rois.shape[0] == 0:
            return first.new_zeros((0, first.shape[1], self.output_size, self.output_size))
        assigned = self.assign_levels(rois[:, 1:])
        pieces, order = [], []
        for index, (name, scale) in enumerate(zip(self.names, self.scales)):
            chosen = torch.nonzero(assigned == index).flatten()
            if chosen.numel():
                pieces.append(roi_align(features[name], rois[chosen], self.output_size, scale, self.sampling_ratio, aligned=True))
                order.append(chosen)
        if len(pieces) == 1:
            return pieces[0]
        return torch.cat(pieces)[torch.argsort(torch.cat(order))]  # back to the order of ``boxes``

    def forward_padded(self, features: dict[str, Tensor], boxes: Tensor) -> Tensor:
        """:meth:`forward` of the same number ``R`` of boxes per image, ``boxes (B, R, 4)``:
        ``(B * R, C, out, out)``, image-major. Every level pools every box with the boxes
        of other levels weighted 0 (a few times the arithmetic, no data-dependent shape:
        the host never waits for the device)."""
        if len(self.names) == 1:
            return roi_align_padded(features[self.names[0]], boxes, self.output_size, self.scales[0], self.sampling_ratio)
        assigned = self.assign_levels(boxes.reshape(-1, 4)).reshape(boxes.shape[:2])
        pooled = [roi_align_padded(features[name], boxes, self.output_size, scale, self.sampling_ratio, weight=assigned == index)
                  for index, (name, scale) in enumerate(zip(self.names, self.scales))]
        return torch.stack(pooled).sum(0)
