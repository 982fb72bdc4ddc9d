"""The synthetic body: a mannequin of 15 rigid segments carrying DensePose's 24 parts.

Each segment is a closed surface of revolution around its own axis: an elliptic
cross-section whose radii taper linearly from one end to the other and close with a
superellipse profile, so ends are rounded and overlap the neighbouring segment like a
jointed mannequin. A segment's surface is one or two charts; a chart is a part with
U running around the axis (over its angular range) and V along it, both in [0, 1].

Axes of the canonical pose (metres): +x is the body's left, +y up, +z forward. The
right-side limb segments are exact mirror images of the left ones with identical U, V,
so a horizontal flip maps a limb point (I, U, V) to (FINE_FLIP[I], U, V); torso and
head are mirror-symmetric themselves and map (I, U, V) to (FINE_FLIP[I], 1 - U, V).

Geodesic distances are shortest paths on a graph over the vertices: a 5x5 stencil of
each segment's grid (chords, so flat regions are within ~3% of the true geodesic),
near-zero-length edges joining duplicated chart-seam vertices, and short bridges
between touching neighbour segments at the joints.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.spatial import cKDTree

from nas.data.parts import FINE_FLIP
from nas.data.surface import BodySurface

__all__ = ["Segment", "BodyTemplate", "body_template", "SEGMENT_NAMES"]

# Length of edges between coincident vertices (seams, poles): Dijkstra needs > 0.
_EPS_EDGE = 1e-6  # m
# Neighbour segments are bridged by vertex pairs closer than this.
_BRIDGE_DIST = 0.02  # m


@dataclass(frozen=True)
class _SegmentDef:
    name: str
    parent: str | None
    pivot: tuple[float, float, float]  # joint the segment rotates about (canonical, m)
    p0: tuple[float, float, float]  # capsule axis start
    p1: tuple[float, float, float]  # capsule axis end
    radii0: tuple[float, float]  # (a, b) half-axes at p0, m
    radii1: tuple[float, float]  # (a, b) half-axes at p1, m
    axis_a: tuple[float, float, float]  # direction of the a half-axis (orthogonalised)
    axis_b: tuple[float, float, float]  # direction of the b half-axis (orthogonalised)
    rows: int  # grid rows along the axis (V)
    cols: int  # grid columns around the axis (even)
    charts: tuple[tuple[int, float], ...]  # (part, start angle / turn); each spans its share
    mirror_of: str | None = None  # right-side segments copy their left twin
    roundness: float = 3.0  # superellipse exponent of the end profile (2 = ellipsoid)


# Left-side and central segments of the canonical pose (arms hanging, slightly
# abducted). Charts: (part, start angle in turns); two charts split the turn in halves,
# one chart spans the full turn. Angle 0 points along axis_a, 1/4 turn along axis_b.
_L = [
    _SegmentDef("torso", None, (0, 0.95, 0), (0, 0.80, 0), (0, 1.53, 0), (0.16, 0.105), (0.185, 0.10),
                (1, 0, 0), (0, 0, 1), 25, 40, ((2, 0.0), (1, 0.5)), roundness=4.0),
    _SegmentDef("head", "torso", (0, 1.50, 0), (0, 1.45, 0.0), (0, 1.76, 0.01), (0.08, 0.095), (0.085, 0.10),
                (1, 0, 0), (0, 0, 1), 14, 24, ((24, -0.25), (23, 0.25)), roundness=2.2),
    _SegmentDef("upper_arm_l", "torso", (0.175, 1.42, 0), (0.18, 1.47, 0), (0.215, 1.12, 0), (0.05, 0.05),
                (0.04, 0.04), (1, 0, 0), (0, 0, 1), 14, 16, ((17, -0.25), (15, 0.25))),
    _SegmentDef("lower_arm_l", "upper_arm_l", (0.212, 1.15, 0), (0.212, 1.17, 0), (0.235, 0.89, 0), (0.04, 0.04),
                (0.03, 0.03), (1, 0, 0), (0, 0, 1), 12, 14, ((21, -0.25), (19, 0.25))),
    _SegmentDef("hand_l", "lower_arm_l", (0.235, 0.91, 0), (0.236, 0.935, 0), (0.245, 0.74, 0.0), (0.045, 0.02),
                (0.04, 0.018), (0, 0, 1), (1, 0, 0), 9, 12, ((4, 0.0),)),
    _SegmentDef("upper_leg_l", "torso", (0.09, 0.90, 0), (0.09, 0.96, 0), (0.095, 0.49, 0), (0.085, 0.085),
                (0.055, 0.055), (1, 0, 0), (0, 0, 1), 16, 20, ((10, 0.0), (8, 0.5))),
    _SegmentDef("lower_leg_l", "upper_leg_l", (0.095, 0.52, 0), (0.095, 0.545, 0), (0.10, 0.07, 0), (0.055, 0.055),
                (0.038, 0.038), (1, 0, 0), (0, 0, 1), 16, 16, ((14, 0.0), (12, 0.5))),
    _SegmentDef("foot_l", "lower_leg_l", (0.10, 0.09, 0), (0.10, 0.05, -0.07), (0.105, 0.04, 0.17), (0.04, 0.045),
                (0.045, 0.03), (1, 0, 0), (0, 1, 0), 9, 14, ((5, 0.0),), roundness=2.5),
]


def _mirror_def(d: _SegmentDef) -> _SegmentDef:
    def m(p: tuple[float, float, float]) -> tuple[float, float, float]:
        return (-p[0], p[1], p[2])

    parent = d.parent if d.parent is None or not d.parent.endswith("_l") else d.parent[:-2] + "_r"
    return _SegmentDef(
        d.name[:-2] + "_r", parent, m(d.pivot), m(d.p0), m(d.p1), d.radii0, d.radii1, m(d.axis_a), m(d.axis_b),
        d.rows, d.cols, tuple((int(FINE_FLIP[p]), s) for p, s in d.charts), mirror_of=d.name, roundness=d.roundness,
    )


_DEFS: list[_SegmentDef] = _L + [_mirror_def(d) for d in _L if d.name.endswith("_l")]
SEGMENT_NAMES: tuple[str, ...] = tuple(d.name for d in _DEFS)


@dataclass(frozen=True)
class Segment:
    """A rigid segment of the template: its joint, local frame and vertex range."""

    name: str
    index: int
    parent: int  # -1 for the root
    pivot: np.ndarray  # (3,) canonical joint position, m
    frame: np.ndarray  # (3, 3) columns: a-axis, long axis, b-axis (orthonormal)
    vertices: slice  # rows of the template's vertex arrays


@dataclass(frozen=True)
class BodyTemplate:
    """The canonical body mesh with everything the renderer and the surface need.

    Attributes:
        xyz: ``(N, 3)`` canonical positions (m).
        normal: ``(N, 3)`` outward unit normals.
        part: ``(N,)`` fine part 1..24.
        uv: ``(N, 2)`` chart coordinates.
        segment: ``(N,)`` segment index of each vertex.
        faces: ``(F, 3)`` triangles, counter-clockwise seen from outside.
        mirror: ``(N,)`` vertex at the mirrored position (with mirrored part).
        edges: ``(E, 2)`` geodesic graph edges; ``edge_length``: their lengths (m).
        segments: the 15 segments, parents before children.
    """

    xyz: np.ndarray
    normal: np.ndarray
    part: np.ndarray
    uv: np.ndarray
    segment: np.ndarray
    faces: np.ndarray
    mirror: np.ndarray
    edges: np.ndarray
    edge_length: np.ndarray
    segments: tuple[Segment, ...]

    def surface(self) -> BodySurface:
        """The body surface of this template (parts, charts, symmetry, geodesic graph)."""
        return BodySurface(
            self.part, self.uv, self.xyz, self.mirror, edges=self.edges, edge_length=self.edge_length,
            name="synthetic body",
        )


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _frame(d: _SegmentDef) -> np.ndarray:
    t = _unit(np.subtract(d.p1, d.p0).astype(np.float64))
    a = np.asarray(d.axis_a, dtype=np.float64)
    a = _unit(a - t * (a @ t))
    b = np.asarray(d.axis_b, dtype=np.float64)
    b = _unit(b - t * (b @ t) - a * (b @ a))
    return np.stack([a, t, b], axis=1)


def _grid_positions(d: _SegmentDef, frame: np.ndarray) -> np.ndarray:
    """``(rows, cols, 3)`` positions of the segment's periodic geometric grid."""
    s = np.linspace(0.0, 1.0, d.rows)
    ang = 2 * np.pi * (np.arange(d.cols) / d.cols + d.charts[0][1])
    # Superellipse end profile: ~constant over the middle, closing to 0 at both ends.
    prof = np.clip(1.0 - np.abs(2 * s - 1) ** d.roundness, 0.0, None) ** (1.0 / d.roundness)
    ra = (d.radii0[0] + (d.radii1[0] - d.radii0[0]) * s) * prof
    rb = (d.radii0[1] + (d.radii1[1] - d.radii0[1]) * s) * prof
    p0 = np.asarray(d.p0, dtype=np.float64)
    length = float(np.linalg.norm(np.subtract(d.p1, d.p0)))
    a, t, b = frame[:, 0], frame[:, 1], frame[:, 2]
    return (
        p0
        + (s * length)[:, None, None] * t
        + (ra[:, None] * np.cos(ang)[None, :])[..., None] * a
        + (rb[:, None] * np.sin(ang)[None, :])[..., None] * b
    )


