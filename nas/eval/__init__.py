"""DensePose-COCO evaluation (GPS, GPSm and IOU AP) on top of pycocotools.

Public API:

* :func:`evaluate` — metrics dict (``gps_ap``, ``gpsm_ap50``, ...) of a results list
  against an annotation file and a body surface; :func:`metric_keys` lists the keys;
  DensePose's official evaluator by default, the project's stricter rules as options
  (:class:`EvalOptions`, :data:`OFFICIAL`, :data:`PROJECT`);
* the results format: :class:`DensePoseResult`, :func:`encode_densepose_result`,
  :func:`decode_densepose_result`, :func:`encode_iuv`, :func:`decode_iuv`,
  :func:`load_densepose_results`, :func:`save_densepose_results`;
* building blocks: :func:`point_gps` (per-point GPS), :func:`compute_pair_scores`
  (per-image similarity matrices), :class:`DensePoseCOCOeval`;
* :func:`ground_truth_results` — results made from the ground truth (sanity checks).
"""

from __future__ import annotations

from nas.eval.cocoeval import AREA_RANGES, MAX_DETS, STAT_NAMES, DensePoseCOCOeval
from nas.eval.evaluate import check_surface_units, evaluate, metric_keys
from nas.eval.gps import point_gps
from nas.eval.groundtruth import GroundTruth, load_ground_truth
from nas.eval.options import OFFICIAL, OPTION_CHOICES, PROJECT, EvalOptions
from nas.eval.oracle import ground_truth_results
from nas.eval.pairs import MODES, PairScores, compute_pair_scores
from nas.eval.parts import FINE_TO_GPS_PART, GPS_PART_K, GPS_PART_NAMES
from nas.eval.results import (
    DensePoseResult,
    whole_pixel_box,
    decode_densepose_result,
    decode_iuv,
    encode_densepose_result,
    encode_iuv,
    load_densepose_results,
    save_densepose_results,
)
from nas.eval.summary import format_summary

__all__ = [
    "evaluate",
    "metric_keys",
    "check_surface_units",
    "EvalOptions",
    "OFFICIAL",
    "PROJECT",
    "OPTION_CHOICES",
    "format_summary",
    "MODES",
    "STAT_NAMES",
    "MAX_DETS",
    "AREA_RANGES",
    "DensePoseResult",
    "whole_pixel_box",
    "encode_iuv",
    "decode_iuv",
    "encode_densepose_result",
    "decode_densepose_result",
    "load_densepose_results",
    "save_densepose_results",
    "point_gps",
    "compute_pair_scores",
    "PairScores",
    "DensePoseCOCOeval",
    "GroundTruth",
    "load_ground_truth",
    "ground_truth_results",
    "GPS_PART_NAMES",
    "GPS_PART_K",
    "FINE_TO_GPS_PART",
]
