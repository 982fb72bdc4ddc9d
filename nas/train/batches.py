"""Moving a collated batch's images to the training device."""

from __future__ import annotations

import torch

__all__ = ["images_to_device"]


def images_to_device(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``images`` on ``device``; to a CUDA device through page-locked memory, copied
    asynchronously.

    A copy from ordinary (pageable) memory makes the CPU wait while the driver stages it;
    from pinned memory it is a DMA the GPU's stream orders before the model's first
    kernel, so the CPU goes straight on to the step's Python work. The pinned tensor is a
    fresh one per call (torch's caching host allocator recycles its buffer only once the
    copy has finished), so the source is never overwritten mid-copy.
    """
    if device.type != "cuda":
        return images.to(device)
    return images.pin_memory().to(device, non_blocking=True)
