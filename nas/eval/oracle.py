"""Results made from the ground truth: the upper bound the evaluator must score 1.0.

Used by the tests, the benchmark and as a sanity check of a dataset plus surface:
every DensePose person becomes a detection with the ground-truth box, an I, U, V map
at the box's pixel size that carries each annotated point's exact (I, U, V) at the
pixel where the evaluator reads it, and elsewhere inside the person mask the values
of the nearest point. Under the official placement a point whose truncated offset
falls outside ``int(box size)`` (``dp`` at the far edge of a box of fractional size)
cannot be carried, and scores 0 there as in DensePose's evaluator.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
from scipy.spatial import cKDTree

from nas.eval.groundtruth import GroundTruth
from nas.eval.masks import box_pixel_size, dp_masks_labels, dp_masks_union, resample_nearest, resize_bilinear
from nas.eval.options import MaskRule, Placement
from nas.eval.pairs import is_ignored_gt
from nas.eval.results import DensePoseResult

__all__ = ["ground_truth_results"]


def ground_truth_results(
    gt: GroundTruth,
    *,
    uv_noise: float = 0.0,
    seed: int = 0,
    image_ids: Iterable[int] | None = None,
    placement: Placement = "official",
    masks: MaskRule = "official",
) -> list[DensePoseResult]:
    """One detection per DensePose person, reproducing its annotation.

    Args:
        gt: the ground truth.
        uv_noise: standard deviation of Gaussian noise added to U and V (then clipped
            to [0, 1]); 0 gives the exact ground truth (up to the 1/255 quantisation).
        seed: seed of the noise.
        image_ids: restrict to these images (default: all).
        placement: where the evaluator will read the points (:mod:`nas.eval.options`).
        masks: the person mask rule the map's foreground should reproduce.

    Returns:
        Decoded results, score 1.0 each, in annotation order.
    """
    rng = np.random.default_rng(seed)
    keep = None if image_ids is None else set(int(i) for i in image_ids)
    out: list[DensePoseResult] = []
    for ann in gt.coco.dataset["annotations"]:
        if is_ignored_gt(ann, gt) or (keep is not None and ann["image_id"] not in keep):
            continue
        p = gt.points[int(ann["id"])]
        x, y, bw, bh = (float(b) for b in ann["bbox"])
        where = f"image id {ann['image_id']}, annotation id {ann['id']}"
        if placement == "official":
            h, w = box_pixel_size(ann["bbox"])
            labels_256 = dp_masks_labels(ann.get("dp_masks"), where) if masks == "official" else None
            union = dp_masks_union(ann.get("dp_masks"), where) if masks != "official" else None
            col = (p.x255 - x).astype(np.int64)  # the official truncation
            row = (p.y255 - y).astype(np.int64)
            carry = (col >= 0) & (col < int(bw)) & (row >= 0) & (row < int(bh))
        else:
            h, w = max(1, int(round(bh))), max(1, int(round(bw)))
            labels_256 = None
            union = dp_masks_union(ann.get("dp_masks"), where)
            # Point pixels as the evaluator looks them up: floor of the offset scaled to the map.
            col = np.clip(np.floor((p.x - x) * w / bw).astype(np.int64), 0, w - 1)
            row = np.clip(np.floor((p.y - y) * h / bh).astype(np.int64), 0, h - 1)
            carry = np.ones(col.shape, bool)
        if labels_256 is not None:
            mask = resize_bilinear(labels_256, h, w) > 0.5
        elif union is not None:
            mask = resample_nearest(union, h, w) > 0
        else:
            mask = np.ones((h, w), bool)
        col, row = col[carry], row[carry]
        pi, pu, pv = p.i[carry], p.u[carry], p.v[carry]
        labels = np.zeros((h, w), np.int64)
        u = np.zeros((h, w))
        v = np.zeros((h, w))
        if col.size:
            rr, cc = np.nonzero(mask)
            _, near = cKDTree(np.c_[col, row]).query(np.c_[cc, rr])
            labels[rr, cc], u[rr, cc], v[rr, cc] = pi[near], pu[near], pv[near]
        labels[row, col], u[row, col], v[row, col] = pi, pu, pv
        if uv_noise > 0:
            u = u + rng.normal(0.0, uv_noise, u.shape)
            v = v + rng.normal(0.0, uv_noise, v.shape)
        iuv = np.stack([labels, np.round(np.clip(u, 0, 1) * 255), np.round(np.clip(v, 0, 1) * 255)]).astype(np.uint8)
        out.append(DensePoseResult(int(ann["image_id"]), int(ann["category_id"]), (x, y, bw, bh), 1.0, iuv))
    return out
