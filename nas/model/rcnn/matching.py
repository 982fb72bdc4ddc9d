"""Assign anchors/proposals to ground-truth boxes and sample balanced minibatches."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["match", "sample_balanced"]


def match(iou: Tensor, fg: float, bg: float, allow_low_quality: bool) -> tuple[Tensor, Tensor]:
    """Match each column (anchor/proposal) of ``iou (G, N)`` to its best ground truth.

    Returns ``(gt_index (N,), label (N,))`` with label 1 foreground (IoU >= fg), 0
    background (IoU < bg), -1 ignored in between. With ``allow_low_quality`` every GT's
    best-overlapping columns are foreground too (Faster R-CNN's RPN rule).
    """
    n = iou.shape[1]
    if iou.shape[0] == 0:
        return torch.zeros(n, dtype=torch.int64, device=iou.device), torch.zeros(n, dtype=torch.int64, device=iou.device)
    best, index = iou.max(dim=0)
    label = torch.full((n,), -1, dtype=torch.int64, device=iou.device)
    label[best < bg] = 0
    label[best >= fg] = 1
    if allow_low_quality:
        gt_best = iou.max(dim=1, keepdim=True).values
        cols = ((iou == gt_best) & (gt_best > 0)).any(dim=0)
        label[cols] = 1
    return index, label


def sample_balanced(label: Tensor, batch: int, positive_fraction: float, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Random foreground and background indices: at most ``batch * positive_fraction``
    foreground, background filling the rest."""
    pos = torch.nonzero(label == 1).flatten()
    neg = torch.nonzero(label == 0).flatten()
    num_pos = min(pos.numel(), int(batch * positive_fraction))
    num_neg = min(neg.numel(), batch - num_pos)
    pos = pos[torch.randperm(pos.numel(), generator=generator, device="cpu")[:num_pos].to(pos.device)]
    neg = neg[torch.randperm(neg.numel(), generator=generator, device="cpu")[:num_neg].to(neg.device)]
    return pos, neg

