"""The body surface: the mesh that DensePose's (I, U, V) coordinates live on.

A :class:`BodySurface` holds, per vertex, the fine part ``I`` (1..24, DensePose order),
the chart coordinates ``U, V`` in [0, 1], the 3-D position in a canonical pose
(metres) and optionally a left/right mirror map. It answers the two questions the
evaluator and the flip augmentation ask:

* ``nearest_vertex(I, U, V)``: the vertex of part ``I`` closest in (U, V) to a point,
  the way DensePose's GPS evaluation maps ground-truth and predicted points;
* ``geodesic(i, j)``: geodesic distance between vertices (metres), vectorised.

Two sources are supported: the synthetic body's ``surface.npz`` (:meth:`BodySurface.load`;
geodesics are shortest paths on its mesh graph, computed per source vertex on demand
and cached) and the official DensePose evaluation files (:meth:`BodySurface.from_densepose_files`;
geodesics read from the precomputed ``Pdist_matrix.pkl``, flips from
``UV_symmetry_transforms.mat`` when it is there).
"""

from __future__ import annotations

import os
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from nas.io import atomic_save_npz
from nas.data.parts import FINE_FLIP, N_FINE_PARTS
from nas.data.safe_pickle import load_numpy_pickle
from nas.errors import DataError

__all__ = ["BodySurface", "SURFACE_FORMAT", "DENSEPOSE_EVAL_FILES", "SYMMETRY_FILE", "UV_TABLE_SIZE"]

SURFACE_FORMAT = "nas-body-surface-v1"
"""Value of the ``format`` entry of a ``surface.npz`` written by :meth:`BodySurface.save`."""

DENSEPOSE_EVAL_FILES = ("SMPL_subdiv.mat", "SMPL_SUBDIV_TRANSFORM.mat", "Pdist_matrix.pkl")
"""The official DensePose evaluation files read by :meth:`BodySurface.from_densepose_files`."""

SYMMETRY_FILE = "UV_symmetry_transforms.mat"
"""DensePose's optional flip tables beside the evaluation files (``U_transforms``, ``V_transforms``)."""

UV_TABLE_SIZE = 256
"""Side of each flip table: cell ``[floor(V * 255), floor(U * 255)]`` holds the mirrored U (or V)."""

# Geodesic rows kept in memory for the graph backend (each row: 4 bytes per vertex).
_ROW_CACHE_SIZE = 4096
# An affine per-part U/V mirror map is used when it reproduces the vertex map this well.
_AFFINE_TOL = 1e-5


