"""Hand-built cases for each rule of DensePose's official evaluator (the default) and
the project option that departs from it (docs/eval.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nas.data.rle import rle_encode
from nas.data.surface import BodySurface
from nas.errors import EvalError
from nas.eval import (
    DensePoseResult,
    EvalOptions,
    compute_pair_scores,
    evaluate,
    ground_truth_results,
    load_densepose_results,
    load_ground_truth,
    save_densepose_results,
    whole_pixel_box,
)
from nas.eval.masks import gt_mask, gt_mask_official, resize_bilinear
from tests.eval.conftest import toy_ground_truth

K_TORSO = 0.351  # DensePose's normalising distance of the torso, metres
THRESHOLDS = np.linspace(0.5, 0.95, 10)


def _q(x: float) -> float:
    """U or V as a results PNG stores it."""
    return round(x * 255) / 255


def _torso_vertices(surface: BodySurface, distance: float) -> tuple[int, int, float]:
    """Two torso (part 2) vertices about ``distance`` metres apart, and their geodesic."""
    idx = np.flatnonzero(surface.part == 2)
    a = int(idx[len(idx) // 2])
    b = int(idx[np.argmin(np.abs(surface.geodesic(a, idx) - distance))])
    return a, b, float(surface.geodesic(a, b))


def _gps(surface: BodySurface, gt_vertex: int, part: int, u: float, v: float) -> float:
    """A point's GPS by hand: geodesic to the vertex of ``part`` nearest the stored (U, V)."""
    pv = int(surface.nearest_vertex(part, _q(u), _q(v)))
    return float(np.exp(-float(surface.geodesic(gt_vertex, pv)) ** 2 / (2 * K_TORSO**2)))


def _pair_gps(gt: dict[str, Any], det: DensePoseResult, surface: BodySurface, **options: str) -> float:
    scores = compute_pair_scores(load_ground_truth(gt), [det], surface, masks=False, options=EvalOptions(**options))
    return float(scores[1, 1].gps[0, 0])


# --------------------------------------------------------------- wrong part
def test_wrong_part_scores_by_geodesic_to_the_predicted_parts_nearest_vertex(surface: BodySurface) -> None:
    a, _, _ = _torso_vertices(surface, 0.0)
    ua, va = (float(t) for t in surface.uv[a])
    box = (20.0, 10.0, 64.0, 128.0)
    gt = toy_ground_truth([(128.0, 128.0, 2, ua, va)], bbox=box)
    iuv = np.zeros((3, 128, 64), np.uint8)
    iuv[:, :, :] = np.array([1, round(ua * 255), round(va * 255)], np.uint8)[:, None, None]  # part 1, same (U, V)
    det = DensePoseResult(1, 1, box, 0.9, iuv)
    expected = _gps(surface, a, 1, ua, va)  # the part-1 vertex nearest (U, V), its geodesic to a
    assert 0.0 < expected < 1.0
    assert _pair_gps(gt, det, surface) == pytest.approx(expected, rel=1e-12)
    assert _pair_gps(gt, det, surface, wrong_part="zero") == 0.0


# ---------------------------------------------------------------- placement
def test_last_pixel_column_of_a_200_px_box(surface: BodySurface) -> None:
    """dp_x = 254 is column 199 officially (254 * 200 / 255 = 199.2, truncated) but 198 in
    the 256 frame (254 * 200 / 256 = 198.4); dp_x = 255 is column 200, outside the box,
    officially (200.0) but 199 in the 256 frame (199.2)."""
    a, b, g_ab = _torso_vertices(surface, 0.3)
    (ua, va), (ub, vb) = surface.uv[a], surface.uv[b]
    box = (10.0, 20.0, 200.0, 100.0)
    gt = toy_ground_truth([(254.0, 128.0, 2, float(ua), float(va)), (255.0, 128.0, 2, float(ub), float(vb))],
                          bbox=box, image_size=(200, 260))
    iuv = np.zeros((3, 100, 200), np.uint8)
    iuv[:, :, 199] = np.array([2, round(ua * 255), round(va * 255)], np.uint8)[:, None]  # a's value, last column
    det = DensePoseResult(1, 1, box, 0.9, iuv)
    # Official: point 1 reads column 199 (exact, 1.0); point 2 is outside (0).
    assert _pair_gps(gt, det, surface) == pytest.approx(0.5)
    # 256 frame: point 1 reads column 198 (background, 0); point 2 reads a's value in column 199.
    g = _gps(surface, b, 2, float(ua), float(va))
    assert g == pytest.approx(np.exp(-g_ab**2 / (2 * K_TORSO**2)), rel=0.2) and g < 0.9
    assert _pair_gps(gt, det, surface, placement="frame256") == pytest.approx(g / 2)


