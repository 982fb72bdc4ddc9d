"""Per-image similarity matrices between detections and ground truth.

For every evaluated image and category, :func:`compute_pair_scores` gives the
detections kept for evaluation (highest scores first, at most ``max_dets``) and, for
each (detection, ground truth) pair, the GPS, the mask IoU and the box IoU. These are
the matrices DensePose's COCOeval variant matches on (:mod:`nas.eval.cocoeval`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Literal

import numpy as np

from nas.data.surface import BodySurface
from nas.errors import EvalError
from nas.eval.gps import DetectionMaps, GtPointTable, pair_gps
from nas.eval.groundtruth import GroundTruth
from nas.eval.masks import box_ious, encode_mask, gt_mask, gt_mask_official, mask_ious, paste_box_mask, paste_official
from nas.eval.options import OFFICIAL, EvalOptions
from nas.eval.results import DensePoseResult

__all__ = ["Mode", "MODES", "PairScores", "compute_pair_scores", "is_ignored_gt"]

Mode = Literal["gps", "gpsm", "iou"]
MODES: tuple[Mode, ...] = ("gps", "gpsm", "iou")
"""Evaluation modes: GPS alone, GPSm = sqrt(GPS x mask IoU), mask IoU alone."""


def is_ignored_gt(ann: dict, gt: GroundTruth) -> bool:
    """Whether a ground-truth annotation is an ignore region: a crowd, or a person without DensePose points."""
    return bool(ann.get("iscrowd", 0)) or int(ann["id"]) not in gt.points


@dataclass(frozen=True)
class PairScores:
    """Similarities of one image and category.

    Attributes:
        det_index: ``(D,)`` indices into the evaluated results list, score-descending.
        det_ids: ``(D,)`` 1-based detection ids (``det_index + 1``) as in the results COCO.
        gt_ids: ``(G,)`` annotation ids, in the annotation file's order.
        gt_ignored: ``(G,)`` ignore regions (crowd, or no DensePose points).
        gps: ``(D, G)`` GPS; 0 against ignore regions.
        mask_iou: ``(D, G)`` person-mask IoU (crowd: intersection over detection area),
            or None when masks were not computed.
        box_iou: ``(D, G)`` box IoU (crowd: intersection over detection area).
    """

    det_index: np.ndarray
    det_ids: np.ndarray
    gt_ids: np.ndarray
    gt_ignored: np.ndarray
    gps: np.ndarray
    mask_iou: np.ndarray | None
    box_iou: np.ndarray

    def similarity(self, mode: Mode) -> np.ndarray:
        """``(D, G)`` matching similarity of a mode (GPSm is 0 against ignore regions)."""
        if mode == "gps":
            return self.gps
        if self.mask_iou is None:
            raise EvalError(f"mode {mode!r} needs mask IoUs; compute the pair scores with masks=True")
        if mode == "gpsm":
            return np.sqrt(self.gps * self.mask_iou)
        if mode == "iou":
            return self.mask_iou
        raise EvalError(f"unknown evaluation mode {mode!r}; choose from {', '.join(MODES)}")


def _group_results(
    results: list[DensePoseResult], gt: GroundTruth, max_dets: int
) -> dict[tuple[int, int], list[int]]:
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for k, r in enumerate(results):
        if r.image_id not in gt.coco.imgs:
            raise EvalError(f"results entry {k}, field 'image_id': image {r.image_id} is not in {gt.name}")
        if r.category_id not in gt.coco.cats:
            known = ", ".join(str(c) for c in sorted(gt.coco.cats))
            raise EvalError(f"results entry {k} (image_id {r.image_id}), field 'category_id': category "
                            f"{r.category_id} is not in {gt.name} (known: {known})")
        groups[r.image_id, r.category_id].append(k)
    for key, idx in groups.items():
        order = np.argsort([-results[k].score for k in idx], kind="mergesort")  # as COCOeval sorts
        groups[key] = [idx[o] for o in order[:max_dets]]
    return groups


def compute_pair_scores(
    gt: GroundTruth,
    results: list[DensePoseResult],
    surface: BodySurface,
    *,
    image_ids: Iterable[int] | None = None,
    max_dets: int = 20,
    masks: bool = True,
    options: EvalOptions = OFFICIAL,
) -> dict[tuple[int, int], PairScores]:
    """Similarity matrices of every evaluated image and ground-truth category.

    Args:
        gt: the ground truth.
        results: decoded detections.
        surface: the body surface, geodesics in metres.
        image_ids: images to evaluate (default: every image of the ground truth).
        max_dets: detections kept per image and category, highest scores first.
        masks: also compute mask IoUs (needed by GPSm and IOU).
        options: how points, wrong parts and masks are read (default: DensePose's
            official rules, :mod:`nas.eval.options`).

    Returns:
        ``{(image_id, category_id): PairScores}`` for pairs with a detection or a ground truth.

    Raises:
        EvalError: a result names an unknown image or category.
    """
    groups = _group_results(results, gt, max_dets)
    gts = _evaluated_pairs(gt, groups, image_ids)
    dets = {key: groups.get(key, []) for key in gts}
    gps = _gps_matrices(gt, results, surface, dets, gts, options)
    return {key: _pair_scores(gt, results, key, dets[key], gts[key], gps[key], masks, options) for key in gts}


def _evaluated_pairs(gt: GroundTruth, groups: dict[tuple[int, int], list[int]], image_ids: Iterable[int] | None
                     ) -> dict[tuple[int, int], list[dict]]:
    """``{(image_id, category_id): its ground-truth annotations}`` for every evaluated image
    and category with a detection or a ground truth, images and categories ascending."""
    imgs = sorted(gt.coco.imgs) if image_ids is None else sorted(set(int(i) for i in image_ids))
    missing = [i for i in imgs if i not in gt.coco.imgs]
    if missing:
        raise EvalError(f"image ids {missing[:5]} are not in {gt.name}")
    cats = sorted(gt.coco.cats)
    gts: dict[tuple[int, int], list[dict]] = {}
    for iid in imgs:
        anns = gt.coco.imgToAnns.get(iid, [])
        for cid in cats:
            g = [a for a in anns if a["category_id"] == cid]
            if g or groups.get((iid, cid)):
                gts[iid, cid] = g
    return gts


def _gps_matrices(
    gt: GroundTruth,
    results: list[DensePoseResult],
    surface: BodySurface,
    dets: dict[tuple[int, int], list[int]],
    gts: dict[tuple[int, int], list[dict]],
    options: EvalOptions,
) -> dict[tuple[int, int], np.ndarray]:
    """``(D, G)`` GPS of every pair, 0 where the boxes do not overlap or against ignore
    regions. One flat table of all evaluated detections and one of all DensePose ground
    truths, so the per-point work (nearest vertex, geodesics) runs in a few vectorised calls."""
    det_rows = {k: row for row, k in enumerate(k for key in gts for k in dets[key])}
    det_maps = DetectionMaps.build([results[k].bbox for k in det_rows], [results[k].iuv for k in det_rows])
    gt_rows: dict[int, int] = {}
    gt_pts = []
    for a in (a for key in gts for a in gts[key] if not is_ignored_gt(a, gt)):
        p = gt.points[int(a["id"])]
        gt_rows[int(a["id"])] = len(gt_pts)
        gt_pts.append((*p.image_xy(options.placement), p.i, p.u, p.v))
    table = GtPointTable.build(surface, gt_pts)

    pair_d: list[int] = []
    pair_g: list[int] = []
    slots: list[tuple[tuple[int, int], int, int]] = []
    for key in gts:
        for gi, a in enumerate(gts[key]):
            row = gt_rows.get(int(a["id"]))
            if row is None:
                continue
            for di, k in enumerate(dets[key]):
                if _boxes_overlap(results[k].bbox, a["bbox"]):
                    pair_d.append(det_rows[k])
                    pair_g.append(row)
                    slots.append((key, di, gi))
    values = pair_gps(surface, table, det_maps, np.array(pair_d, np.int64), np.array(pair_g, np.int64),
                      options.wrong_part, options.placement)
    gps = {key: np.zeros((len(dets[key]), len(gts[key]))) for key in gts}
    for (key, di, gi), val in zip(slots, values):
        gps[key][di, gi] = val
    return gps


def _boxes_overlap(box: list[float], other: list[float]) -> bool:
    """Whether a detection's box can hold a point of a ground truth's box: they overlap
    or lie within a pixel of each other (the official placement truncates an offset in
    (-1, 0) to pixel 0, and a point may sit on the box's far edge). Pairs failing this
    have no point inside, GPS 0; it only saves work."""
    x, y, w, h = box
    gx, gy, gw, gh = other
    return x - 1 <= gx + gw and gx <= x + w + 1 and y - 1 <= gy + gh and gy <= y + h + 1


def _pair_scores(gt: GroundTruth, results: list[DensePoseResult], key: tuple[int, int], dk: list[int], g: list[dict],
                 gps: np.ndarray, masks: bool, options: EvalOptions) -> PairScores:
    """The similarities of one image and category, from its GPS matrix."""
    crowd = [bool(a.get("iscrowd", 0)) for a in g]
    return PairScores(
        det_index=np.array(dk, dtype=np.int64),
        det_ids=np.array(dk, dtype=np.int64) + 1,
        gt_ids=np.array([int(a["id"]) for a in g], dtype=np.int64),
        gt_ignored=np.array([is_ignored_gt(a, gt) for a in g], dtype=bool),
        gps=gps,
        mask_iou=_mask_ious(gt, results, key[0], dk, g, crowd, options.masks) if masks else None,
        box_iou=box_ious(np.array([results[k].bbox for k in dk]), np.array([a["bbox"] for a in g]), crowd),
    )


def _mask_ious(gt: GroundTruth, results: list[DensePoseResult], image_id: int, dk: list[int], g: list[dict],
               crowd: list[bool], rule: str) -> np.ndarray:
    """``(D, G)`` person-mask IoU (crowd: intersection over detection area) under a mask
    rule (:mod:`nas.eval.masks`); ground-truth masks are encoded once per annotation and
    rule and cached on ``gt``."""
    h, w = gt.image_size(image_id)
    paste, make_gt = (paste_official, gt_mask_official) if rule == "official" else (paste_box_mask, gt_mask)
    d_rles = [encode_mask(paste(results[k].labels > 0, results[k].bbox, h, w)) for k in dk]
    g_rles = []
    for a in g:
        key = (rule, int(a["id"]))
        rle = gt.mask_cache.get(key)
        if rle is None:
            rle = gt.mask_cache[key] = encode_mask(make_gt(a, h, w))
        g_rles.append(rle)
    return mask_ious(d_rles, g_rles, crowd)
