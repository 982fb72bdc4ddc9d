"""Geodesic point similarity (GPS) between ground-truth points and predicted I, U, V.

For a ground-truth point on fine part ``I*`` at chart coordinates ``(U*, V*)`` and the
prediction ``(I, U, V)`` at the same pixel, each is mapped to the nearest surface
vertex of its own part in (U, V), and the point scores ``exp(-g^2 / (2 k^2))`` where
``g`` is the geodesic distance between the two vertices (metres) and ``k`` the
normalising distance of the ground truth's coarse part (:mod:`nas.eval.parts`). A
background prediction (``I = 0``) and a point outside the detection's box score 0
(infinite distance). A prediction on another part than ``I*`` is scored, as in
DensePose's evaluator, by the geodesic to the predicted part's nearest vertex
(``wrong_part="geodesic"``, the default); ``wrong_part="zero"`` scores it 0.

Where a point falls in a detection's map follows ``placement``
(:mod:`nas.eval.options`); a pair's GPS is the mean over all of the ground truth's points.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from nas.data.surface import BodySurface
from nas.eval.options import OPTION_CHOICES, Placement, WrongPart
from nas.eval.parts import point_k
from nas.errors import EvalError

__all__ = ["WrongPart", "point_gps", "gps_from_vertices", "DetectionMaps", "GtPointTable", "pair_gps"]

# Points expanded per batch in pair_gps (8 arrays of 8 bytes each: ~130 MB at most).
_POINTS_PER_BATCH = 2_000_000


def _check(name: str, value: str) -> None:
    if value not in OPTION_CHOICES[name]:
        raise EvalError(f"{name} must be one of {', '.join(OPTION_CHOICES[name])}, got {value!r}")


def gps_from_vertices(
    surface: BodySurface,
    gt_vertex: np.ndarray,
    gt_part: np.ndarray,
    pred_part: np.ndarray,
    pred_u: np.ndarray,
    pred_v: np.ndarray,
    wrong_part: WrongPart = "geodesic",
) -> np.ndarray:
    """Per-point GPS given the ground-truth points' vertices (1-D arrays of one length).

    Args:
        surface: the body surface (geodesics in metres).
        gt_vertex: vertex of each ground-truth point (``surface.nearest_vertex``).
        gt_part: fine part 1..24 of each ground-truth point.
        pred_part: predicted fine part 0..24 at the point (0: background or outside).
        pred_u: predicted U in [0, 1].
        pred_v: predicted V in [0, 1].
        wrong_part: ``"geodesic"`` (DensePose's) measures the distance to a prediction
            on another part; ``"zero"`` scores it 0.

    Returns:
        float64 GPS in [0, 1] per point.
    """
    _check("wrong_part", wrong_part)
    pred_part = np.asarray(pred_part, dtype=np.int64)
    ok = pred_part > 0
    if wrong_part == "zero":
        ok &= pred_part == gt_part
    dist = np.full(pred_part.shape, np.inf)
    if ok.any():
        pv = surface.nearest_vertex(pred_part[ok], np.asarray(pred_u)[ok], np.asarray(pred_v)[ok])
        dist[ok] = surface.geodesic(np.asarray(gt_vertex)[ok], pv)
    k = point_k(gt_part)
    with np.errstate(over="ignore"):
        return np.exp(-(dist**2) / (2.0 * k**2))


def point_gps(
    surface: BodySurface,
    gt_part: np.ndarray,
    gt_u: np.ndarray,
    gt_v: np.ndarray,
    pred_part: np.ndarray,
    pred_u: np.ndarray,
    pred_v: np.ndarray,
    wrong_part: WrongPart = "geodesic",
) -> np.ndarray:
    """Per-point GPS of predictions against ground-truth (I, U, V) points (1-D arrays)."""
    gt_part = np.asarray(gt_part, dtype=np.int64)
    gv = surface.nearest_vertex(gt_part, gt_u, gt_v)
    return gps_from_vertices(surface, gv, gt_part, pred_part, pred_u, pred_v, wrong_part)


@dataclass(frozen=True)
class DetectionMaps:
    """Detections' boxes and their I, U, V maps, flattened into shared arrays.

    Attributes:
        boxes: ``(D, 4)`` float64 ``x, y, w, h`` in image pixels.
        height: ``(D,)`` rows of each I, U, V map.
        width: ``(D,)`` columns of each map.
        offset: ``(D,)`` start of each map in the flat arrays.
        iuv: ``(3, total)`` uint8 flat I, 255 U, 255 V of all maps (row-major each).
    """

    boxes: np.ndarray
    height: np.ndarray
    width: np.ndarray
    offset: np.ndarray
    iuv: np.ndarray

    @classmethod
    def build(cls, boxes: list[tuple[float, float, float, float]], maps: list[np.ndarray]) -> DetectionMaps:
        """Pack per-detection ``(3, h, w)`` uint8 maps."""
        h = np.array([m.shape[1] for m in maps], dtype=np.int64)
        w = np.array([m.shape[2] for m in maps], dtype=np.int64)
        sizes = h * w
        offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        flat = np.concatenate([m.reshape(3, -1) for m in maps], axis=1) if maps else np.zeros((3, 0), np.uint8)
        return cls(np.asarray(boxes, dtype=np.float64).reshape(-1, 4), h, w, offset, flat)


@dataclass(frozen=True)
class GtPointTable:
    """Ground-truth DensePose points of many annotations, concatenated.

    Attributes:
        x, y: ``(P,)`` image coordinates of every point.
        part: ``(P,)`` fine part 1..24.
        vertex: ``(P,)`` nearest surface vertex of each point.
        start: ``(G + 1,)`` annotation ``g`` owns points ``start[g]:start[g + 1]``.
    """

    x: np.ndarray
    y: np.ndarray
    part: np.ndarray
    vertex: np.ndarray
    start: np.ndarray

    @classmethod
    def build(
        cls, surface: BodySurface, points: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    ) -> GtPointTable:
        """From per-annotation ``(x, y, I, U, V)`` arrays; vertices found in one vectorised pass."""
        n = np.array([p[0].size for p in points], dtype=np.int64)
        start = np.concatenate([[0], np.cumsum(n)]).astype(np.int64)

        def cat(k: int, dtype: type) -> np.ndarray:
            return np.concatenate([p[k] for p in points]).astype(dtype) if points else np.zeros(0, dtype)

        part = cat(2, np.int64)
        vertex = surface.nearest_vertex(part, cat(3, np.float64), cat(4, np.float64))
        return cls(cat(0, np.float64), cat(1, np.float64), part, vertex, start)


def pair_gps(
    surface: BodySurface,
    gt: GtPointTable,
    dets: DetectionMaps,
    pair_det: np.ndarray,
    pair_gt: np.ndarray,
    wrong_part: WrongPart = "geodesic",
    placement: Placement = "official",
) -> np.ndarray:
    """GPS of many (detection, ground truth) pairs, vectorised over all their points.

    ``placement="official"`` (DensePose's evaluator; ``gt`` built with image positions
    ``box + dp · size / 255``): the point's offset from the detection's corner is
    truncated to whole pixels, ``col = int(x - box_x)``, and the point is inside when
    ``0 <= col < int(box_w)`` (rows likewise). Official maps are ``int(box_h) x
    int(box_w)``; a map of another size is read as if resampled to that size by
    nearest neighbour: cell ``int((col + 0.5) * map_w / int(box_w))``.
    ``placement="frame256"`` (``gt`` built with ``box + dp · size / 256``): column
    ``floor((x - box_x) * map_w / box_w)``, likewise the row, inside the map.
    Points outside score 0.

    Args:
        surface: the body surface.
        gt: the ground-truth points.
        dets: the detections.
        pair_det: ``(N,)`` detection index of each pair.
        pair_gt: ``(N,)`` ground-truth index of each pair (into ``gt``).
        wrong_part: see :func:`gps_from_vertices`.
        placement: ``"official"`` or ``"frame256"``, as above.

    Returns:
        ``(N,)`` float64 GPS per pair (mean over the ground truth's points; 0 without points).
    """
    _check("wrong_part", wrong_part)
    _check("placement", placement)
    pair_det = np.asarray(pair_det, dtype=np.int64)
    pair_gt = np.asarray(pair_gt, dtype=np.int64)
    counts = gt.start[pair_gt + 1] - gt.start[pair_gt]
    out = np.zeros(pair_det.size)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    lo = 0
    while lo < pair_det.size:
        # The largest run of pairs whose points fit in one batch (at least one pair).
        hi = max(lo + 1, int(np.searchsorted(bounds, bounds[lo] + _POINTS_PER_BATCH, side="right")) - 1)
        hi = min(hi, pair_det.size)
        out[lo:hi] = _pair_gps_batch(
            surface, gt, dets, pair_det[lo:hi], pair_gt[lo:hi], counts[lo:hi], wrong_part, placement
        )
        lo = hi
    return out


def _pair_gps_batch(
    surface: BodySurface,
    gt: GtPointTable,
    dets: DetectionMaps,
    pair_det: np.ndarray,
    pair_gt: np.ndarray,
    counts: np.ndarray,
    wrong_part: WrongPart,
    placement: Placement,
) -> np.ndarray:
    total = int(counts.sum())
    if total == 0:
        return np.zeros(pair_det.size)
    pair_of_point = np.repeat(np.arange(pair_det.size), counts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    point = gt.start[pair_gt][pair_of_point] + (np.arange(total) - first[pair_of_point])
    d = pair_det[pair_of_point]
    box = dets.boxes[d]
    h, w = dets.height[d], dets.width[d]
    if placement == "official":
        col, row, inside = _official_cells(gt.x[point] - box[:, 0], gt.y[point] - box[:, 1], box, h, w)
    else:
        col = np.floor((gt.x[point] - box[:, 0]) * w / box[:, 2]).astype(np.int64)
        row = np.floor((gt.y[point] - box[:, 1]) * h / box[:, 3]).astype(np.int64)
        inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
    flat = dets.offset[d] + np.where(inside, row * w + col, 0)
    pred = dets.iuv[:, flat] if flat.size else np.zeros((3, 0), np.uint8)
    pred_part = np.where(inside, pred[0].astype(np.int64), 0)
    g = gps_from_vertices(
        surface, gt.vertex[point], gt.part[point], pred_part, pred[1] / 255.0, pred[2] / 255.0, wrong_part
    )
    sums = np.bincount(pair_of_point, weights=g, minlength=pair_det.size)
    return np.divide(sums, counts, out=np.zeros(pair_det.size), where=counts > 0)


def _official_cells(
    dx: np.ndarray, dy: np.ndarray, box: np.ndarray, h: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Map cells of points at offsets ``(dx, dy)`` from their detections' corners, by
    DensePose's indexing: whole pixels by truncation (towards zero, so an offset in
    (-1, 0) is pixel 0), inside ``int(box size)``, then nearest cell of the map."""
    px = dx.astype(np.int64)  # truncation, as numpy's astype(int) in the official code
    py = dy.astype(np.int64)
    bw = box[:, 2].astype(np.int64)
    bh = box[:, 3].astype(np.int64)
    inside = (px >= 0) & (px < bw) & (py >= 0) & (py < bh)
    # A map of another size than the box's whole pixels: nearest cell, as resample_nearest.
    safe_w, safe_h = np.maximum(bw, 1), np.maximum(bh, 1)
    col = np.where(w == bw, px, np.minimum(((px + 0.5) * w / safe_w).astype(np.int64), w - 1))
    row = np.where(h == bh, py, np.minimum(((py + 0.5) * h / safe_h).astype(np.int64), h - 1))
    return col, row, inside