def test_offset_just_left_of_the_box_truncates_to_its_first_pixel(surface: BodySurface) -> None:
    """A point 0.3 px left of the detection's box is pixel int(-0.3) = 0 officially, and
    outside under the 256 frame (floor)."""
    a, _, _ = _torso_vertices(surface, 0.0)
    ua, va = (float(t) for t in surface.uv[a])
    gt = toy_ground_truth([(0.0, 0.0, 2, ua, va)], bbox=(20.2, 10.0, 64.0, 128.0))  # the point: (20.2, 10.0)
    iuv = np.zeros((3, 128, 64), np.uint8)
    iuv[:, 0, 0] = [2, round(ua * 255), round(va * 255)]
    det = DensePoseResult(1, 1, (20.5, 10.0, 64.0, 128.0), 0.9, iuv)  # 0.3 px to the right
    assert _pair_gps(gt, det, surface) == pytest.approx(1.0)
    assert _pair_gps(gt, det, surface, placement="frame256") == 0.0


def test_map_of_another_size_is_read_as_resampled_to_the_box(surface: BodySurface) -> None:
    """A 56-column map over a 200-px box: official pixel 199 is map cell int(199.5 * 56 / 200) = 55."""
    a, _, _ = _torso_vertices(surface, 0.0)
    ua, va = (float(t) for t in surface.uv[a])
    box = (10.0, 20.0, 200.0, 100.0)
    gt = toy_ground_truth([(254.0, 128.0, 2, ua, va)], bbox=box, image_size=(200, 260))
    iuv = np.zeros((3, 56, 56), np.uint8)
    iuv[:, :, 55] = np.array([2, round(ua * 255), round(va * 255)], np.uint8)[:, None]
    assert _pair_gps(gt, DensePoseResult(1, 1, box, 0.9, iuv), surface) == pytest.approx(1.0)
    iuv[:, :, 55], iuv[:, :, 54] = 0, iuv[:, :, 55]
    assert _pair_gps(gt, DensePoseResult(1, 1, box, 0.9, iuv), surface) == 0.0


# -------------------------------------------------------------- ignore rule
def test_detection_over_a_person_without_points_is_ignored(surface: BodySurface) -> None:
    points = [(40.0, 40.0, 2, 0.3, 0.5), (128.0, 128.0, 2, 0.31, 0.5), (200.0, 90.0, 2, 0.32, 0.5)]
    unannotated = {"id": 2, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": [80.0, 20.0, 30.0, 60.0],
                   "area": 1800.0}
    gt = toy_ground_truth(points, bbox=(10.0, 10.0, 64.0, 128.0), extra=[unannotated])
    person = ground_truth_results(load_ground_truth(gt))[0]
    person = DensePoseResult(1, 1, person.bbox, 0.5, person.iuv)
    over = DensePoseResult(1, 1, (81.0, 21.0, 29.0, 59.0), 0.9, np.full((3, 59, 29), 3, np.uint8))  # box IoU 0.95
    for rule in ("official", "per-threshold"):
        m = evaluate(gt, [person, over], surface, ignore_rule=rule)
        for mode in ("gps", "gpsm", "iou"):
            assert m[f"{mode}_ap"] == pytest.approx(1.0), (rule, mode)  # neither a true nor a false positive
    # The same detection moved off the unannotated person is a false positive ranked first.
    away = DensePoseResult(1, 1, (85.0, 100.0, 29.0, 50.0), 0.9, np.full((3, 50, 29), 3, np.uint8))
    assert evaluate(gt, [person, away], surface, modes=["gps"])["gps_ap"] == pytest.approx(0.5)


