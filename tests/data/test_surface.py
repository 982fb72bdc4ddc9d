"""BodySurface: nearest vertex, geodesics, symmetry, file readers."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from scipy.spatial import cKDTree
from scipy.spatial.distance import squareform

from nas.data.safe_pickle import UnsafePickleError, load_numpy_pickle
from nas.data.surface import BodySurface
from nas.data.synth.body import body_template
from nas.errors import DataError


@pytest.fixture(scope="module")
def surface() -> BodySurface:
    return body_template().surface()


def test_parts_and_charts_cover_densepose(surface: BodySurface) -> None:
    assert set(np.unique(surface.part)) == set(range(1, 25))
    for p in range(1, 25):
        uv = surface.uv[surface.part == p]
        assert uv.min() == 0.0 and uv.max() == 1.0, f"part {p} chart must span [0, 1]"


def test_nearest_vertex(surface: BodySurface) -> None:
    rng = np.random.default_rng(0)
    idx = rng.choice(surface.num_vertices, 300, replace=False)
    got = surface.nearest_vertex(surface.part[idx], surface.uv[idx, 0], surface.uv[idx, 1])
    # Coincident chart points (poles) may pick a twin vertex with identical U, V.
    np.testing.assert_array_equal(surface.uv[got], surface.uv[idx])
    np.testing.assert_array_equal(surface.part[got], surface.part[idx])
    assert surface.nearest_vertex(0, 0.5, 0.5) == -1
    grid = surface.nearest_vertex(np.full((4, 5), 7), np.linspace(0, 1, 5), np.linspace(0, 1, 4)[:, None])
    assert grid.shape == (4, 5) and (surface.part[grid] == 7).all()


def test_geodesic_metric_properties(surface: BodySurface) -> None:
    rng = np.random.default_rng(1)
    v = rng.choice(surface.num_vertices, 40, replace=False)
    d = surface.geodesic_matrix(v)
    np.testing.assert_allclose(d, d.T, rtol=1e-6)
    np.testing.assert_array_equal(np.diag(d), 0.0)
    assert np.isfinite(d).all() and (d[~np.eye(40, dtype=bool)] > 0).all()
    # Triangle inequality d(a, c) <= d(a, b) + d(b, c) on all triples of the sample.
    assert (d[:, None, :] <= d[:, :, None] + d[None, :, :] + 1e-5).all()
    # Geodesic is never shorter than the straight line.
    assert surface.xyz is not None
    chord = np.linalg.norm(surface.xyz[v][:, None] - surface.xyz[v][None], axis=2)
    assert (d >= chord - 1e-5).all()
    assert surface.geodesic(-1, 0) == np.inf


def test_geodesic_equals_3d_distance_on_flat_regions(surface: BodySurface) -> None:
    """Along the torso front's straight rulings and for nearby points, geodesic ~ 3-D."""
    assert surface.xyz is not None
    tv = np.flatnonzero((surface.part == 2) & (surface.uv[:, 1] > 0.3) & (surface.uv[:, 1] < 0.7))
    column = tv[np.isclose(surface.uv[tv, 0], surface.uv[tv[0], 0])]
    d = surface.geodesic_matrix(column)
    chord = np.linalg.norm(surface.xyz[column][:, None] - surface.xyz[column][None], axis=2)
    np.testing.assert_allclose(d, chord, rtol=0.01, atol=1e-6)
    flat = tv[(surface.uv[tv, 0] > 0.3) & (surface.uv[tv, 0] < 0.7)]  # the chest: radius of curvature ~0.3 m
    pairs = np.array(sorted(cKDTree(surface.xyz[flat]).query_pairs(0.06)))
    a, b = flat[pairs[:, 0]], flat[pairs[:, 1]]
    near = np.linalg.norm(surface.xyz[a] - surface.xyz[b], axis=1)
    keep = near > 0.01
    ratio = surface.geodesic(a[keep], b[keep]) / near[keep]
    assert keep.sum() > 100 and ratio.max() < 1.04 and np.median(ratio) < 1.01 and ratio.min() >= 1.0 - 1e-6


def test_mirror_map_and_flip(surface: BodySurface) -> None:
    assert surface.mirror is not None and surface.xyz is not None
    m = surface.mirror
    np.testing.assert_array_equal(m[m], np.arange(surface.num_vertices))
    np.testing.assert_allclose(surface.xyz[m], surface.xyz * [-1, 1, 1], atol=1e-9)
    np.testing.assert_array_equal(surface.part[m], surface.part_swap[surface.part])
    np.testing.assert_array_equal(surface.part_swap[surface.part_swap], np.arange(25))
    # Flip of vertex coordinates lands on the mirrored vertex; twice is the identity.
    i, u, v = surface.flip_iuv(surface.part, surface.uv[:, 0], surface.uv[:, 1])
    np.testing.assert_array_equal(i, surface.part[m])
    np.testing.assert_allclose(np.c_[u, v], surface.uv[m], atol=1e-9)
    rng = np.random.default_rng(3)
    p, uu, vv = rng.integers(1, 25, 500), rng.random(500), rng.random(500)
    back = surface.flip_iuv(*surface.flip_iuv(p, uu, vv))
    np.testing.assert_array_equal(back[0], p)
    np.testing.assert_allclose(back[1], uu, atol=1e-9)
    np.testing.assert_allclose(back[2], vv, atol=1e-9)
    # Geodesics are mirror-invariant.
    a, b = rng.integers(0, surface.num_vertices, (2, 50))
    np.testing.assert_allclose(surface.geodesic(a, b), surface.geodesic(m[a], m[b]), rtol=1e-4)


