"""Assign anchors/proposals to ground-truth boxes and sample balanced minibatches.

:func:`match` and :func:`sample_balanced` work on one image; :func:`match_padded` and
:func:`sample_padded` on a whole batch at once, with the ground truth padded to a common
count and a fixed number of samples per image, so that no shape depends on the data and
the host never waits for the device (the training step on CUDA).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["match", "match_padded", "sample_balanced", "sample_padded", "sample_among"]


def match(iou: Tensor, fg: float, bg: float, allow_low_quality: bool) -> tuple[Tensor, Tensor]:
    """Match each column (anchor/proposal) of ``iou (G, N)`` to its best ground truth.

    Returns ``(gt_index (N,), label (N,))`` with label 1 foreground (IoU >= fg), 0
    background (IoU < bg), -1 ignored in between. With ``allow_low_quality`` every GT's
    best-overlapping columns are foreground too (Faster R-CNN's RPN rule).
    """
    index, label = match_padded(iou[None], None, fg, bg, allow_low_quality)
    return index[0], label[0]


def match_padded(
    iou: Tensor, gt_valid: Tensor | None, fg: float, bg: float, allow_low_quality: bool, column_valid: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """:func:`match` of every image of a batch: ``iou (B, G, N)`` with ``gt_valid (B, G)``
    marking real ground truth (None: all are); ``column_valid (B, N)`` marks real columns
    (None: all are), the others are labelled -1 (never sampled). Returns ``(gt_index (B, N),
    label (B, N))``; an image without valid ground truth has every real column background.
    """
    b, g, n = iou.shape
    if g == 0:
        zeros = torch.zeros((b, n), dtype=torch.int64, device=iou.device)
        label = zeros if column_valid is None else zeros.masked_fill(~column_valid, -1)
        return zeros, label
    if gt_valid is not None:  # below every real IoU (>= 0): never the best, never a GT's best
        iou = iou.masked_fill(~gt_valid[:, :, None], -1.0)
    best, index = iou.max(dim=1)
    label = torch.full((b, n), -1, dtype=torch.int64, device=iou.device)
    label = label.masked_fill(best < bg, 0).masked_fill(best >= fg, 1)
    if allow_low_quality:
        gt_best = iou.max(dim=2, keepdim=True).values
        label = label.masked_fill(((iou == gt_best) & (gt_best > 0)).any(dim=1), 1)
    if column_valid is not None:
        label = label.masked_fill(~column_valid, -1)
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


def sample_among(candidate: Tensor, count: int, keys: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Up to ``count`` random columns of each row of ``candidate (B, N)`` bool, uniformly
    among the row's candidates: ``(index (B, k), valid (B, k))``, ``k = min(count, N)``,
    the valid entries first. ``keys (B, N)``: the uniform random numbers to rank by (default
    drawn here, on the device)."""
    if keys is None:
        keys = torch.rand(candidate.shape, device=candidate.device)
    ranked, index = keys.masked_fill(~candidate, math.inf).topk(min(count, candidate.shape[1]), dim=1, largest=False)
    return index, torch.isfinite(ranked)


def sample_padded(label: Tensor, batch: int, positive_fraction: float) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`sample_balanced` of every image at once, without a data-dependent shape.

    For ``label (B, N)`` (1 foreground, 0 background, -1 ignored) returns ``(index (B, S),
    valid (B, S), positive (B, S))`` with ``S = min(batch, N)``: per image at most ``batch *
    positive_fraction`` foreground columns (``positive``) and background ones filling the
    rest up to ``batch``, each a uniformly random subset (ranked by random keys drawn on the
    device, not by :func:`torch.randperm`, so the draws differ from :func:`sample_balanced`'s);
    ``valid`` is False on the unused slots.
    """
    keys = torch.rand(label.shape, device=label.device)
    pos, pos_valid = sample_among(label == 1, int(batch * positive_fraction), keys)
    neg, neg_valid = sample_among(label == 0, batch, keys)
    wanted = batch - pos_valid.sum(dim=1, keepdim=True)  # background slots left per image
    neg_valid = neg_valid & (torch.arange(neg.shape[1], device=label.device) < wanted)
    index, valid = torch.cat([pos, neg], 1), torch.cat([pos_valid, neg_valid], 1)
    positive = torch.cat([pos_valid, torch.zeros_like(neg_valid)], 1)
    # valid slots first (foreground before background), then keep S columns: at most
    # ``batch`` are valid
    order = torch.argsort((~valid).to(torch.uint8), dim=1, stable=True)[:, : min(batch, label.shape[1])]
    return index.gather(1, order), valid.gather(1, order), positive.gather(1, order)
