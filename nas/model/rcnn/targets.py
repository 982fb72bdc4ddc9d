"""A batch's ground truth padded to one count per image, for the training step that never
waits for the device (:meth:`~nas.model.rcnn.model.DensePoseRCNN.forward` with
``static_shapes``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
from torch import Tensor

__all__ = ["PaddedTargets", "pad_targets"]


@dataclass(frozen=True)
class PaddedTargets:
    """Per image ``G`` instance rows and ``P`` point rows (the batch's largest counts, at
    least 1); rows past an image's own are padding.

    Attributes:
        boxes: ``(B, G, 4)`` xyxy pixels (padding: zeros).
        valid: ``(B, G)`` real and not crowd: the instances boxes are matched to.
        has_dp: ``(B, G)`` the instance has DensePose annotations.
        masks: ``(B, G, S, S)`` coarse part labels in the box frame.
        point_inst: ``(B, P)`` the instance row of each point (padding: -1, no instance).
        point_xy: ``(B, P, 2)`` in the instance's 256 box frame.
        point_i, point_u, point_v: ``(B, P)`` fine part, U and V of each point.
    """

    boxes: Tensor
    valid: Tensor
    has_dp: Tensor
    masks: Tensor
    point_inst: Tensor
    point_xy: Tensor
    point_i: Tensor
    point_u: Tensor
    point_v: Tensor


def _padded(pieces: Sequence[Tensor], rows: int, fill: float | bool) -> Tensor:
    """``pieces`` (each ``(n_i, ...)``) stacked into ``(B, rows, ...)``, ``fill`` after each."""
    out = pieces[0].new_full((len(pieces), rows, *pieces[0].shape[1:]), fill)
    for i, piece in enumerate(pieces):
        out[i, : len(piece)] = piece
    return out


def pad_targets(targets: Sequence[dict[str, Any]], device: torch.device) -> PaddedTargets:
    """``targets`` (:class:`nas.data.Target` dicts) padded where they are (the host, in a
    training step), then moved to ``device`` in one copy per field, page-locked and
    asynchronous on CUDA: the counts are the host's, so nothing is read from the device."""
    instances = max(1, max(len(t["boxes"]) for t in targets))
    points = max(1, max(len(t["dp_inst"]) for t in targets))
    real = _padded([torch.ones(len(t["boxes"]), dtype=torch.bool, device=t["boxes"].device) for t in targets], instances, False)
    fields = {
        "boxes": _padded([t["boxes"].reshape(-1, 4) for t in targets], instances, 0.0),
        "valid": real & ~_padded([t["is_crowd"] for t in targets], instances, True),
        "has_dp": _padded([t["has_dp"] for t in targets], instances, False),
        "masks": _padded([t["dp_masks"] for t in targets], instances, 0),
        "point_inst": _padded([t["dp_inst"] for t in targets], points, -1),
        "point_xy": _padded([t["dp_xy"].reshape(-1, 2) for t in targets], points, 0.0),
        "point_i": _padded([t["dp_I"] for t in targets], points, 0),
        "point_u": _padded([t["dp_U"] for t in targets], points, 0.0),
        "point_v": _padded([t["dp_V"] for t in targets], points, 0.0),
    }
    if device.type == "cuda":
        fields = {k: (v if v.is_cuda else v.pin_memory()) for k, v in fields.items()}
    return PaddedTargets(**{k: v.to(device, non_blocking=True) for k, v in fields.items()})