def test_official_ignore_rule_takes_the_last_thresholds_outcome_for_all(surface: BodySurface) -> None:
    """A detection matched to the person at low thresholds but not at 0.95, whose box is
    also that of a person without points: officially the box rule, decided at 0.95,
    ignores it at every threshold (AP 0); per threshold it stays a true positive where
    it matched (AP = share of thresholds <= its GPS)."""
    a, b, _ = _torso_vertices(surface, 0.25)
    (ua, va), (ub, vb) = surface.uv[a], surface.uv[b]
    box = (10.0, 10.0, 64.0, 128.0)
    gt = toy_ground_truth([(128.0, 128.0, 2, float(ua), float(va))], bbox=box,
                          extra=[{"id": 2, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": list(box),
                                  "area": float(box[2] * box[3])}])
    iuv = np.zeros((3, 128, 64), np.uint8)
    iuv[:, :, :] = np.array([2, round(ub * 255), round(vb * 255)], np.uint8)[:, None, None]
    det = DensePoseResult(1, 1, box, 0.9, iuv)
    gps = _gps(surface, a, 2, float(ub), float(vb))
    assert 0.5 <= gps < 0.95
    official = evaluate(gt, [det], surface, modes=["gps"])
    assert official["gps_ap"] == 0.0 and official["gps_ar"] == 0.0
    per = evaluate(gt, [det], surface, modes=["gps"], ignore_rule="per-threshold")
    assert per["gps_ap"] == pytest.approx(np.mean(THRESHOLDS <= gps))
    assert per["gps_ar"] == pytest.approx(np.mean(THRESHOLDS <= gps))


# -------------------------------------------------------------------- masks
def test_bilinear_resize_by_hand() -> None:
    np.testing.assert_allclose(resize_bilinear(np.array([[0.0, 4.0]]), 1, 4), [[0.0, 1.0, 3.0, 4.0]])  # edges clamp
    np.testing.assert_allclose(resize_bilinear(np.array([[1.0, 3.0, 5.0, 7.0]]), 1, 2), [[2.0, 6.0]])  # halving: area
    np.testing.assert_allclose(resize_bilinear(np.array([[1.0], [3.0], [5.0]]), 2, 1), [[1.5], [4.5]])


def _masked_annotation(part: int) -> dict[str, Any]:
    """Coarse part ``part`` (1..14) on the left half of the 256 frame, box 3.9 x 1 at (1.7, 0.2)."""
    half = np.zeros((256, 256), np.uint8)
    half[:, :128] = 1
    masks: list[Any] = [[] for _ in range(14)]
    masks[part - 1] = rle_encode(half)
    return {"id": 1, "image_id": 1, "bbox": [1.7, 0.2, 3.9, 1.0], "dp_masks": masks}


def test_official_gt_mask_weighs_part_numbers_at_the_edge() -> None:
    """Officially the box is 3 x 1 px at (1, 0) (truncated); resizing 256 columns to 3
    samples source column 127.5 for the middle pixel: half part, half background, so the
    value is part / 2, foreground (> 0.5) for part 2 but not for part 1."""
    torso = gt_mask_official(_masked_annotation(1), 2, 6)
    np.testing.assert_array_equal(torso, [[0, 1, 0, 0, 0, 0], [0] * 6])
    hand = gt_mask_official(_masked_annotation(2), 2, 6)
    np.testing.assert_array_equal(hand, [[0, 1, 1, 0, 0, 0], [0] * 6])
    # Project rule: floored corner, rounded size (4 px), nearest resampling: columns 1, 2 for any part.
    for part in (1, 2):
        np.testing.assert_array_equal(gt_mask(_masked_annotation(part), 2, 6), [[0, 1, 1, 0, 0, 0], [0] * 6])
    # Without dp_masks the official mask is empty; the project's falls back to the box.
    bare = {"id": 1, "image_id": 1, "bbox": [1.7, 0.2, 3.9, 1.0]}
    assert gt_mask_official(bare, 2, 6).sum() == 0
    np.testing.assert_array_equal(gt_mask(bare, 2, 6), [[0, 1, 1, 1, 1, 0], [0] * 6])