def test_save_load_round_trip(surface: BodySurface, tmp_path: Path) -> None:
    path = tmp_path / "surface.npz"
    surface.save(path)
    back = BodySurface.load(path)
    np.testing.assert_array_equal(back.part, surface.part)
    np.testing.assert_allclose(back.uv, surface.uv, atol=1e-7)
    assert back.mirror is not None and surface.mirror is not None
    np.testing.assert_array_equal(back.mirror, surface.mirror)
    a, b = np.arange(0, 60), np.arange(60, 120)
    np.testing.assert_allclose(back.geodesic(a, b), surface.geodesic(a, b), rtol=1e-5)


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        BodySurface.load(tmp_path / "nope.npz")
    np.savez(tmp_path / "bad.npz", format=np.array("something-else"), part=np.ones(3))
    with pytest.raises(DataError, match="format"):
        BodySurface.load(tmp_path / "bad.npz")
    np.savez(tmp_path / "bad2.npz", format=np.array("nas-body-surface-v1"), part=np.ones(3), uv=np.zeros((3, 3)))
    with pytest.raises(DataError, match="'uv'"):
        BodySurface.load(tmp_path / "bad2.npz")
    (tmp_path / "empty.npz").write_bytes(b"")  # numpy raises EOFError, which click would turn into "aborted"
    with pytest.raises(DataError, match="empty.npz: not a readable body surface .npz"):
        BodySurface.load(tmp_path / "empty.npz")


def _official_index(n: int, a: int, b: int) -> int:
    """Condensed index exactly as DensePose's evaluator computes it (reference)."""
    i, j = (b, a) if b > a else (a, b)
    i, j = n - i - 1, n - j - 1
    k = (n * (n - 1) / 2) - (n - i) * ((n - i) - 1) / 2 + j - i - 1
    return int((n * n - n) / 2 - k - 1)


def _write_official(folder: Path, *, n_geo: int = 9, pickle_protocol: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    n = 12  # subdivided vertices; several share a geodesic target, as in DensePose
    pts = rng.random((n_geo, 3))
    full = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    cond = np.zeros(n_geo * (n_geo - 1) // 2)
    for a in range(n_geo):
        for b in range(a + 1, n_geo):
            cond[_official_index(n_geo, a, b)] = full[a, b]
    index = np.r_[np.arange(1, n_geo + 1), rng.integers(1, n_geo + 1, n - n_geo)]  # 1-based
    part = rng.integers(1, 25, n)
    scipy.io.savemat(folder / "SMPL_subdiv.mat", {
        "Part_ID_subdiv": part[:, None].astype(float), "U_subdiv": rng.random((1, n)), "V_subdiv": rng.random((1, n)),
        "vertex": rng.random((3, n)),
    })
    scipy.io.savemat(folder / "SMPL_SUBDIV_TRANSFORM.mat", {"index": index[:, None].astype(float)})
    with open(folder / "Pdist_matrix.pkl", "wb") as fh:
        pickle.dump({"Pdist_matrix": cond[:, None].astype(np.float32)}, fh, protocol=pickle_protocol)
    return full, index


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_from_densepose_files(tmp_path: Path, protocol: int) -> None:
    full, index = _write_official(tmp_path, pickle_protocol=protocol)
    s = BodySurface.from_densepose_files(tmp_path)
    assert s.num_vertices == 12 and not s.has_symmetry and s.xyz is not None
    a, b = np.meshgrid(np.arange(12), np.arange(12), indexing="ij")
    expected = full[index[a] - 1, index[b] - 1]
    np.testing.assert_allclose(s.geodesic(a, b), expected, rtol=1e-6)
    assert _official_index(9, 2, 5) != squareform(np.arange(1, 37))[2, 5] - 1, "layout differs from scipy's"
    with pytest.raises(DataError, match="symmetry"):
        s.flip_iuv([1], [0.5], [0.5])


def test_from_densepose_files_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="SMPL_subdiv.mat"):
        BodySurface.from_densepose_files(tmp_path)
    _write_official(tmp_path)

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, ("echo pwned",))

    with open(tmp_path / "Pdist_matrix.pkl", "wb") as fh:
        pickle.dump({"Pdist_matrix": Evil()}, fh)
    with pytest.raises(DataError, match="refusing to load global"):
        BodySurface.from_densepose_files(tmp_path)
    with pytest.raises(UnsafePickleError):
        load_numpy_pickle(tmp_path / "Pdist_matrix.pkl")
