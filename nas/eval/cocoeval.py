"""DensePose's matching rules on top of pycocotools' COCOeval.

:class:`DensePoseCOCOeval` reuses COCOeval's data preparation, ``accumulate`` (the
precision/recall tables) and parameter handling, and replaces the two places where
DensePose differs from box/mask evaluation:

* ``computeIoU`` returns the mode's precomputed similarity (GPS, GPSm or mask IoU,
  :mod:`nas.eval.pairs`) instead of a box IoU;
* ``evaluateImg`` applies DensePose's ignore rules. Crowd regions and people without
  DensePose points are ignore regions: they never match by GPS, so a detection that
  matches none of the people is ignored (neither true nor false positive) when its box
  overlaps an unmatched ignore region with box IoU >= 0.8 (for a crowd, intersection
  over the detection's box). An image (or area range) without any person to evaluate
  has all its detections ignored, as in DensePose's evaluator.

  ``ignore_rule="official"`` applies the box rule as DensePose's code does: once,
  after matching, to the detections unmatched at the last threshold (0.95), against
  the ground truth unmatched there; the best box-IoU >= 0.8 candidate's ignore flag
  (an ignore region's True, a person's False) then becomes the detection's flag at
  every threshold, and an ignore region so taken is marked matched at 0.95.
  ``"per-threshold"`` applies it at each threshold to the detections unmatched at that
  threshold, and only ever sets the flag.

Greedy matching is COCO's: detections in score order take the unmatched ground truth
of highest similarity >= the threshold (a similarity of exactly 0 never matches).
Parameters are DensePose's: thresholds 0.50:0.05:0.95, 20 detections per image, area
ranges all, medium (32^2..96^2 px) and large (> 96^2 px).
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from nas.eval.options import OPTION_CHOICES, IgnoreRule
from nas.eval.pairs import Mode, PairScores
from nas.errors import EvalError

__all__ = ["DensePoseCOCOeval", "STAT_NAMES", "MAX_DETS", "AREA_RANGES"]

MAX_DETS = 20
AREA_RANGES: tuple[tuple[str, tuple[float, float]], ...] = (
    ("all", (0.0, 1e5**2)),
    ("medium", (32.0**2, 96.0**2)),  # px^2
    ("large", (96.0**2, 1e5**2)),
)
# Box IoU above which an unmatched detection falls into an ignore region.
_IGNORE_BOX_IOU = 0.8

STAT_NAMES: tuple[str, ...] = ("ap", "ap50", "ap75", "apm", "apl", "ar", "ar50", "ar75", "arm", "arl")
"""Summary statistics per mode, in :meth:`DensePoseCOCOeval.stats_dict` order."""


def _box_ignore_candidate(box_row: np.ndarray, matched: np.ndarray, crowd: np.ndarray) -> int:
    """Index of the ground truth of highest box IoU >= 0.8 with a detection among those
    not yet matched (crowds always eligible; the last of equal IoUs wins), or -1."""
    best, m = _IGNORE_BOX_IOU, -1
    for g in range(box_row.size):
        if matched[g] and not crowd[g]:
            continue
        if box_row[g] < best:
            continue
        best, m = box_row[g], g
    return m


class DensePoseCOCOeval(COCOeval):
    """COCOeval with DensePose's similarities and ignore rules (one mode per instance).

    Args:
        coco_gt: ground truth.
        coco_dt: detections; annotation ids must be the ``det_ids`` of ``scores``.
        scores: per (image, category) similarity matrices from :func:`compute_pair_scores`.
        mode: ``"gps"``, ``"gpsm"`` or ``"iou"``.
        image_ids: images to evaluate.
        ignore_rule: ``"official"`` or ``"per-threshold"`` (module docstring).
    """

    def __init__(
        self,
        coco_gt: COCO,
        coco_dt: COCO,
        scores: dict[tuple[int, int], PairScores],
        mode: Mode,
        image_ids: list[int],
        ignore_rule: IgnoreRule = "official",
    ) -> None:
        if ignore_rule not in OPTION_CHOICES["ignore_rule"]:
            raise EvalError(f"ignore_rule must be one of {', '.join(OPTION_CHOICES['ignore_rule'])}, got {ignore_rule!r}")
        super().__init__(coco_gt, coco_dt, iouType="bbox")
        self.mode: Mode = mode
        self.ignore_rule: IgnoreRule = ignore_rule
        self.pair_scores = scores
        self._box: dict[tuple[int, int], np.ndarray] = {}
        p = self.params
        p.imgIds = list(image_ids)
        p.iouThrs = np.linspace(0.5, 0.95, 10)
        p.maxDets = [MAX_DETS]
        p.areaRng = [list(r) for _, r in AREA_RANGES]
        p.areaRngLbl = [name for name, _ in AREA_RANGES]

    def _sorted_dets(self, imgId: int, catId: int) -> list[dict[str, Any]]:
        dts = self._dts[imgId, catId]
        order = np.argsort([-d["score"] for d in dts], kind="mergesort")
        return [dts[i] for i in order[: self.params.maxDets[-1]]]

    def computeIoU(self, imgId: int, catId: int) -> np.ndarray | list[Any]:  # noqa: N802 (pycocotools' name)
        """The mode's ``(D, G)`` similarity: detections by score, ground truth in file order."""
        ps = self.pair_scores.get((imgId, catId))
        dts = self._sorted_dets(imgId, catId)
        gts = self._gts[imgId, catId]
        if ps is None or not dts or not gts:
            return []
        det_row = {int(i): r for r, i in enumerate(ps.det_ids)}
        gt_col = {int(i): c for c, i in enumerate(ps.gt_ids)}
        rows = [det_row[int(d["id"])] for d in dts]
        cols = [gt_col[int(g["id"])] for g in gts]
        self._box[imgId, catId] = ps.box_iou[np.ix_(rows, cols)]
        return ps.similarity(self.mode)[np.ix_(rows, cols)]

    def evaluateImg(  # noqa: N802 (pycocotools' name)
        self, imgId: int, catId: int, aRng: list[float], maxDet: int
    ) -> dict[str, Any] | None:
        """Match one image's detections to its ground truth under DensePose's rules."""
        p = self.params
        gts = self._gts[imgId, catId]
        dts = self._sorted_dets(imgId, catId)[:maxDet]
        if not gts and not dts:
            return None
        ps = self.pair_scores.get((imgId, catId))
        ignored = {} if ps is None else {int(i): bool(f) for i, f in zip(ps.gt_ids, ps.gt_ignored)}

        def area(a: dict[str, Any]) -> float:
            return float(a["area"]) if "area" in a else float(a["bbox"][2] * a["bbox"][3])

        g_ign = np.array(
            [ignored.get(int(g["id"]), True) or not aRng[0] <= area(g) <= aRng[1] for g in gts], dtype=bool
        )
        g_order = np.argsort(g_ign, kind="mergesort")  # people to evaluate first, ignore regions last
        gts = [gts[i] for i in g_order]
        g_ign = g_ign[g_order]
        crowd = np.array([bool(g.get("iscrowd", 0)) for g in gts], dtype=bool)
        sims = self.ious[imgId, catId]
        sim = np.asarray(sims)[:, g_order] if len(sims) else np.zeros((len(dts), len(gts)))
        box = self._box.get((imgId, catId))
        box = box[:, g_order] if box is not None and len(dts) and len(gts) else np.zeros((len(dts), len(gts)))

        T, G, D = len(p.iouThrs), len(gts), len(dts)
        gtm = np.zeros((T, G), dtype=np.int64)  # 1-based index of the matched detection
        dtm = np.zeros((T, D), dtype=np.int64)  # 1-based index of the matched ground truth
        dt_ign = np.zeros((T, D), dtype=bool)
        if g_ign.all():
            dt_ign[:] = True  # nothing to find here: DensePose ignores every detection
        for t, thr in enumerate(p.iouThrs):
            for d in range(D):
                best = min(thr, 1 - 1e-10)
                m = -1
                for g in range(G):
                    if gtm[t, g] and not crowd[g]:
                        continue
                    if m > -1 and not g_ign[m] and g_ign[g]:
                        break  # matched a person; ignore regions (sorted last) cannot do better
                    s = sim[d, g]
                    if s < best or s == 0.0:
                        continue
                    best, m = s, g
                if m > -1:
                    dt_ign[t, d] = g_ign[m]
                    dtm[t, d] = m + 1
                    gtm[t, m] = d + 1
            if self.ignore_rule == "per-threshold":
                for d in range(D):
                    if not dtm[t, d]:
                        m = _box_ignore_candidate(box[d], gtm[t], crowd)
                        if m > -1 and g_ign[m]:
                            dt_ign[t, d] = True
                            dtm[t, d] = m + 1
                            gtm[t, m] = d + 1
        if self.ignore_rule == "official":
            last = T - 1
            for d in range(D):
                if not dtm[last, d]:
                    m = _box_ignore_candidate(box[d], gtm[last], crowd)
                    if m > -1:
                        dt_ign[:, d] = g_ign[m]  # also un-ignores, as the official code
                        if g_ign[m]:
                            dtm[last, d] = m + 1
                            gtm[last, m] = d + 1
        d_out = np.array([not aRng[0] <= d["area"] <= aRng[1] for d in dts], dtype=bool).reshape(1, D)
        dt_ign |= (dtm == 0) & np.repeat(d_out, T, axis=0)
        return {
            "image_id": imgId,
            "category_id": catId,
            "aRng": aRng,
            "maxDet": maxDet,
            "dtIds": [d["id"] for d in dts],
            "gtIds": [g["id"] for g in gts],
            "dtMatches": dtm,
            "gtMatches": gtm,
            "dtScores": [d["score"] for d in dts],
            "gtIgnore": g_ign,
            "dtIgnore": dt_ign,
        }

    def run(self) -> dict[str, float]:
        """Evaluate, accumulate and return :meth:`stats_dict` (pycocotools' prints silenced)."""
        with contextlib.redirect_stdout(io.StringIO()):
            self.evaluate()
            self.accumulate()
        return self.stats_dict()

    def _stat(self, ap: bool, thr: float | None = None, area: str = "all") -> float:
        p = self.params
        a = p.areaRngLbl.index(area)
        if ap:
            s = self.eval["precision"][:, :, :, a, 0]  # T x R x K
        else:
            s = self.eval["recall"][:, :, a, 0]  # T x K
        if thr is not None:
            s = s[np.flatnonzero(np.isclose(p.iouThrs, thr))]
        s = s[s > -1]
        return float(s.mean()) if s.size else -1.0

    def stats_dict(self) -> dict[str, float]:
        """AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl (fractions; -1 where undefined)."""
        vals = [
            self._stat(True),
            self._stat(True, 0.5),
            self._stat(True, 0.75),
            self._stat(True, area="medium"),
            self._stat(True, area="large"),
            self._stat(False),
            self._stat(False, 0.5),
            self._stat(False, 0.75),
            self._stat(False, area="medium"),
            self._stat(False, area="large"),
        ]
        return dict(zip(STAT_NAMES, vals))
