"""DensePose-COCO evaluation: the function training and the CLI call."""

from __future__ import annotations

import contextlib
import io
import os
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from pycocotools.coco import COCO

from nas.data.surface import BodySurface
from nas.errors import EvalError
from nas.eval.cocoeval import STAT_NAMES, DensePoseCOCOeval
from nas.eval.groundtruth import GroundTruth, load_ground_truth
from nas.eval.options import EvalOptions, IgnoreRule, MaskRule, Placement, WrongPart
from nas.eval.pairs import MODES, Mode, compute_pair_scores
from nas.eval.results import DensePoseResult, load_densepose_results

__all__ = ["evaluate", "metric_keys", "check_surface_units"]

# Head-to-sole geodesic of an adult body, metres; outside this the units are wrong.
_BODY_GEODESIC_RANGE = (0.5, 5.0)


def metric_keys(modes: Sequence[Mode] = MODES) -> list[str]:
    """The keys :func:`evaluate` returns, e.g. ``gps_ap``, ``gpsm_ap50``, ``iou_arl``."""
    return [f"{m}_{s}" for m in modes for s in STAT_NAMES]


def check_surface_units(surface: BodySurface) -> float | None:
    """Check that the surface's geodesics are in metres, as GPS's ``k`` constants are.

    Measures the geodesic between the highest and lowest vertex of the canonical pose
    (head top to sole, ~1.8 m for an adult body 1.7 m tall).

    Returns:
        That distance in metres, or None when the surface has no 3-D positions.

    Raises:
        EvalError: the surface has no geodesics, or the distance is outside 0.5..5 m
            (a surface in centimetres or unit-normalised would make GPS meaningless).
    """
    if not surface.has_geodesics:
        raise EvalError(f"{surface.name}: the body surface has no geodesic distances, which GPS needs")
    if surface.xyz is None:
        return None
    axis = int(np.argmax(np.ptp(surface.xyz, axis=0)))  # the body's long axis
    top, bottom = int(np.argmax(surface.xyz[:, axis])), int(np.argmin(surface.xyz[:, axis]))
    g = float(surface.geodesic(top, bottom))
    lo, hi = _BODY_GEODESIC_RANGE
    if not lo <= g <= hi:
        raise EvalError(
            f"{surface.name}: head-to-foot geodesic is {g:g}, expected {lo:g}..{hi:g} metres; "
            "GPS's normalising distances are in metres, so the surface must be too"
        )
    return g


def _results_coco(gt: GroundTruth, results: list[DensePoseResult]) -> COCO:
    coco = COCO()
    coco.dataset = {
        "images": list(gt.coco.dataset["images"]),
        "categories": list(gt.coco.dataset["categories"]),
        "annotations": [
            {
                "id": k + 1,  # det_ids of PairScores
                "image_id": r.image_id,
                "category_id": r.category_id,
                "bbox": list(r.bbox),
                "score": r.score,
                "area": r.bbox[2] * r.bbox[3],  # px^2, like pycocotools' loadRes for boxes
                "iscrowd": 0,
            }
            for k, r in enumerate(results)
        ],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def evaluate(
    gt: str | os.PathLike[str] | COCO | Mapping[str, Any] | GroundTruth,
    results: str | os.PathLike[str] | Iterable[Mapping[str, Any] | DensePoseResult],
    surface: BodySurface,
    *,
    modes: Sequence[Mode] = MODES,
    image_ids: Iterable[int] | None = None,
    wrong_part: WrongPart = "geodesic",
    placement: Placement = "official",
    masks: MaskRule = "official",
    ignore_rule: IgnoreRule = "official",
) -> dict[str, float]:
    """DensePose-COCO evaluation of detections with per-box I, U, V.

    By default every rule is DensePose's official evaluator's; each of the last four
    arguments can select this project's stricter definition instead
    (:mod:`nas.eval.options` describes both sides).

    Args:
        gt: DensePose-COCO annotations: a JSON path, a pycocotools ``COCO``, the parsed
            dict, or a :class:`~nas.eval.groundtruth.GroundTruth`.
        results: DensePose results: a JSON path, or a list of entries (dicts in the
            results format, or :class:`~nas.eval.results.DensePoseResult`).
        surface: the body surface the ground truth's (I, U, V) live on; geodesics in metres.
        modes: which of ``"gps"``, ``"gpsm"``, ``"iou"`` to evaluate.
        image_ids: images to evaluate (default: all images of ``gt``; images without
            detections count their people as missed).
        wrong_part: ``"geodesic"`` (official): a point predicted on another part scores
            by the geodesic to that part's nearest vertex; ``"zero"``: it scores 0.
        placement: ``"official"``: points at ``box + dp · size / 255``, offsets
            truncated to whole pixels of the box; ``"frame256"``: DensePose-COCO's
            256-cell frame, scaled to the map.
        masks: ``"official"``: ``dp_masks`` label image resized bilinearly, ``> 0.5``,
            empty without ``dp_masks``; ``"nearest"``: nearest resampling, falling back
            to ``segmentation`` or the box.
        ignore_rule: ``"official"``: the box-IoU >= 0.8 ignore rule decided at the last
            threshold and applied to all; ``"per-threshold"``: decided per threshold.

    Returns:
        For each mode ``m`` in ``modes`` the ten keys ``m_ap``, ``m_ap50``, ``m_ap75``,
        ``m_apm``, ``m_apl``, ``m_ar``, ``m_ar50``, ``m_ar75``, ``m_arm``, ``m_arl``
        (AP over thresholds 0.50:0.05:0.95, at 0.50, at 0.75, for medium and large
        people; AR likewise; 20 detections per image). Values are fractions in [0, 1],
        -1.0 where undefined (no person in that area range). With the default modes:
        ``gps_*``, ``gpsm_*`` and ``iou_*``, 30 keys (see :func:`metric_keys`).

    Raises:
        DataError: the annotation file or the surface is missing or malformed.
        EvalError: the results are malformed, name unknown images or categories, a mode
            or option value is unknown, or the surface's geodesics are not in metres.
    """
    options = EvalOptions(wrong_part=wrong_part, placement=placement, masks=masks, ignore_rule=ignore_rule)
    modes = tuple(modes)
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise EvalError(f"unknown evaluation mode(s) {bad}; choose from {', '.join(MODES)}")
    check_surface_units(surface)
    truth = gt if isinstance(gt, GroundTruth) else load_ground_truth(gt)
    dets = load_densepose_results(results)
    imgs = sorted(truth.coco.imgs) if image_ids is None else sorted(set(int(i) for i in image_ids))
    scores = compute_pair_scores(
        truth, dets, surface, image_ids=imgs, masks=any(m != "gps" for m in modes), options=options
    )
    coco_dt = _results_coco(truth, dets)
    out: dict[str, float] = {}
    for mode in modes:
        stats = DensePoseCOCOeval(truth.coco, coco_dt, scores, mode, imgs, options.ignore_rule).run()
        out.update({f"{mode}_{k}": v for k, v in stats.items()})
    return out
