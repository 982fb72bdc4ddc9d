"""GPS and GPSm against hand computations on toy cases."""

from __future__ import annotations

import numpy as np
import pytest

from nas.data.surface import BodySurface
from nas.eval import (
    DensePoseResult,
    EvalOptions,
    compute_pair_scores,
    evaluate,
    ground_truth_results,
    load_ground_truth,
    point_gps,
)
from tests.eval.conftest import toy_ground_truth

K_TORSO, K_HANDS = 0.351, 0.107  # DensePose's normalising distances, metres
BOX = (20.0, 10.0, 64.0, 128.0)  # toy person box; its I, U, V map is 128 x 64 (one cell per pixel)
THRESHOLDS = np.linspace(0.5, 0.95, 10)


def _vertex_near(surface: BodySurface, part: int, origin: int, distance: float) -> int:
    """A vertex of ``part`` whose geodesic from ``origin`` is closest to ``distance`` metres."""
    idx = np.flatnonzero(surface.part == part)
    d = surface.geodesic(origin, idx)
    return int(idx[np.argmin(np.abs(d - distance))])


def _q(x: float) -> float:
    """U or V as stored in a results PNG."""
    return round(x * 255) / 255


def test_point_gps_formula(surface: BodySurface) -> None:
    torso = np.flatnonzero(surface.part == 2)
    a = int(torso[len(torso) // 2])
    b = _vertex_near(surface, 2, a, 0.3)
    g = float(surface.geodesic(a, b))
    (ua, va), (ub, vb) = surface.uv[a], surface.uv[b]
    args = ([2, 2, 2, 2], [ua] * 4, [va] * 4, [2, 2, 0, 1], [ua, ub, ub, ub], [va, vb, vb, vb])
    # exact, 0.3 m away, background, wrong part (part 1 predicted for a part-2 point)
    zero = point_gps(surface, *args, wrong_part="zero")
    np.testing.assert_allclose(zero, [1.0, np.exp(-g**2 / (2 * K_TORSO**2)), 0.0, 0.0])
    assert 0.25 < g < 0.35
    # Default, DensePose's rule: the geodesic to the predicted part's vertex nearest in (U, V).
    other = int(surface.nearest_vertex(1, ub, vb))
    assert surface.part[other] == 1
    g_other = float(surface.geodesic(a, other))
    official = point_gps(surface, *args)
    np.testing.assert_allclose(official, [1.0, zero[1], 0.0, np.exp(-g_other**2 / (2 * K_TORSO**2))])
    assert 0 < official[3] < 1


def _toy(surface: BodySurface) -> tuple[dict, DensePoseResult, float]:
    """3 points: torso exact, torso ~0.3 m off, hand ~0.1 m off; returns GT, detection, hand GPS."""
    torso = np.flatnonzero(surface.part == 2)
    hand = np.flatnonzero(surface.part == 4)
    a, c = int(torso[len(torso) // 3]), int(hand[len(hand) // 2])
    b, d = _vertex_near(surface, 2, a, 0.3), _vertex_near(surface, 4, c, 0.1)
    pts = [(10.0, 20.0, 2, *surface.uv[a]), (100.0, 100.0, 2, *surface.uv[a]), (200.0, 200.0, 4, *surface.uv[c])]
    gt = toy_ground_truth([(x, y, i, float(u), float(v)) for x, y, i, u, v in pts], bbox=BOX)
    iuv = np.zeros((3, 128, 64), np.uint8)
    # dp (x, y) -> map cell: officially (int(x * 64 / 255), int(y * 128 / 255)); the 256
    # frame's (floor(x * 64 / 256), floor(y * 128 / 256)) gives the same cells here
    for (col, row), part, vert in (((2, 10), 2, a), ((25, 50), 2, b), ((50, 100), 4, d)):
        iuv[:, row, col] = [part, round(surface.uv[vert, 0] * 255), round(surface.uv[vert, 1] * 255)]
    # Hand computation: the evaluator sees the quantised U, V of each prediction.
    def gps_of(gt_vertex: int, part: int, vert: int, k: float) -> float:
        pv = surface.nearest_vertex(part, _q(surface.uv[vert, 0]), _q(surface.uv[vert, 1]))
        return float(np.exp(-float(surface.geodesic(gt_vertex, pv)) ** 2 / (2 * k**2)))

    expected = (gps_of(a, 2, a, K_TORSO) + gps_of(a, 2, b, K_TORSO) + gps_of(c, 4, d, K_HANDS)) / 3
    return gt, DensePoseResult(1, 1, BOX, 0.9, iuv), expected


def test_three_point_toy_matches_hand_computation(surface: BodySurface) -> None:
    gt, det, expected = _toy(surface)
    assert 0.55 < expected < 0.93  # a value strictly between thresholds, not a trivial 0 or 1
    scores = compute_pair_scores(load_ground_truth(gt), [det], surface)[1, 1]
    assert scores.gps.shape == (1, 1)
    assert scores.gps[0, 0] == pytest.approx(expected, rel=1e-9)
    # One person, one detection: AP at a threshold is 1 if GPS reaches it, else 0.
    m = evaluate(gt, [det], surface, modes=["gps"])
    assert m["gps_ap"] == pytest.approx(np.mean(THRESHOLDS <= expected))
    assert m["gps_ap50"] == pytest.approx(1.0) and m["gps_ap75"] == pytest.approx(float(expected >= 0.75))
    assert m["gps_ar"] == pytest.approx(np.mean(THRESHOLDS <= expected))


def test_gpsm_is_sqrt_of_gps_times_mask_iou(surface: BodySurface) -> None:
    gt, det, expected = _toy(surface)
    iuv = det.iuv.copy()
    iuv[0, :, :32] = np.where(iuv[0, :, :32] == 0, 7, iuv[0, :, :32])  # left half is "person"
    det = DensePoseResult(1, 1, BOX, 0.9, iuv)
    scores = compute_pair_scores(load_ground_truth(gt), [det], surface)[1, 1]
    # Ground-truth mask: the whole 64 x 128 box; detection: its left half plus the point at column 50.
    iou = (32 * 128 + 1) / (64 * 128)
    assert scores.mask_iou[0, 0] == pytest.approx(iou)
    assert scores.gps[0, 0] == pytest.approx(expected, rel=1e-9)  # the extra pixels hold no GT point
    assert scores.similarity("gpsm")[0, 0] == pytest.approx(np.sqrt(expected * iou))
    m = evaluate(gt, [det], surface)
    assert m["gpsm_ap"] == pytest.approx(np.mean(THRESHOLDS <= np.sqrt(expected * iou)))
    assert m["iou_ap"] == pytest.approx(np.mean(THRESHOLDS <= iou))


def test_wrong_part_everywhere_scores_zero_under_the_zero_option(gt, surface: BodySurface) -> None:
    results = ground_truth_results(gt)
    wrong = []
    for r in results:
        iuv = r.iuv.copy()
        iuv[0] = np.where(iuv[0] > 0, iuv[0] % 24 + 1, 0)  # every part label replaced by another part
        wrong.append(DensePoseResult(r.image_id, r.category_id, r.bbox, r.score, iuv))
    scores = compute_pair_scores(gt, wrong, surface, options=EvalOptions(wrong_part="zero"))
    assert all(np.all(s.gps == 0) for s in scores.values())
    m = evaluate(gt, wrong, surface, wrong_part="zero")
    assert m["gps_ap"] == 0.0 and m["gpsm_ap"] == 0.0 and m["gps_ar"] == 0.0
    assert m["iou_ap"] == pytest.approx(1.0)  # the person masks are still perfect
    # Officially each point scores by the geodesic to the (wrong) part's vertex: some credit.
    official = compute_pair_scores(gt, wrong, surface)
    best = np.concatenate([s.gps.max(axis=0)[~s.gt_ignored] for s in official.values() if len(s.det_ids)])
    assert np.all(best > 0) and np.all(best < 1)


def test_uv_noise_lowers_gps_monotonically(gt, surface: BodySurface) -> None:
    means, aps = [], []
    for noise in (0.0, 0.05, 0.15, 0.3, 0.5):
        res = ground_truth_results(gt, uv_noise=noise, seed=3)
        scores = compute_pair_scores(gt, res, surface, masks=False)
        best = np.concatenate([s.gps.max(axis=0)[~s.gt_ignored] for s in scores.values() if len(s.det_ids)])
        means.append(best.mean())
        aps.append(evaluate(gt, res, surface, modes=["gps"])["gps_ap"])
    assert all(a > b for a, b in zip(means, means[1:])), means
    assert all(a >= b for a, b in zip(aps, aps[1:])), aps
    assert aps[0] == pytest.approx(1.0) and aps[-1] < 0.5


def test_random_iuv_scores_near_zero(gt, surface: BodySurface) -> None:
    rng = np.random.default_rng(5)
    noise = []
    for r in ground_truth_results(gt):
        _, h, w = r.iuv.shape
        iuv = np.stack([rng.integers(0, 25, (h, w)), rng.integers(0, 256, (h, w)), rng.integers(0, 256, (h, w))])
        noise.append(DensePoseResult(r.image_id, r.category_id, r.bbox, r.score, iuv.astype(np.uint8)))
    m = evaluate(gt, noise, surface, modes=["gps", "gpsm"])
    assert m["gps_ap"] < 0.05 and m["gpsm_ap"] < 0.05
