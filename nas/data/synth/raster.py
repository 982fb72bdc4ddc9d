"""Vectorised z-buffered triangle rasterisation in numpy.

Every triangle's screen bounding box is expanded into candidate pixel centres at
once (no per-pixel Python loop); edge functions keep the covered ones and a stable
sort by (pixel, depth) resolves visibility. Barycentric weights are returned
perspective-correct, so any vertex attribute interpolated with them is the exact
attribute of the 3-D surface point seen at that pixel centre.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rasterize"]


def rasterize(
    xy: np.ndarray, depth: np.ndarray, faces: np.ndarray, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rasterise triangles into a face-index buffer with barycentric weights.

    Args:
        xy: ``(N, 2)`` projected vertex positions in pixels; pixel ``(r, c)`` has its
            centre at ``(c + 0.5, r + 0.5)``.
        depth: ``(N,)`` camera-space depth of each vertex (> 0).
        faces: ``(F, 3)`` vertex indices; cull back faces before calling.
        height: image height in pixels.
        width: image width in pixels.

    Returns:
        ``(face_id, bary)``: ``(H, W)`` int32 index into ``faces`` (-1 where empty) and
        ``(H, W, 3)`` float32 perspective-correct barycentric weights.
    """
    face_id = np.full(height * width, -1, dtype=np.int32)
    bary = np.zeros((height * width, 3), dtype=np.float32)
    if faces.shape[0] == 0:
        return face_id.reshape(height, width), bary.reshape(height, width, 3)
    tri = xy[faces]  # (F, 3, 2)
    x0 = np.ceil(tri[..., 0].min(1) - 0.5).astype(np.int64)
    x1 = np.floor(tri[..., 0].max(1) - 0.5).astype(np.int64)
    y0 = np.ceil(tri[..., 1].min(1) - 0.5).astype(np.int64)
    y1 = np.floor(tri[..., 1].max(1) - 0.5).astype(np.int64)
    np.clip(x0, 0, None, out=x0)
    np.clip(y0, 0, None, out=y0)
    np.minimum(x1, width - 1, out=x1)
    np.minimum(y1, height - 1, out=y1)
    bw = x1 - x0 + 1
    bh = y1 - y0 + 1
    ok = (bw > 0) & (bh > 0)
    fidx = np.flatnonzero(ok)
    bw, bh, x0, y0 = bw[ok], bh[ok], x0[ok], y0[ok]
    counts = bw * bh
    total = int(counts.sum())
    if total == 0:
        return face_id.reshape(height, width), bary.reshape(height, width, 3)
    rep = np.repeat(np.arange(fidx.size), counts)
    starts = np.cumsum(counts) - counts
    local = np.arange(total) - starts[rep]
    bw_r = bw[rep]
    px = x0[rep] + local % bw_r
    py = y0[rep] + local // bw_r
    f = fidx[rep]
    a, b, c = tri[f, 0], tri[f, 1], tri[f, 2]
    cx = px + 0.5
    cy = py + 0.5
    # Edge functions (twice the signed sub-triangle areas) of the pixel centre.
    w0 = (b[:, 0] - cx) * (c[:, 1] - cy) - (b[:, 1] - cy) * (c[:, 0] - cx)
    w1 = (c[:, 0] - cx) * (a[:, 1] - cy) - (c[:, 1] - cy) * (a[:, 0] - cx)
    w2 = (a[:, 0] - cx) * (b[:, 1] - cy) - (a[:, 1] - cy) * (b[:, 0] - cx)
    area = w0 + w1 + w2
    inside = ((w0 >= 0) & (w1 >= 0) & (w2 >= 0) & (area > 0)) | ((w0 <= 0) & (w1 <= 0) & (w2 <= 0) & (area < 0))
    f, px, py = f[inside], px[inside], py[inside]
    area = area[inside]
    w = np.stack([w0[inside], w1[inside], w2[inside]], 1) / area[:, None]
    # Perspective-correct weights: interpolate attribute/z and 1/z linearly in screen space.
    inv_z = 1.0 / depth[faces[f]]
    wp = w * inv_z
    inv_depth = wp.sum(1)
    wp /= inv_depth[:, None]
    pix = py * width + px
    order = np.lexsort((-inv_depth, pix))  # nearest (largest 1/z) first within a pixel
    spix = pix[order]
    first = np.ones(spix.size, dtype=bool)
    first[1:] = spix[1:] != spix[:-1]
    win = order[first]
    face_id[pix[win]] = f[win]
    bary[pix[win]] = wp[win]
    return face_id.reshape(height, width), bary.reshape(height, width, 3)