class BodySurface:
    """Per-vertex part, chart coordinates, canonical positions, symmetry and geodesics.

    Args:
        part: ``(N,)`` fine part of each vertex, 1..24.
        uv: ``(N, 2)`` chart coordinates ``(U, V)`` in [0, 1].
        xyz: ``(N, 3)`` canonical-pose positions in metres, or None when unknown.
        mirror: ``(N,)`` index of the vertex at the mirrored (left <-> right) position,
            or None when the surface has no symmetry map (then flips are disabled).
        edges: ``(E, 2)`` vertex pairs of the geodesic graph (graph backend).
        edge_length: ``(E,)`` edge lengths in metres (graph backend).
        pdist: condensed all-pairs geodesic distances over ``pdist_index`` targets
            (DensePose's ``Pdist_matrix`` layout; precomputed backend).
        pdist_index: ``(N,)`` 0-based row of each vertex in ``pdist``.
        uv_symmetry: ``(24, 2, 256, 256)`` flip tables (DensePose's
            ``UV_symmetry_transforms.mat``): ``uv_symmetry[I - 1, 0]`` is the U and
            ``[I - 1, 1]`` the V on part ``FINE_FLIP[I]`` of the point of part ``I`` in cell
            ``[floor(V * 255), floor(U * 255)]``; used by :meth:`flip_iuv` instead of ``mirror``.
        name: where the surface came from, used in messages.
    """

    def __init__(
        self,
        part: np.ndarray,
        uv: np.ndarray,
        xyz: np.ndarray | None = None,
        mirror: np.ndarray | None = None,
        *,
        edges: np.ndarray | None = None,
        edge_length: np.ndarray | None = None,
        pdist: np.ndarray | None = None,
        pdist_index: np.ndarray | None = None,
        uv_symmetry: np.ndarray | None = None,
        name: str = "body surface",
    ) -> None:
        self.name = name
        self.part = np.asarray(part, dtype=np.int64).reshape(-1)
        n = self.part.size
        self.uv = np.asarray(uv, dtype=np.float64).reshape(n, 2)
        self.xyz = None if xyz is None else np.asarray(xyz, dtype=np.float64).reshape(n, 3)
        self.mirror = None if mirror is None else np.asarray(mirror, dtype=np.int64).reshape(n)
        self.uv_symmetry = None if uv_symmetry is None else np.asarray(uv_symmetry, dtype=np.float64)
        self._check()
        self._graph: csr_matrix | None = None
        if edges is not None:
            e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
            w = np.asarray(edge_length, dtype=np.float64).reshape(-1)
            if w.size != e.shape[0] or (e.size and (e.min() < 0 or e.max() >= n)) or (w.size and w.min() <= 0):
                raise DataError(f"{name}: geodesic graph edges are inconsistent (bad index, count or length <= 0)")
            g = coo_matrix((np.r_[w, w], (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])), shape=(n, n))
            self._graph = g.tocsr()
        self._pdist = None if pdist is None else np.asarray(pdist).reshape(-1)
        self._pdist_index = None if pdist_index is None else np.asarray(pdist_index, dtype=np.int64).reshape(n)
        self._pdist_n = 0  # number of geodesic targets of the precomputed backend
        if self._pdist is not None:
            m = self._pdist.size
            k = int(round((1 + np.sqrt(1 + 8 * m)) / 2))  # m = k (k - 1) / 2 targets
            if k * (k - 1) // 2 != m or self._pdist_index is None:
                raise DataError(f"{name}: geodesic matrix has {m} entries, not k*(k-1)/2 for any k")
            if self._pdist_index.min() < 0 or self._pdist_index.max() >= k:
                raise DataError(f"{name}: vertex->geodesic index points outside the {k} geodesic targets")
            self._pdist_n = k
        self._rows: OrderedDict[int, np.ndarray] = OrderedDict()
        self._trees: dict[int, tuple[cKDTree, np.ndarray]] = {}
        self._flip_maps: dict[int, tuple[int, np.ndarray | None]] = {}

    # ------------------------------------------------------------------ basics
    def _check(self) -> None:
        n = self.part.size
        if n == 0:
            raise DataError(f"{self.name}: the surface has no vertices")
        if self.part.min() < 1 or self.part.max() > N_FINE_PARTS:
            raise DataError(f"{self.name}: vertex parts must be in 1..{N_FINE_PARTS}")
        if not np.isfinite(self.uv).all() or self.uv.min() < 0 or self.uv.max() > 1:
            raise DataError(f"{self.name}: vertex U, V must be finite and in [0, 1]")
        if self.mirror is not None:
            if self.mirror.min() < 0 or self.mirror.max() >= n:
                raise DataError(f"{self.name}: mirror map points outside the {n} vertices")
            if not np.array_equal(self.mirror[self.mirror], np.arange(n)):
                raise DataError(f"{self.name}: mirror map is not an involution (mirror[mirror[i]] != i)")
        t = self.uv_symmetry
        if t is not None:
            shape = (N_FINE_PARTS, 2, UV_TABLE_SIZE, UV_TABLE_SIZE)
            if t.shape != shape:
                raise DataError(f"{self.name}: U/V flip tables have shape {t.shape}, expected {shape}")
            if not np.isfinite(t).all():
                raise DataError(f"{self.name}: U/V flip tables hold NaN or infinity")

    @property
    def num_vertices(self) -> int:
        """Number of vertices."""
        return int(self.part.size)

    @property
    def has_symmetry(self) -> bool:
        """Whether points can be flipped: a left/right mirror map or U/V flip tables are known."""
        return self.mirror is not None or self.uv_symmetry is not None

    @property
    def part_swap(self) -> np.ndarray:
        """``(25,)`` fine part seen at the same place after a horizontal flip (0 -> 0)."""
        return FINE_FLIP.copy()

    @property
    def has_geodesics(self) -> bool:
        """Whether :meth:`geodesic` can answer."""
        return self._graph is not None or self._pdist is not None

    def __repr__(self) -> str:
        return (
            f"BodySurface({self.name!r}, vertices={self.num_vertices}, "
            f"symmetry={self.has_symmetry}, geodesics={self.has_geodesics})"
        )

    # --------------------------------------------------------- nearest vertex
    def _part_tree(self, p: int) -> tuple[cKDTree, np.ndarray] | None:
        if p not in self._trees:
            idx = np.flatnonzero(self.part == p)
            if idx.size == 0:
                return None
            self._trees[p] = (cKDTree(self.uv[idx]), idx)
        return self._trees[p]

    def nearest_vertex(self, part: Any, u: Any, v: Any) -> np.ndarray:
        """Vertex of the given part nearest in (U, V) to each point.

        Args:
            part: fine part(s) 1..24 (array-like, broadcast with ``u`` and ``v``).
            u: U coordinate(s) in [0, 1].
            v: V coordinate(s) in [0, 1].

        Returns:
            int64 vertex indices, shape of the broadcast inputs; -1 where the part is
            0 (background) or has no vertex.
        """
        p, uu, vv = np.broadcast_arrays(np.asarray(part), np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64))
        out = np.full(p.shape, -1, dtype=np.int64)
        pf = p.reshape(-1).astype(np.int64)
        q = np.stack([uu.reshape(-1), vv.reshape(-1)], axis=1)
        flat = out.reshape(-1)
        for pid in np.unique(pf):
            tree = self._part_tree(int(pid)) if 1 <= pid <= N_FINE_PARTS else None
            if tree is None:
                continue
            sel = pf == pid
            _, k = tree[0].query(q[sel])
            flat[sel] = tree[1][k]
        return flat.reshape(p.shape)

    # -------------------------------------------------------------- geodesics
    def _graph_rows(self, sources: np.ndarray) -> np.ndarray:
        assert self._graph is not None
        missing = [int(s) for s in sources if int(s) not in self._rows]
        if missing:
            rows = dijkstra(self._graph, directed=False, indices=missing).astype(np.float32)
            for s, row in zip(missing, np.atleast_2d(rows)):
                self._rows[s] = row
        out = np.empty((sources.size, self.num_vertices), dtype=np.float32)
        for r, s in enumerate(sources):
            out[r] = self._rows[int(s)]
            self._rows.move_to_end(int(s))
        while len(self._rows) > _ROW_CACHE_SIZE:
            self._rows.popitem(last=False)
        return out

    def geodesic(self, i: Any, j: Any) -> np.ndarray:
        """Geodesic distance (metres) between vertices ``i`` and ``j``, element-wise.

        Args:
            i: vertex indices (array-like), broadcast with ``j``; negative means "no vertex".
            j: vertex indices.

        Returns:
            float64 distances in the broadcast shape; ``inf`` where either index is
            negative or the vertices are not connected.

        Raises:
            DataError: the surface carries no geodesic data, or an index is out of range.
        """
        a, b = np.broadcast_arrays(np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64))
        shape = a.shape
        a = a.reshape(-1)
        b = b.reshape(-1)
        if (a.size and max(a.max(), b.max()) >= self.num_vertices):
            raise DataError(f"{self.name}: vertex index out of range (it has {self.num_vertices} vertices)")
        out = np.full(a.shape, np.inf, dtype=np.float64)
        ok = (a >= 0) & (b >= 0)
        a, b = a[ok], b[ok]
        if self._pdist is not None:
            assert self._pdist_index is not None
            out[ok] = self._pdist_lookup(self._pdist_index[a], self._pdist_index[b])
        elif self._graph is not None:
            if np.unique(a).size > np.unique(b).size:
                a, b = b, a  # distances are symmetric; run Dijkstra from the smaller side
            src, inv = np.unique(a, return_inverse=True)
            rows = self._graph_rows(src) if src.size else np.zeros((0, self.num_vertices), np.float32)
            out[ok] = rows[inv, b]
        else:
            raise DataError(f"{self.name}: this surface has no geodesic distances (no mesh graph or Pdist matrix)")
        return out.reshape(shape)

    def _pdist_lookup(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Index DensePose's condensed ``Pdist_matrix``.

        Its layout is reversed relative to scipy's ``squareform``: the distance of
        targets ``lo < hi`` sits at ``M - 1 - c(n-1-hi, n-1-lo)`` where ``c`` is the
        scipy condensed index and ``M = n (n-1) / 2`` (as in DensePose's evaluator).
        """
        assert self._pdist is not None
        n = self._pdist_n
        lo = np.minimum(a, b)
        hi = np.maximum(a, b)
        r, c = n - 1 - hi, n - 1 - lo  # r < c
        k = n * r - r * (r + 1) // 2 + c - r - 1
        k = n * (n - 1) // 2 - 1 - k
        same = lo == hi
        d = np.zeros(a.shape, dtype=np.float64)
        d[~same] = self._pdist[k[~same]]
        return d

    def geodesic_matrix(self, vertices: Any) -> np.ndarray:
        """All-pairs geodesic distances among ``vertices`` as a square float64 matrix."""
        v = np.asarray(vertices, dtype=np.int64).reshape(-1)
        return self.geodesic(v[:, None], v[None, :])

    # --------------------------------------------------------------- symmetry
    def _flip_map(self, p: int) -> tuple[int, np.ndarray | None]:
        """Mirror part of ``p`` and, if exact, the affine U/V map ``[a_u, b_u, a_v, b_v]``."""
        if p not in self._flip_maps:
            assert self.mirror is not None
            idx = np.flatnonzero(self.part == p)
            if idx.size == 0:
                self._flip_maps[p] = (int(FINE_FLIP[p]), None)
                return self._flip_maps[p]
            m = self.mirror[idx]
            targets = np.unique(self.part[m])
            q = int(targets[0]) if targets.size == 1 else int(FINE_FLIP[p])
            coef: np.ndarray | None = None
            if targets.size == 1:
                fits = []
                for c in range(2):
                    x = np.stack([self.uv[idx, c], np.ones(idx.size)], axis=1)
                    sol, *_ = np.linalg.lstsq(x, self.uv[m, c], rcond=None)
                    fits.append(sol if np.abs(x @ sol - self.uv[m, c]).max() < _AFFINE_TOL else None)
                if all(f is not None for f in fits):
                    coef = np.array([fits[0][0], fits[0][1], fits[1][0], fits[1][1]])
            self._flip_maps[p] = (q, coef)
        return self._flip_maps[p]

    def flip_iuv(self, part: Any, u: Any, v: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Map (I, U, V) points to where a horizontal mirror of the body puts them.

        Parts swap left <-> right. With U/V flip tables (DensePose's files) each point
        takes the table entry of its part at ``[floor(V * 255), floor(U * 255)]``, as
        DensePose's own training code does (so flipping twice returns U, V to within the
        1/255 table cell). Otherwise U, V follow the vertex mirror map: when a part's
        mirror is an exact affine map of its chart (true for the synthetic body) it is
        applied analytically, so flipping twice is the identity; else each point takes
        the U, V of the mirrored nearest vertex. Part 0 (background) stays 0.

        Raises:
            DataError: the surface has neither a symmetry map nor flip tables.
        """
        p, uu, vv = np.broadcast_arrays(np.asarray(part, dtype=np.int64), np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64))
        if self.uv_symmetry is not None:
            return self._flip_by_tables(p, uu, vv)
        if self.mirror is None:
            raise DataError(f"{self.name}: no left/right symmetry map, so points cannot be flipped "
                            f"(DensePose's evaluation files flip only with {SYMMETRY_FILE} beside them)")
        p_out = np.zeros(p.shape, dtype=np.int64)
        u_out = uu.astype(np.float64).copy()
        v_out = vv.astype(np.float64).copy()
        for pid in np.unique(p):
            if not 1 <= pid <= N_FINE_PARTS:
                continue
            sel = p == pid
            q, coef = self._flip_map(int(pid))
            p_out[sel] = q
            if coef is not None:
                u_out[sel] = np.clip(coef[0] * uu[sel] + coef[1], 0.0, 1.0)
                v_out[sel] = np.clip(coef[2] * vv[sel] + coef[3], 0.0, 1.0)
            else:
                k = self.mirror[self.nearest_vertex(pid, uu[sel], vv[sel])]
                u_out[sel] = self.uv[k, 0]
                v_out[sel] = self.uv[k, 1]
        return p_out, u_out, v_out

    def _flip_by_tables(self, p: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        assert self.uv_symmetry is not None
        last = UV_TABLE_SIZE - 1
        ok = (p >= 1) & (p <= N_FINE_PARTS)
        pk = np.where(ok, p, 1) - 1
        # truncation of U * 255, as DensePose indexes its tables; clipped so U = 1 is cell 255
        col = np.clip(np.floor(u * last), 0, last).astype(np.int64)
        row = np.clip(np.floor(v * last), 0, last).astype(np.int64)
        u_out = np.where(ok, self.uv_symmetry[pk, 0, row, col], u)
        v_out = np.where(ok, self.uv_symmetry[pk, 1, row, col], v)
        p_out = np.where(ok, FINE_FLIP[np.where(ok, p, 0)], 0)
        return p_out.astype(np.int64), np.clip(u_out, 0.0, 1.0), np.clip(v_out, 0.0, 1.0)

    # --------------------------------------------------------------------- io
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the surface as ``.npz`` (atomically); requires the graph backend or none."""
        if self._pdist is not None:
            raise DataError(f"{self.name}: surfaces read from DensePose's files are not re-saved; point to the files instead")
        arrays: dict[str, np.ndarray] = {
            "format": np.array(SURFACE_FORMAT),
            "part": self.part.astype(np.int8),
            "uv": self.uv.astype(np.float32),
        }
        if self.xyz is not None:
            arrays["xyz"] = self.xyz.astype(np.float32)
        if self.mirror is not None:
            arrays["mirror"] = self.mirror.astype(np.int32)
        if self._graph is not None:
            g = self._graph.tocoo()
            keep = g.row < g.col
            arrays["edges"] = np.stack([g.row[keep], g.col[keep]], axis=1).astype(np.int32)
            arrays["edge_length"] = g.data[keep].astype(np.float32)
        atomic_save_npz(path, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BodySurface:
        """Read a ``surface.npz`` written by :meth:`save` (e.g. by ``nas data synth``).

        Raises:
            DataError: the file is missing, not an npz, or lacks/garbles a field.
        """
        path = Path(path)
        if not path.is_file():
            raise DataError(f"body surface file {path} not found; generate one with `nas data synth` or pass the right path")
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # EOFError: empty; BadZipFile: a damaged npz
            raise DataError(f"{path}: not a readable body surface .npz ({exc or type(exc).__name__})") from exc
        fmt = str(arrays.get("format", ""))
        if fmt != SURFACE_FORMAT:
            raise DataError(f"{path}: 'format' is {fmt!r}, expected {SURFACE_FORMAT!r}")
        for key in ("part", "uv"):
            if key not in arrays:
                raise DataError(f"{path}: missing field {key!r}")
        n = arrays["part"].shape[0]
        if arrays["uv"].shape != (n, 2):
            raise DataError(f"{path}: field 'uv' has shape {arrays['uv'].shape}, expected ({n}, 2)")
        if "xyz" in arrays and arrays["xyz"].shape != (n, 3):
            raise DataError(f"{path}: field 'xyz' has shape {arrays['xyz'].shape}, expected ({n}, 3)")
        if "mirror" in arrays and arrays["mirror"].shape != (n,):
            raise DataError(f"{path}: field 'mirror' has shape {arrays['mirror'].shape}, expected ({n},)")
        if ("edges" in arrays) != ("edge_length" in arrays):
            raise DataError(f"{path}: 'edges' and 'edge_length' must be stored together")
        try:
            return cls(
                arrays["part"],
                arrays["uv"],
                arrays.get("xyz"),
                arrays.get("mirror"),
                edges=arrays.get("edges"),
                edge_length=arrays.get("edge_length"),
                name=str(path),
            )
        except DataError as exc:
            raise DataError(str(exc)) from None

    @classmethod
    def from_densepose_files(cls, directory: str | os.PathLike[str]) -> BodySurface:
        """Read DensePose's official evaluation files from ``directory``.

        Reads ``SMPL_subdiv.mat`` (``Part_ID_subdiv``, ``U_subdiv``, ``V_subdiv`` and,
        if present, ``vertex``), ``SMPL_SUBDIV_TRANSFORM.mat`` (``index``, 1-based row
        of each vertex in the geodesic matrix) and ``Pdist_matrix.pkl`` (condensed
        geodesic distances, read with a numpy-only unpickler) and, when it is there,
        ``UV_symmetry_transforms.mat`` (``U_transforms``, ``V_transforms``: 24 tables of
        256x256 each, see ``uv_symmetry``), which makes flip augmentation work; without it
        the surface has no symmetry and flips are off.

        Raises:
            DataError: a file is missing, unsafe or malformed.
        """
        from scipy.io import loadmat

        d = Path(directory)
        missing = [f for f in DENSEPOSE_EVAL_FILES if not (d / f).is_file()]
        if missing:
            raise DataError(
                f"DensePose evaluation files missing in {d}: {', '.join(missing)}; "
                "download them from the DensePose repository and point to their folder"
            )

        def mat(name: str) -> dict[str, Any]:
            try:
                return loadmat(str(d / name))
            except Exception as exc:  # scipy raises several types for corrupt files
                raise DataError(f"{d / name}: not a readable MATLAB file ({exc})") from exc

        def field(m: dict[str, Any], file: str, key: str) -> np.ndarray:
            if key not in m:
                raise DataError(f"{d / file}: missing variable {key!r}")
            return np.asarray(m[key]).squeeze()

        subdiv = mat("SMPL_subdiv.mat")
        part = field(subdiv, "SMPL_subdiv.mat", "Part_ID_subdiv").astype(np.int64)
        u = field(subdiv, "SMPL_subdiv.mat", "U_subdiv").astype(np.float64)
        v = field(subdiv, "SMPL_subdiv.mat", "V_subdiv").astype(np.float64)
        if not (part.ndim == u.ndim == v.ndim == 1 and part.size == u.size == v.size):
            raise DataError(f"{d / 'SMPL_subdiv.mat'}: Part_ID_subdiv, U_subdiv, V_subdiv must be vectors of equal length")
        n = part.size
        xyz = None
        if "vertex" in subdiv:
            vert = np.asarray(subdiv["vertex"], dtype=np.float64)
            if vert.shape == (3, n):
                vert = vert.T
            if vert.shape == (n, 3):
                xyz = vert
        index = field(mat("SMPL_SUBDIV_TRANSFORM.mat"), "SMPL_SUBDIV_TRANSFORM.mat", "index").astype(np.int64).reshape(-1)
        if index.size != n:
            raise DataError(f"{d / 'SMPL_SUBDIV_TRANSFORM.mat'}: 'index' has {index.size} entries, expected {n} (one per vertex)")
        pkl = d / "Pdist_matrix.pkl"
        try:
            obj = load_numpy_pickle(pkl)
        except pickle.UnpicklingError as exc:
            raise DataError(f"{pkl}: {exc}") from exc
        except (EOFError, ValueError, TypeError) as exc:
            raise DataError(f"{pkl}: not a readable pickle ({exc})") from exc
        if not isinstance(obj, dict) or "Pdist_matrix" not in obj:
            raise DataError(f"{pkl}: expected a dict with key 'Pdist_matrix'")
        pdist = np.asarray(obj["Pdist_matrix"])
        if pdist.dtype.kind != "f":
            raise DataError(f"{pkl}: 'Pdist_matrix' must hold floats, got {pdist.dtype}")
        tables = _read_uv_symmetry(d / SYMMETRY_FILE, mat) if (d / SYMMETRY_FILE).is_file() else None
        return cls(part, np.stack([u, v], axis=1), xyz, None, pdist=pdist.reshape(-1), pdist_index=index - 1,
                   uv_symmetry=tables, name=str(d))


def _read_uv_symmetry(path: Path, mat: Any) -> np.ndarray:
    """``(24, 2, 256, 256)`` flip tables from DensePose's ``UV_symmetry_transforms.mat``,
    where ``U_transforms`` and ``V_transforms`` are MATLAB cell arrays of 24 matrices."""
    data = mat(path.name)
    shape = (UV_TABLE_SIZE, UV_TABLE_SIZE)
    out = np.empty((N_FINE_PARTS, 2, *shape), dtype=np.float64)
    for c, key in enumerate(("U_transforms", "V_transforms")):
        if key not in data:
            raise DataError(f"{path}: missing variable {key!r} (24 tables of {shape[0]}x{shape[1]})")
        cells = np.asarray(data[key], dtype=object).reshape(-1)
        if cells.size != N_FINE_PARTS:
            raise DataError(f"{path}: {key!r} holds {cells.size} tables, expected {N_FINE_PARTS} (one per part)")
        for k, cell in enumerate(cells):
            try:
                table = np.asarray(cell, dtype=np.float64)
            except (TypeError, ValueError):
                raise DataError(f"{path}: {key}[{k}] is not a numeric table") from None
            if table.shape != shape:
                raise DataError(f"{path}: {key}[{k}] has shape {table.shape}, expected {shape}")
            out[k, c] = table
    if not np.isfinite(out).all():
        raise DataError(f"{path}: the U/V flip tables hold NaN or infinity")
    return out