def test_mask_iou_follows_the_rule(surface: BodySurface) -> None:
    """A detection covering exactly the nearest-rule mask (image columns 1-2) has mask
    IoU 1 under it, and 1/2 officially for a torso (official mask: column 1 only)."""
    ann = _masked_annotation(1)
    ann.update({"category_id": 1, "iscrowd": 0, "area": 4.0, "dp_x": [10.0], "dp_y": [10.0], "dp_I": [1.0],
                "dp_U": [0.5], "dp_V": [0.5]})
    gt = {"images": [{"id": 1, "height": 2, "width": 6}], "categories": [{"id": 1, "name": "person"}],
          "annotations": [ann]}
    det = DensePoseResult(1, 1, (1.0, 0.0, 2.0, 1.0), 0.9, np.ones((3, 1, 2), np.uint8))
    truth = load_ground_truth(gt)
    official = compute_pair_scores(truth, [det], surface)[1, 1].mask_iou[0, 0]
    nearest = compute_pair_scores(truth, [det], surface, options=EvalOptions(masks="nearest"))[1, 1].mask_iou[0, 0]
    assert (official, nearest) == (pytest.approx(0.5), pytest.approx(1.0))


# ------------------------------------------------------------- results file
def test_results_file_holds_maps_at_the_boxs_whole_pixel_size(tmp_path: Path, surface: BodySurface) -> None:
    rng = np.random.default_rng(0)
    iuv = np.stack([rng.integers(0, 25, (56, 56)), rng.integers(0, 256, (56, 56)),
                    rng.integers(0, 256, (56, 56))]).astype(np.uint8)
    det = DensePoseResult(1, 1, (10.3, 20.7, 50.9, 30.2), 0.8, iuv)
    path = tmp_path / "res.json"
    save_densepose_results(path, [det])
    entry = json.loads(path.read_text())[0]
    assert entry["uv_shape"] == [3, 30, 50] and entry["bbox"] == [10.3, 20.7, 50.0, 30.0]
    back = load_densepose_results(path)[0]
    rows = [int((r + 0.5) * 56 / 30) for r in range(30)]  # nearest cell centres, by hand
    cols = [int((c + 0.5) * 56 / 50) for c in range(50)]
    np.testing.assert_array_equal(back.iuv, iuv[:, rows][:, :, cols])
    assert back.at_box_pixels() is back  # already official: written again unchanged
    save_densepose_results(path, [back])
    assert json.loads(path.read_text())[0] == entry
    # The file scores what the 56 x 56 maps score from memory (same whole-pixel box).
    a, _, _ = _torso_vertices(surface, 0.0)
    gt = toy_ground_truth([(float(x), 100.0, 2, *map(float, surface.uv[a])) for x in (10, 90, 170, 250)],
                          bbox=(10.0, 20.0, 50.0, 30.0), image_size=(80, 90))
    in_memory = DensePoseResult(1, 1, (10.3, 20.7, 50.0, 30.0), 0.8, iuv)
    assert evaluate(gt, [in_memory], surface) == evaluate(gt, path, surface)


def test_whole_pixel_box_truncates_and_forgives_float_noise() -> None:
    assert whole_pixel_box((1.5, 2.0, 50.9, 30.2)) == (1.5, 2.0, 50.0, 30.0)  # int(), as Detectron writes boxes
    assert whole_pixel_box((0.0, 0.0, 63.9999999, 0.4)) == (0.0, 0.0, 64.0, 1.0)  # scaling noise; at least 1 px


def test_options_are_checked() -> None:
    with pytest.raises(EvalError, match="placement must be one of official, frame256"):
        EvalOptions(placement="256")  # type: ignore[arg-type]
    with pytest.raises(EvalError, match="ignore_rule"):
        EvalOptions(ignore_rule="none")  # type: ignore[arg-type]