def _build_segment(d: _SegmentDef, base: int) -> dict[str, np.ndarray]:
    """Vertices (per chart, seams duplicated), faces and graph edges of one segment."""
    frame = _frame(d)
    grid = _grid_positions(d, frame)  # (R, C, 3)
    rows, cols = d.rows, d.cols
    nch = len(d.charts)
    span = cols // nch  # columns per chart
    xyz, part, uv, node = [], [], [], []
    faces = []
    vid = base
    for ci, (p, _) in enumerate(d.charts):
        c_idx = ci * span + np.arange(span + 1)  # inclusive: the seam column is duplicated
        ids = vid + np.arange(rows * (span + 1)).reshape(rows, span + 1)
        rr, cc = np.meshgrid(np.arange(rows), c_idx, indexing="ij")
        xyz.append(grid[rr, cc % cols].reshape(-1, 3))
        u = (c_idx - ci * span) / span
        uv.append(np.stack(np.broadcast_arrays(u[None, :], np.linspace(0, 1, rows)[:, None]), axis=-1).reshape(-1, 2))
        part.append(np.full(rows * (span + 1), p))
        node.append((rr * cols + cc % cols).reshape(-1))
        q00, q01, q10, q11 = ids[:-1, :-1], ids[:-1, 1:], ids[1:, :-1], ids[1:, 1:]
        faces.append(np.stack([q00, q10, q11], -1).reshape(-1, 3))
        faces.append(np.stack([q00, q11, q01], -1).reshape(-1, 3))
        vid += rows * (span + 1)
    out = {
        "xyz": np.concatenate(xyz),
        "part": np.concatenate(part),
        "uv": np.concatenate(uv),
        "node": np.concatenate(node),
        "faces": np.concatenate(faces),
    }
    # Geodesic graph over the geometric grid nodes: 5x5 stencil, periodic in columns.
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    e_a, e_b = [], []
    for dr in range(0, 3):
        for dc in range(-2, 3):
            if dr == 0 and dc <= 0:
                continue  # each undirected pair once
            ok = r + dr < rows
            n0 = (r * cols + c)[ok]
            n1 = ((r + dr) * cols + (c + dc) % cols)[ok]
            e_a.append(n0)
            e_b.append(n1)
    n0 = np.concatenate(e_a)
    n1 = np.concatenate(e_b)
    flat = grid.reshape(-1, 3)
    # Map each grid node to one representative vertex; seam duplicates get tiny edges.
    rep = np.full(rows * cols, -1, dtype=np.int64)
    rep[out["node"][::-1]] = base + np.arange(out["node"].size)[::-1]
    dup = base + np.arange(out["node"].size)
    dup_rep = rep[out["node"]]
    keep = dup != dup_rep
    length = np.maximum(np.linalg.norm(flat[n0] - flat[n1], axis=1), _EPS_EDGE)
    out["edges"] = np.concatenate([np.stack([rep[n0], rep[n1]], 1), np.stack([dup[keep], dup_rep[keep]], 1)])
    out["edge_length"] = np.concatenate([length, np.full(int(keep.sum()), _EPS_EDGE)])
    out["frame"] = frame
    return out


