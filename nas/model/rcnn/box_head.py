"""Box head: two FC layers on 7x7 RoI features, person-vs-background scores and box deltas."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nas.model.rcnn.boxes import BoxCoder, batched_nms, clip_boxes

__all__ = ["BoxHead", "box_losses", "detect"]

BOX_WEIGHTS = (10.0, 10.0, 5.0, 5.0)  # Fast R-CNN delta scaling


class BoxHead(nn.Module):
    def __init__(self, channels: int, pool: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels * pool * pool, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.cls_score = nn.Linear(hidden, 2)  # background, person
        self.bbox_pred = nn.Linear(hidden, 4)
        nn.init.normal_(self.cls_score.weight, std=0.01)
        nn.init.normal_(self.bbox_pred.weight, std=0.001)
        for layer in (self.cls_score, self.bbox_pred):
            nn.init.zeros_(layer.bias)

    def forward(self, pooled: Tensor) -> tuple[Tensor, Tensor]:
        x = F.relu(self.fc1(pooled.flatten(1)))
        x = F.relu(self.fc2(x))
        return self.cls_score(x), self.bbox_pred(x)


def box_losses(logits: Tensor, deltas: Tensor, labels: Tensor, targets: Tensor, valid: Tensor | None = None) -> dict[str, Tensor]:
    """CE over all sampled RoIs; smooth-L1 on foreground deltas, normalised by the sample count.

    ``valid (K,)``: which rows are sampled RoIs (None: all; the others are padding and count
    for nothing)."""
    if valid is None:
        cls = F.cross_entropy(logits, labels)
        count: Tensor | int = max(1, labels.numel())
    else:
        count = valid.sum().clamp(min=1)
        per_roi = F.cross_entropy(logits, labels, reduction="none")
        cls = torch.where(valid, per_roi, torch.zeros_like(per_roi)).sum() / count
        labels = labels * valid
    # L1 (smooth-L1 with beta 0) of the foreground rows, masked rather than selected: no
    # data-dependent shape, so the device is never waited for
    per_row = F.smooth_l1_loss(deltas, targets, beta=0.0, reduction="none").sum(1)
    reg = torch.where(labels > 0, per_row, torch.zeros_like(per_row)).sum() / count
    return {"box_cls": cls, "box_reg": reg}


def detect(
    logits: Tensor, deltas: Tensor, proposals: list[Tensor], image_sizes: list[tuple[int, int]],
    score_threshold: float, nms_threshold: float, max_detections: int,
) -> list[tuple[Tensor, Tensor]]:
    """Per image ``(boxes (D, 4), scores (D,))`` of persons after thresholding and NMS."""
    coder = BoxCoder(BOX_WEIGHTS)
    scores = F.softmax(logits, dim=1)[:, 1]
    counts = [len(p) for p in proposals]
    out = []
    for s, d, p, size in zip(scores.split(counts), deltas.split(counts), proposals, image_sizes):
        boxes = clip_boxes(coder.decode(d, p), size)
        keep = (s > score_threshold) & ((boxes[:, 2] - boxes[:, 0]) > 1e-2) & ((boxes[:, 3] - boxes[:, 1]) > 1e-2)
        boxes, s = boxes[keep], s[keep]
        kept = batched_nms(boxes, s, torch.zeros_like(s, dtype=torch.int64), nms_threshold)[:max_detections]
        out.append((boxes[kept], s[kept]))
    return out
