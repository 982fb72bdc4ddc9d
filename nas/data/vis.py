"""Drawing DensePose: part-index map and U, V iso-contours over the image.

:func:`draw_densepose` takes one (I, U, V) map per box, in that box's frame and at any
resolution, so the same function draws ground truth (dense, or densified from the
sparse annotation by :func:`annotation_iuv`) and a model's predictions.
"""

from __future__ import annotations

import io
import os
from typing import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from scipy.interpolate import griddata
from scipy.spatial import cKDTree

from nas.io import atomic_write_bytes
from nas.data.parts import FINE_PART_NAMES, FINE_TO_COARSE, N_FINE_PARTS

__all__ = ["PART_COLORS", "IUV", "annotation_iuv", "draw_densepose", "save_figure"]

IUV = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(I, U, V)``: ``(h, w)`` fine part 0..24 (0 = background) and U, V in [0, 1]."""


def _part_colors() -> np.ndarray:
    # Hues spread over the circle, alternating lightness so neighbouring ids differ.
    import colorsys

    cols = [(0.0, 0.0, 0.0)]
    for k in range(N_FINE_PARTS):
        h = (k * 7 % N_FINE_PARTS) / N_FINE_PARTS
        cols.append(colorsys.hsv_to_rgb(h, 0.85 if k % 2 else 0.6, 1.0 if k % 2 else 0.85))
    return (np.array(cols) * 255).round().astype(np.uint8)


PART_COLORS: np.ndarray = _part_colors()
"""``(25, 3)`` uint8 colour of each fine part (row 0: background)."""


def annotation_iuv(
    x: np.ndarray, y: np.ndarray, i: np.ndarray, u: np.ndarray, v: np.ndarray, coarse: np.ndarray
) -> IUV:
    """Dense (I, U, V) in the box frame estimated from sparse dp points and coarse masks.

    Inside the coarse mask each pixel takes the fine part of the nearest point of the
    same coarse part; U and V are interpolated linearly between the points of each
    fine part (nearest point outside their convex hull). For display only.

    Args:
        x, y: point positions in the box frame [0, 256].
        i, u, v: the points' fine part, U, V.
        coarse: ``(S, S)`` coarse-part labels 0..14 over the box.

    Returns:
        ``(I, U, V)`` maps of shape ``(S, S)``.
    """
    s = coarse.shape[0]
    scale = s / 256.0
    px = np.asarray(x, dtype=np.float64) * scale
    py = np.asarray(y, dtype=np.float64) * scale
    i = np.asarray(i, dtype=np.int64)
    out_i = np.zeros(coarse.shape, dtype=np.uint8)
    out_u = np.zeros(coarse.shape, dtype=np.float32)
    out_v = np.zeros(coarse.shape, dtype=np.float32)
    pc = FINE_TO_COARSE[i]
    for c in np.unique(coarse[coarse > 0]):
        rr, cc = np.nonzero(coarse == c)
        sel = pc == c
        if not sel.any():
            continue  # a part without points: nothing to say about its fine part
        _, k = cKDTree(np.c_[px[sel], py[sel]]).query(np.c_[cc + 0.5, rr + 0.5])
        out_i[rr, cc] = i[sel][k]
    for p in np.unique(out_i[out_i > 0]):
        rr, cc = np.nonzero(out_i == p)
        sel = i == p
        pts = np.c_[px[sel], py[sel]]
        q = np.c_[cc + 0.5, rr + 0.5]
        for src, dst in ((u, out_u), (v, out_v)):
            val = np.asarray(src, dtype=np.float64)[sel]
            est = griddata(pts, val, q, method="linear") if sel.sum() >= 4 else np.full(len(q), np.nan)
            miss = np.isnan(est)
            if miss.any():
                est[miss] = griddata(pts, val, q[miss], method="nearest")
            dst[rr, cc] = est
    return out_i, out_u, out_v


def _resample(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Nearest-neighbour resampling of a map to ``(h, w)`` (cell centres)."""
    rows = np.minimum((np.arange(h) + 0.5) * a.shape[0] / h, a.shape[0] - 1).astype(np.int64)
    cols = np.minimum((np.arange(w) + 0.5) * a.shape[1] / w, a.shape[1] - 1).astype(np.int64)
    return a[np.ix_(rows, cols)]