@lru_cache(maxsize=1)
def body_template() -> BodyTemplate:
    """Build (once per process) the canonical synthetic body."""
    built: list[dict[str, np.ndarray]] = []
    segments: list[Segment] = []
    index = {d.name: i for i, d in enumerate(_DEFS)}
    base = 0
    for i, d in enumerate(_DEFS):
        b = _build_segment(d, base)
        n = b["xyz"].shape[0]
        segments.append(
            Segment(d.name, i, -1 if d.parent is None else index[d.parent], np.asarray(d.pivot, float), b["frame"],
                    slice(base, base + n))
        )
        b["segment"] = np.full(n, i)
        built.append(b)
        base += n
    xyz = np.concatenate([b["xyz"] for b in built])
    part = np.concatenate([b["part"] for b in built]).astype(np.int64)
    uv = np.concatenate([b["uv"] for b in built])
    seg = np.concatenate([b["segment"] for b in built]).astype(np.int64)
    faces = np.concatenate([b["faces"] for b in built])
    edges = [np.concatenate([b["edges"] for b in built])]
    lengths = [np.concatenate([b["edge_length"] for b in built])]

    # Drop degenerate triangles (at the closed poles) and orient all faces outward.
    fa, fb, fc = xyz[faces[:, 0]], xyz[faces[:, 1]], xyz[faces[:, 2]]
    cross = np.cross(fb - fa, fc - fa)
    area2 = np.linalg.norm(cross, axis=1)
    faces, cross, fa = faces[area2 > 1e-10], cross[area2 > 1e-10], fa[area2 > 1e-10]
    centroid = (xyz[faces[:, 0]] + xyz[faces[:, 1]] + xyz[faces[:, 2]]) / 3
    fseg = seg[faces[:, 0]]
    out_dir = np.empty_like(centroid)
    for s in segments:
        d = _DEFS[s.index]
        p0 = np.asarray(d.p0, float)
        t = s.frame[:, 1]
        sel = fseg == s.index
        rel = centroid[sel] - p0
        out_dir[sel] = rel - np.outer(rel @ t, t)  # away from the segment axis
    flip = np.einsum("ij,ij->i", cross, out_dir) < 0
    faces[flip] = faces[flip][:, [0, 2, 1]]
    cross[flip] *= -1

    normal = np.zeros_like(xyz)
    for k in range(3):
        np.add.at(normal, faces[:, k], cross)
    # Pole vertices have only degenerate faces: give them the axis direction.
    for s in segments:
        sl = s.vertices
        bad = np.linalg.norm(normal[sl], axis=1) < 1e-12
        if bad.any():
            v = uv[sl][bad, 1]
            nb = np.where(v[:, None] > 0.5, s.frame[:, 1], -s.frame[:, 1])
            idx = np.arange(sl.start, sl.stop)[bad]
            normal[idx] = nb
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)

    # Bridges between each segment and its parent where their surfaces meet.
    for s in segments:
        if s.parent < 0:
            continue
        ps = segments[s.parent]
        tree = cKDTree(xyz[ps.vertices])
        dist, k = tree.query(xyz[s.vertices], distance_upper_bound=_BRIDGE_DIST)
        ok = np.isfinite(dist)
        edges.append(np.stack([np.arange(s.vertices.start, s.vertices.stop)[ok], ps.vertices.start + k[ok]], 1))
        lengths.append(np.maximum(dist[ok], _EPS_EDGE))

    # Mirror map: right segments copy their left twin vertex by vertex; self-symmetric
    # segments (torso, head) map angle theta -> pi - theta within their own grid.
    mirror = np.arange(xyz.shape[0])
    for s in segments:
        d = _DEFS[s.index]
        if d.mirror_of is not None:
            twin = segments[index[d.mirror_of]]
            mirror[s.vertices] = np.arange(twin.vertices.start, twin.vertices.stop)
            mirror[twin.vertices] = np.arange(s.vertices.start, s.vertices.stop)
        elif not d.name.endswith("_l"):
            sl = s.vertices
            mx = xyz[sl] * np.array([-1.0, 1.0, 1.0])
            # Coincident vertices (poles, seams) are told apart by chart coordinates: the
            # angle theta -> pi - theta reverses U in both the torso and the head charts.
            u_m = 1.0 - uv[sl, 0]
            tree = cKDTree(np.c_[xyz[sl], uv[sl] * 10.0, part[sl] * 100.0])
            q = np.c_[mx, u_m * 10.0, uv[sl, 1] * 10.0, FINE_FLIP[part[sl]] * 100.0]
            dist, k = tree.query(q)
            if dist.max() > 1e-6:
                raise RuntimeError(f"synthetic body: segment {d.name} is not mirror-symmetric")
            mirror[sl] = sl.start + k

    e = np.concatenate(edges)
    w = np.concatenate(lengths)
    e = np.sort(e, axis=1)
    keep = e[:, 0] != e[:, 1]
    e, w = e[keep], w[keep]
    e, uniq = np.unique(e, axis=0, return_index=True)
    w = w[uniq]
    return BodyTemplate(
        xyz=xyz, normal=normal, part=part, uv=uv, segment=seg, faces=faces.astype(np.int64), mirror=mirror,
        edges=e, edge_length=w, segments=tuple(segments),
    )
