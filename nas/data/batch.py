"""Batching for detection: images padded to a common size, targets kept per image."""

from __future__ import annotations

from typing import Sequence

import torch

from nas.data.sample import Target

__all__ = ["collate"]


def collate(batch: Sequence[tuple[torch.Tensor, Target]]) -> tuple[torch.Tensor, list[Target]]:
    """Stack images into ``(B, 3, H, W)`` (zero-padded bottom/right to the largest)
    and return the targets as a list, one per image.

    Use as ``DataLoader(dataset, batch_size=..., collate_fn=collate)``.
    """
    if not batch:
        raise ValueError("collate() needs at least one sample")
    first = batch[0][0]
    if all(img.shape == first.shape for img, _ in batch):  # the usual case (Resize): one copy, nothing to pad
        return torch.stack([img for img, _ in batch]), [t for _, t in batch]
    h = max(img.shape[1] for img, _ in batch)
    w = max(img.shape[2] for img, _ in batch)
    images = first.new_zeros((len(batch), 3, h, w))
    for k, (img, _) in enumerate(batch):
        images[k, :, : img.shape[1], : img.shape[2]] = img
    return images, [t for _, t in batch]