def draw_densepose(
    image: np.ndarray,
    boxes: np.ndarray | Sequence[Sequence[float]],
    iuvs: Sequence[IUV | None],
    *,
    points: Sequence[tuple[np.ndarray, np.ndarray] | None] | None = None,
    crowd: Sequence[bool] | None = None,
    alpha: float = 0.55,
    levels: int = 8,
    scale: float = 3.0,
    title: str | None = None,
    legend: bool = True,
) -> Figure:
    """Draw the image with each box's part map and U, V iso-contours.

    Args:
        image: ``(H, W, 3)`` uint8 RGB.
        boxes: ``(N, 4)`` boxes ``x0, y0, x1, y1`` in image pixels.
        iuvs: per box, an (I, U, V) map over the box (any resolution) or None for a
            box drawn without DensePose (e.g. a small person).
        points: per box, optional ``(xy (P, 2) in image pixels, I (P,))`` sparse points
            drawn as dots coloured by part.
        crowd: per box, whether it is a crowd/ignore region (drawn dashed).
        alpha: opacity of the part colours.
        levels: number of iso-lines per coordinate (at k / (levels + 1)).
        scale: output pixels per image pixel (contours need more than one pixel).
        title: optional caption.
        legend: add a legend of the parts present.

    Returns:
        A matplotlib figure (Agg); save it with :func:`save_figure`.
    """
    img = np.asarray(image, dtype=np.uint8)
    h, w = img.shape[:2]
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    comp = img.astype(np.float32)
    contour_fields: list[tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int, int, int]]] = []
    present: set[int] = set()
    for b, iuv in zip(boxes, iuvs):
        if iuv is None:
            continue
        x0, y0 = int(np.floor(max(b[0], 0))), int(np.floor(max(b[1], 0)))
        x1, y1 = int(np.ceil(min(b[2], w))), int(np.ceil(min(b[3], h)))
        if x1 <= x0 or y1 <= y0:
            continue
        bw, bh = b[2] - b[0], b[3] - b[1]
        # Map the full box to pixels, then crop what lies inside the image.
        full_w, full_h = max(1, int(round(bw))), max(1, int(round(bh)))
        part = _resample(np.asarray(iuv[0]), full_h, full_w)
        uu = _resample(np.asarray(iuv[1], dtype=np.float32), full_h, full_w)
        vv = _resample(np.asarray(iuv[2], dtype=np.float32), full_h, full_w)
        ox, oy = int(round(b[0])), int(round(b[1]))
        sx0, sy0 = max(0, -ox), max(0, -oy)
        sx1, sy1 = min(full_w, w - ox), min(full_h, h - oy)
        if sx1 <= sx0 or sy1 <= sy0:
            continue
        part, uu, vv = (a[sy0:sy1, sx0:sx1] for a in (part, uu, vv))
        region = (oy + sy0, oy + sy1, ox + sx0, ox + sx1)
        sub = comp[region[0]:region[1], region[2]:region[3]]
        on = part > 0
        sub[on] = (1 - alpha) * sub[on] + alpha * PART_COLORS[part[on]]
        present.update(int(p) for p in np.unique(part[on]))
        contour_fields.append((part, uu, vv, region))

    fig = Figure(figsize=(w * scale / 100 + (1.9 if legend else 0), h * scale / 100), dpi=100)
    FigureCanvasAgg(fig)
    frac = (w * scale / 100) / fig.get_figwidth()
    ax = fig.add_axes((0, 0, frac, 1))
    ax.imshow(comp.clip(0, 255).astype(np.uint8), extent=(0, w, h, 0), interpolation="nearest")
    lv = np.arange(1, levels + 1) / (levels + 1)
    for part, uu, vv, (r0, r1, c0, c1) in contour_fields:
        xs = c0 + np.arange(c1 - c0) + 0.5
        ys = r0 + np.arange(r1 - r0) + 0.5
        for p in np.unique(part[part > 0]):
            m = part == p
            if m.sum() < 4:
                continue
            for field_, cmap, style in ((uu, "spring", "solid"), (vv, "winter", "solid")):
                z = np.where(m, field_, np.nan)
                try:
                    ax.contour(xs, ys, z, levels=lv, cmap=cmap, vmin=0, vmax=1, linewidths=0.9, linestyles=style)
                except ValueError:
                    continue  # too few valid cells for a contour in this part
    for k, b in enumerate(boxes):
        dashed = bool(crowd[k]) if crowd is not None else False
        ax.add_patch(Rectangle((b[0], b[1]), b[2] - b[0], b[3] - b[1], fill=False, lw=1.2,
                               ec="white" if not dashed else "yellow", ls="--" if dashed else "-"))
    if points is not None:
        for pts in points:
            if pts is None or len(pts[0]) == 0:
                continue
            xy, ii = pts
            ax.scatter(xy[:, 0], xy[:, 1], s=9, c=PART_COLORS[np.asarray(ii)] / 255.0, edgecolors="black",
                       linewidths=0.4, zorder=3)
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.axis("off")
    if title:
        ax.text(3, 3, title, color="white", fontsize=8, va="top", ha="left",
                bbox={"facecolor": "black", "alpha": 0.6, "pad": 2, "lw": 0})
    if legend:
        handles = [Patch(color=PART_COLORS[p] / 255.0, label=f"{p} {FINE_PART_NAMES[p]}") for p in sorted(present)]
        handles += [
            Patch(color="#ff33cc", label="U iso-lines"),
            Patch(color="#0080ff", label="V iso-lines"),
        ]
        fig.legend(handles=handles, loc="center left", bbox_to_anchor=(frac, 0.5), fontsize=6, frameon=False)
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> None:
    """Save a figure as PNG atomically."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    atomic_write_bytes(path, buf.getvalue())
