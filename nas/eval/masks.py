"""Person masks on the image for GPSm and IOU, and their IoUs.

A box-frame mask (the ground truth's 14 ``dp_masks``, or a detection's I > 0) is
resampled to the box's pixel size and pasted into an image-sized canvas at the box;
pycocotools then computes IoUs between the RLE-encoded canvases. Two rules
(:class:`~nas.eval.options.EvalOptions` ``masks``):

* ``"official"`` (DensePose's evaluator): the box covers image pixels
  ``int(x) .. int(x) + int(w) - 1`` (truncation, clipped to the image); the ground
  truth's ``dp_masks`` become a part-label image (part ``k`` = 1..14, later parts on
  top) resized bilinearly to ``int(w) x int(h)`` (:func:`resize_bilinear`, OpenCV's
  sampling) and thresholded at 0.5, so part numbers weigh in at the edges; a person
  without ``dp_masks`` has an empty mask. A detection's map is used at the box's
  whole-pixel size (resampled to it by nearest neighbour when it has another size).
* ``"nearest"``: the box covers ``floor(x) .. floor(x) + round(w) - 1``; the merged
  ``dp_masks`` are resampled by nearest neighbour; without ``dp_masks`` the
  ``segmentation`` (then the box) is used.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pycocotools.mask as mask_utils

from nas.data.coco import DP_BOX_SIZE, decode_box_mask
from nas.data.parts import N_COARSE_PARTS
from nas.data.rle import rle_decode
from nas.errors import DataError

__all__ = [
    "resample_nearest",
    "resize_bilinear",
    "box_pixel_size",
    "paste_box_mask",
    "paste_official",
    "encode_mask",
    "gt_mask",
    "gt_mask_official",
    "dp_masks_labels",
    "dp_masks_union",
    "mask_ious",
    "box_ious",
]

RLE = dict[str, Any]


def resample_nearest(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Nearest-neighbour resampling of a 2-D map to ``(h, w)``, sampling at cell centres."""
    if a.shape == (h, w):
        return a
    rows = np.minimum(((np.arange(h) + 0.5) * a.shape[0] / h).astype(np.int64), a.shape[0] - 1)
    cols = np.minimum(((np.arange(w) + 0.5) * a.shape[1] / w).astype(np.int64), a.shape[1] - 1)
    return a[np.ix_(rows, cols)]


