"""One training/evaluation sample as numpy arrays, and its conversion to tensors.

Transforms work on a :class:`Sample` (numpy, image HWC); :func:`to_tensors` turns it
into the model's input: a float image tensor ``(3, H, W)`` in [0, 1] and a
:class:`Target` dict of tensors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypedDict

import numpy as np
import torch

__all__ = ["Sample", "Target", "to_tensors"]


@dataclass
class Sample:
    """An image and its per-instance targets, before conversion to tensors.

    Attributes:
        image: ``(H, W, 3)`` uint8 (or float32 in [0, 255] after colour jitter).
        boxes: ``(N, 4)`` float32 boxes ``x0, y0, x1, y1`` in image pixels.
        is_crowd: ``(N,)`` bool, crowd/ignore regions (kept for evaluation).
        has_dp: ``(N,)`` bool, instance carries DensePose points and masks.
        ann_ids: ``(N,)`` int64 annotation ids.
        dp_inst: ``(P,)`` int64 instance index (row of ``boxes``) of each point.
        dp_xy: ``(P, 2)`` float32 point positions in the instance's box frame, [0, 256].
        dp_i: ``(P,)`` int64 fine part 1..24.
        dp_u: ``(P,)`` float32 in [0, 1].
        dp_v: ``(P,)`` float32 in [0, 1].
        dp_masks: ``(N, S, S)`` uint8 coarse-part labels 0..14 in the box frame (all
            zero for instances without DensePose data).
        image_id: the COCO image id.
        orig_size: ``(h, w)`` of the image file.
        scale: factor applied to the image by resizing (1.0 if none).
        flipped: whether the sample was mirrored horizontally.
        valid_size: ``(h, w)`` of the real image inside a zero-padded one (None: all).
    """

    image: np.ndarray
    boxes: np.ndarray
    is_crowd: np.ndarray
    has_dp: np.ndarray
    ann_ids: np.ndarray
    dp_inst: np.ndarray
    dp_xy: np.ndarray
    dp_i: np.ndarray
    dp_u: np.ndarray
    dp_v: np.ndarray
    dp_masks: np.ndarray
    image_id: int
    orig_size: tuple[int, int]
    scale: float = 1.0
    flipped: bool = False
    valid_size: tuple[int, int] | None = None

    def copy(self, **changes: object) -> Sample:
        """A shallow copy with some fields replaced."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def points_in_image(self) -> np.ndarray:
        """``(P, 2)`` float32 point positions in image pixels (current image)."""
        b = self.boxes[self.dp_inst]
        wh = (b[:, 2:] - b[:, :2]) / 256.0
        return (b[:, :2] + self.dp_xy * wh).astype(np.float32)


class Target(TypedDict):
    """Per-image targets as tensors (detection-style; see :class:`Sample` for units).

    ``labels`` is all ones (the person class); ``image_size`` is the ``(h, w)`` of the
    valid image area after resizing (the rest of the tensor is zero padding).
    """

    boxes: torch.Tensor
    labels: torch.Tensor
    is_crowd: torch.Tensor
    has_dp: torch.Tensor
    ann_ids: torch.Tensor
    dp_inst: torch.Tensor
    dp_xy: torch.Tensor
    dp_I: torch.Tensor
    dp_U: torch.Tensor
    dp_V: torch.Tensor
    dp_masks: torch.Tensor
    image_id: int
    orig_size: tuple[int, int]
    image_size: tuple[int, int]
    scale: float
    flipped: bool


def to_tensors(sample: Sample) -> tuple[torch.Tensor, Target]:
    """Convert a sample to ``(image (3, H, W) float32 in [0, 1], target)``."""
    # In numpy, a contiguous (3, H, W): the same float32 quotients as torch's
    # ``img.float() / 255``, without a trip through torch's intra-op thread pool, whose
    # hand-offs cost more than the division for an image this small (worst on a busy
    # machine: tens of ms), and with plain strides that make collating a plain copy.
    chw = np.divide(sample.image.transpose(2, 0, 1), np.float32(255.0), dtype=np.float32, order="C")
    if sample.image.dtype != np.uint8:
        np.clip(chw, 0.0, 1.0, out=chw)
    img = torch.from_numpy(chw)
    h, w = sample.image.shape[:2]
    target: Target = {
        "boxes": torch.from_numpy(np.asarray(sample.boxes, dtype=np.float32).reshape(-1, 4)),
        "labels": torch.ones(len(sample.boxes), dtype=torch.int64),
        "is_crowd": torch.from_numpy(np.asarray(sample.is_crowd, dtype=bool)),
        "has_dp": torch.from_numpy(np.asarray(sample.has_dp, dtype=bool)),
        "ann_ids": torch.from_numpy(np.asarray(sample.ann_ids, dtype=np.int64)),
        "dp_inst": torch.from_numpy(np.asarray(sample.dp_inst, dtype=np.int64)),
        "dp_xy": torch.from_numpy(np.asarray(sample.dp_xy, dtype=np.float32).reshape(-1, 2)),
        "dp_I": torch.from_numpy(np.asarray(sample.dp_i, dtype=np.int64)),
        "dp_U": torch.from_numpy(np.asarray(sample.dp_u, dtype=np.float32)),
        "dp_V": torch.from_numpy(np.asarray(sample.dp_v, dtype=np.float32)),
        "dp_masks": torch.from_numpy(np.ascontiguousarray(sample.dp_masks, dtype=np.uint8)),
        "image_id": int(sample.image_id),
        "orig_size": sample.orig_size,
        "image_size": sample.valid_size or (h, w),
        "scale": float(sample.scale),
        "flipped": bool(sample.flipped),
    }
    return img, target
