"""Person masks on the image for GPSm and IOU, and their IoUs.

A box-frame mask (the ground truth's 14 ``dp_masks`` merged, or a detection's I > 0)
is resampled to the box's pixel size and pasted into an image-sized canvas at the
box; pycocotools then computes IoUs between the RLE-encoded canvases. As in
DensePose's evaluator, a box covers image pixels ``floor(x) .. floor(x) + round(w) - 1``
(clipped to the image), and ground truth without ``dp_masks`` falls back to its
``segmentation`` (then to its box).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pycocotools.mask as mask_utils

from nas.data.coco import DP_BOX_SIZE, decode_box_mask
from nas.data.parts import N_COARSE_PARTS
from nas.data.rle import rle_decode
from nas.errors import DataError

__all__ = ["resample_nearest", "paste_box_mask", "encode_mask", "gt_mask", "dp_masks_union", "mask_ious", "box_ious"]

RLE = dict[str, Any]


def resample_nearest(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Nearest-neighbour resampling of a 2-D map to ``(h, w)``, sampling at cell centres."""
    if a.shape == (h, w):
        return a
    rows = np.minimum(((np.arange(h) + 0.5) * a.shape[0] / h).astype(np.int64), a.shape[0] - 1)
    cols = np.minimum(((np.arange(w) + 0.5) * a.shape[1] / w).astype(np.int64), a.shape[1] - 1)
    return a[np.ix_(rows, cols)]


def _box_pixels(bbox: Sequence[float]) -> tuple[int, int, int, int]:
    """``(x0, y0, w, h)``: integer pixel extent of a box (before clipping)."""
    x, y, w, h = (float(b) for b in bbox)
    return int(np.floor(x)), int(np.floor(y)), max(1, int(round(w))), max(1, int(round(h)))


def paste_box_mask(mask: np.ndarray | None, bbox: Sequence[float], height: int, width: int) -> np.ndarray:
    """Image-sized uint8 mask with ``mask`` (any resolution; None: the full box) pasted at ``bbox``."""
    x0, y0, w, h = _box_pixels(bbox)
    out = np.zeros((height, width), dtype=np.uint8)
    box = np.ones((h, w), dtype=np.uint8) if mask is None else (resample_nearest(mask, h, w) > 0).astype(np.uint8)
    cx0, cy0 = max(x0, 0), max(y0, 0)
    cx1, cy1 = min(x0 + w, width), min(y0 + h, height)
    if cx1 > cx0 and cy1 > cy0:
        out[cy0:cy1, cx0:cx1] = box[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    return out


def encode_mask(mask: np.ndarray) -> RLE:
    """pycocotools RLE of a 2-D binary mask (bytes counts, for ``mask_ious``)."""
    return mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))


def dp_masks_union(dp_masks: Any, where: str) -> np.ndarray | None:
    """Merge an annotation's 14 coarse-part RLE masks into one 256x256 person mask.

    Returns:
        The uint8 mask, or None when ``dp_masks`` is absent or has no part.

    Raises:
        DataError: ``dp_masks`` is not 14 entries or holds a malformed RLE.
    """
    if dp_masks is None:
        return None
    if not isinstance(dp_masks, list) or len(dp_masks) != N_COARSE_PARTS:
        raise DataError(f"{where}, field 'dp_masks': expected a list of {N_COARSE_PARTS} RLE masks (or [])")
    out = np.zeros((DP_BOX_SIZE, DP_BOX_SIZE), dtype=np.uint8)
    any_part = False
    for k, rle in enumerate(dp_masks):
        if not rle:
            continue
        out |= decode_box_mask(rle, f"{where}, field 'dp_masks[{k}]'")
        any_part = True
    return out if any_part else None


def gt_mask(ann: Mapping[str, Any], height: int, width: int) -> np.ndarray:
    """Image-sized person mask of a ground-truth annotation.

    Uses the merged ``dp_masks`` when present, else ``segmentation`` (polygons or RLE),
    else the box.

    Raises:
        DataError: a mask is malformed (names the image, annotation and field).
    """
    where = f"image id {ann.get('image_id')}, annotation id {ann.get('id')}"
    union = dp_masks_union(ann.get("dp_masks"), where)
    if union is not None:
        return paste_box_mask(union, ann["bbox"], height, width)
    seg = ann.get("segmentation")
    if seg:
        try:
            if isinstance(seg, list):
                rle = mask_utils.merge(mask_utils.frPyObjects(seg, height, width))
                return np.asarray(mask_utils.decode(rle), dtype=np.uint8)
            m = rle_decode(seg)
        except (ValueError, TypeError, IndexError) as exc:
            raise DataError(f"{where}, field 'segmentation': malformed ({exc})") from None
        if m.shape != (height, width):
            raise DataError(f"{where}, field 'segmentation': mask is {m.shape[0]}x{m.shape[1]}, "
                            f"the image is {height}x{width}")
        return m
    return paste_box_mask(None, ann["bbox"], height, width)


def mask_ious(dt: Sequence[RLE], gt: Sequence[RLE], iscrowd: Sequence[bool]) -> np.ndarray:
    """``(D, G)`` mask IoUs; for a crowd ground truth, intersection over the detection's area."""
    if not dt or not gt:
        return np.zeros((len(dt), len(gt)))
    return np.asarray(mask_utils.iou(list(dt), list(gt), [int(c) for c in iscrowd]), dtype=np.float64).reshape(
        len(dt), len(gt)
    )


def box_ious(dt: np.ndarray, gt: np.ndarray, iscrowd: Sequence[bool]) -> np.ndarray:
    """``(D, G)`` IoUs of ``x, y, w, h`` boxes (crowd: intersection over detection area)."""
    if len(dt) == 0 or len(gt) == 0:
        return np.zeros((len(dt), len(gt)))
    d = np.asarray(dt, dtype=np.float64).reshape(-1, 4)
    g = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    return np.asarray(mask_utils.iou(d, g, [int(c) for c in iscrowd]), dtype=np.float64).reshape(len(d), len(g))
