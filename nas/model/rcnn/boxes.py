"""Box utilities: IoU, (batched) non-maximum suppression, delta encoding.

Plain torch (torchvision's compiled ops do not load with the CPU wheel, see DESIGN.md).
Boxes are ``(N, 4)`` tensors ``x1, y1, x2, y2`` in pixels.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["box_area", "box_iou", "overlap_above", "nms", "sorted_nms", "batched_nms", "BoxCoder", "clip_boxes", "STATIC_NMS_PASSES"]

# Passes of sorted_nms when the device must not be waited for: twice the longest
# suppression chain met in 450 proxy training steps of three networks (22 passes)
STATIC_NMS_PASSES = 48


def box_area(boxes: Tensor) -> Tensor:
    return (boxes[..., 2] - boxes[..., 0]).clamp(min=0) * (boxes[..., 3] - boxes[..., 1]).clamp(min=0)


def box_iou(a: Tensor, b: Tensor) -> Tensor:
    """``(N, M)`` intersection over union; 0 where the union is empty. Leading batch
    dimensions broadcast: ``a (B, N, 4)`` and ``b (B, M, 4)`` or ``(M, 4)`` give ``(B, N, M)``."""
    lt = torch.maximum(a[..., :, None, :2], b[..., None, :, :2])
    rb = torch.minimum(a[..., :, None, 2:], b[..., None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=-1)
    union = box_area(a)[..., :, None] + box_area(b)[..., None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(inter))


def overlap_above(boxes: Tensor, iou_threshold: float, others: Tensor | None = None) -> Tensor:
    """``(G, K, M)`` bool: whether box ``j`` of ``boxes (G, K, 4)`` and box ``i`` of
    ``others (G, M, 4)`` (default: ``boxes``) overlap by an IoU strictly above the threshold.

    Tested as ``inter * (1 + t) > t * (area_j + area_i)`` (the same as ``inter / union > t``
    for a non-empty union), which spares the division and its clamp: this matrix is most of
    the RPN's proposal selection.
    """
    x1, y1, x2, y2 = boxes.unbind(-1)
    u1, v1, u2, v2 = (boxes if others is None else others).unbind(-1)
    width = (torch.minimum(x2[:, :, None], u2[:, None]) - torch.maximum(x1[:, :, None], u1[:, None])).clamp_(min=0)
    height = (torch.minimum(y2[:, :, None], v2[:, None]) - torch.maximum(y1[:, :, None], v1[:, None])).clamp_(min=0)
    inter = width.mul_(height)
    area = (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)
    other_area = area if others is None else (u2 - u1).clamp(min=0) * (v2 - v1).clamp(min=0)
    return inter.mul_(1.0 + iou_threshold) > (area[:, :, None] + other_area[:, None]).mul_(iou_threshold)


def _suppression(boxes: Tensor, valid: Tensor, iou_threshold: float, block: int = 64) -> Tensor:
    """``(G, K, K)`` in ``boxes.dtype``: 1 where valid box ``j`` would suppress box ``i > j``.

    Built ``block`` rows at a time against the boxes from the block on, so that the lower
    triangle (which no pass reads) is mostly not computed: 56% of the full matrix's work
    for 500 boxes, in pieces that stay in the CPU caches (a third of the time on one
    core), each entry the same as the full matrix's."""
    k = boxes.shape[1]
    if k <= block:
        return (torch.triu(overlap_above(boxes, iou_threshold), diagonal=1) & valid[:, :, None]).to(boxes.dtype)
    out = boxes.new_zeros((boxes.shape[0], k, k))
    for start in range(0, k, block):
        stop = min(start + block, k)
        part = overlap_above(boxes[:, start:stop], iou_threshold, boxes[:, start:])  # rows j, columns i >= start
        part[:, :, : stop - start] = torch.triu(part[:, :, : stop - start], diagonal=1)
        out[:, start:stop, start:] = part & valid[:, start:stop, None]
    return out