def _linear_taps(src: int, dst: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weights of bilinear resampling ``src -> dst`` samples, as OpenCV:
    half-pixel centres, edges clamped (a sample beyond the first or last centre copies it)."""
    scale = 1.0 / (dst / src)  # OpenCV divides by its inverse scale
    f = (np.arange(dst) + 0.5) * scale - 0.5
    s = np.floor(f).astype(np.int64)
    f = f - s
    low, high = s < 0, s >= src - 1
    f[low | high] = 0.0
    s[low], s[high] = 0, src - 1
    return s, np.minimum(s + 1, src - 1), 1.0 - f, f


def resize_bilinear(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Bilinear resize of a 2-D float map to ``(h, w)`` with OpenCV's ``INTER_LINEAR``
    sampling (what DensePose's evaluator calls, ``cv2.resize``); an exact halving in
    both directions averages 2x2 blocks, as OpenCV then switches to area averaging.

    Values agree with OpenCV's up to rounding (~1e-14), so a threshold applied to the
    result can differ from OpenCV's only where the value is 0.5 to that precision.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.shape == (2 * h, 2 * w):
        return (a[0::2, 0::2] + a[0::2, 1::2] + a[1::2, 0::2] + a[1::2, 1::2]) * 0.25
    c0, c1, wc0, wc1 = _linear_taps(a.shape[1], w)
    r0, r1, wr0, wr1 = _linear_taps(a.shape[0], h)
    rows = a[:, c0] * wc0 + a[:, c1] * wc1  # horizontal pass first, as OpenCV
    return rows[r0] * wr0[:, None] + rows[r1] * wr1[:, None]


def box_pixel_size(bbox: Sequence[float]) -> tuple[int, int]:
    """``(rows, cols)`` of a box in whole pixels, as DensePose's results format and
    evaluator count them: ``int(h)``, ``int(w)`` (truncated), at least 1."""
    return max(1, int(float(bbox[3]))), max(1, int(float(bbox[2])))


def paste_official(mask: np.ndarray | None, bbox: Sequence[float], height: int, width: int) -> np.ndarray:
    """Image-sized uint8 mask with ``mask`` pasted as DensePose's evaluator pastes it.

    The box covers columns ``int(x) .. int(x) + int(w) - 1`` (each truncated), rows
    likewise, clipped to the image; ``mask`` is first resampled (nearest) to the box's
    whole-pixel size when it has another size. None pastes nothing (an empty mask).
    """
    out = np.zeros((height, width), dtype=np.uint8)
    if mask is None:
        return out
    x, y, w, h = (int(float(b)) for b in bbox)  # int() truncates towards zero, as numpy's astype(int)
    rows, cols = box_pixel_size(bbox)
    m = (resample_nearest(np.asarray(mask), rows, cols) > 0).astype(np.uint8)
    cx0, cy0 = max(x, 0), max(y, 0)
    cx1, cy1 = min(x + w, width), min(y + h, height)
    if cx1 > cx0 and cy1 > cy0:
        out[cy0:cy1, cx0:cx1] = m[cy0 - y : cy1 - y, cx0 - x : cx1 - x]
    return out


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


def dp_masks_labels(dp_masks: Any, where: str) -> np.ndarray | None:
    """An annotation's 14 coarse-part RLE masks as one 256x256 part-label image.

    Part ``k`` (1..14) is written in list order, so a later part overwrites an earlier
    one where they overlap, as DensePose's evaluator builds it.

    Returns:
        The int64 label image (0 background), or None when ``dp_masks`` is absent.

    Raises:
        DataError: ``dp_masks`` is not 14 entries or holds a malformed RLE.
    """
    if dp_masks is None:
        return None
    if not isinstance(dp_masks, list) or len(dp_masks) != N_COARSE_PARTS:
        raise DataError(f"{where}, field 'dp_masks': expected a list of {N_COARSE_PARTS} RLE masks (or [])")
    out = np.zeros((DP_BOX_SIZE, DP_BOX_SIZE), dtype=np.int64)
    for k, rle in enumerate(dp_masks):
        if rle:
            out[decode_box_mask(rle, f"{where}, field 'dp_masks[{k}]'") > 0] = k + 1
    return out


def gt_mask_official(ann: Mapping[str, Any], height: int, width: int) -> np.ndarray:
    """Image-sized person mask of a ground-truth annotation, as DensePose's evaluator
    makes it: the ``dp_masks`` label image resized bilinearly to the box's whole-pixel
    size, ``> 0.5``, pasted at the truncated box; empty without ``dp_masks``.

    Raises:
        DataError: a mask is malformed (names the image, annotation and field).
    """
    where = f"image id {ann.get('image_id')}, annotation id {ann.get('id')}"
    if "dp_masks" not in ann:
        return np.zeros((height, width), dtype=np.uint8)
    labels = dp_masks_labels(ann["dp_masks"], where)
    if labels is None:
        return np.zeros((height, width), dtype=np.uint8)
    rows, cols = box_pixel_size(ann["bbox"])
    return paste_official(resize_bilinear(labels, rows, cols) > 0.5, ann["bbox"], height, width)


def dp_masks_union(dp_masks: Any, where: str) -> np.ndarray | None:
    """Merge an annotation's 14 coarse-part RLE masks into one 256x256 person mask.

    Returns:
        The uint8 mask, or None when ``dp_masks`` is absent or has no part.

    Raises:
        DataError: ``dp_masks`` is not 14 entries or holds a malformed RLE.
    """
    labels = dp_masks_labels(dp_masks, where)
    if labels is None or not any(dp_masks):
        return None
    return (labels > 0).astype(np.uint8)


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