def sorted_nms(boxes: Tensor, valid: Tensor, iou_threshold: float, passes: int | None = None) -> Tensor:
    """Greedy NMS of ``G`` groups at once: ``keep (G, K)`` for ``boxes (G, K, 4)`` whose
    rows are in decreasing score order; ``valid (G, K)`` marks real boxes (padding and
    invalid boxes are neither kept nor suppress anything).

    torchvision ``nms`` semantics: a box is dropped when its IoU with a kept higher-scoring
    box is strictly above the threshold. Computed as the fixed point of ``keep[i] = valid[i]
    and no kept j < i overlaps i``, which equals the greedy result and converges in as many
    vectorised passes as the longest suppression chain, each pass a batched matrix product
    over every group instead of one Python step per box.

    ``passes=None`` iterates until the fixed point, which reads a flag from the device after
    each pass. ``passes=n`` runs exactly ``n`` passes and never waits for the device: exact
    whenever no suppression chain is longer than ``n - 1`` (after ``n`` passes the first
    ``n`` boxes of every group are final; in 450 proxy steps of three networks the RPN's
    longest chain took 22 passes, see :data:`STATIC_NMS_PASSES`).
    """
    if boxes.shape[1] == 0:
        return valid.clone()
    suppresses = _suppression(boxes, valid, iou_threshold)  # [g, j, i]: j (higher score) would suppress i
    keep = valid.clone()
    for _ in range(boxes.shape[1] if passes is None else passes):
        suppressed = torch.bmm(keep.to(boxes.dtype)[:, None, :], suppresses)[:, 0] > 0
        new_keep = valid & ~suppressed
        if passes is None and torch.equal(new_keep, keep):
            break
        keep = new_keep
    return keep


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Greedy NMS: indices of kept boxes by decreasing score (torchvision ``nms`` semantics,
    see :func:`sorted_nms`)."""
    if boxes.numel() == 0:
        return torch.empty(0, dtype=torch.int64, device=boxes.device)
    order = torch.argsort(scores, descending=True, stable=True)
    keep = sorted_nms(boxes[order][None], torch.ones((1, len(order)), dtype=torch.bool, device=boxes.device), iou_threshold)
    return order[keep[0]]


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """NMS within each category of ``idxs`` (torchvision ``batched_nms``): boxes of
    different categories never suppress each other. Kept indices by decreasing score.

    Runs one NMS per category, so the cost is the sum of the squared group sizes rather
    than the square of the total (RPN levels are categories).
    """
    if boxes.numel() == 0:
        return torch.empty(0, dtype=torch.int64, device=boxes.device)
    kept = []
    for category in torch.unique(idxs):
        members = torch.nonzero(idxs == category).flatten()
        kept.append(members[nms(boxes[members], scores[members], iou_threshold)])
    keep = torch.cat(kept)
    return keep[torch.argsort(scores[keep], descending=True, stable=True)]


def clip_boxes(boxes: Tensor, size: tuple[int, int]) -> Tensor:
    """Clip to an image of ``size = (h, w)``."""
    h, w = size
    return torch.stack([boxes[:, 0].clamp(0, w), boxes[:, 1].clamp(0, h), boxes[:, 2].clamp(0, w), boxes[:, 3].clamp(0, h)], dim=1)


class BoxCoder:
    """Faster R-CNN box deltas ``(dx, dy, dw, dh)`` scaled by ``weights``."""

    # log(1000 / 16): caps exp() of width/height deltas, as detectron2 does
    _CLAMP = math.log(1000.0 / 16)

    def __init__(self, weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)) -> None:
        self.weights = weights

    def encode(self, reference: Tensor, target: Tensor) -> Tensor:
        wx, wy, ww, wh = self.weights
        rw, rh = reference[:, 2] - reference[:, 0], reference[:, 3] - reference[:, 1]
        rx, ry = reference[:, 0] + 0.5 * rw, reference[:, 1] + 0.5 * rh
        tw, th = target[:, 2] - target[:, 0], target[:, 3] - target[:, 1]
        tx, ty = target[:, 0] + 0.5 * tw, target[:, 1] + 0.5 * th
        return torch.stack([wx * (tx - rx) / rw, wy * (ty - ry) / rh, ww * torch.log(tw / rw), wh * torch.log(th / rh)], dim=1)

    def decode(self, deltas: Tensor, reference: Tensor) -> Tensor:
        wx, wy, ww, wh = self.weights
        rw, rh = reference[:, 2] - reference[:, 0], reference[:, 3] - reference[:, 1]
        rx, ry = reference[:, 0] + 0.5 * rw, reference[:, 1] + 0.5 * rh
        dx, dy = deltas[:, 0] / wx, deltas[:, 1] / wy
        dw = (deltas[:, 2] / ww).clamp(max=self._CLAMP)
        dh = (deltas[:, 3] / wh).clamp(max=self._CLAMP)
        cx, cy = dx * rw + rx, dy * rh + ry
        w, h = torch.exp(dw) * rw, torch.exp(dh) * rh
        return torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], dim=1)
