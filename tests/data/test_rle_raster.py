"""RLE codec and the rasteriser."""

from __future__ import annotations

import numpy as np
import pycocotools.mask as mask_utils
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nas.data.rle import rle_area, rle_counts, rle_decode, rle_encode
from nas.data.synth.raster import rasterize


# pycocotools' own decode trips a numpy 2 DeprecationWarning inside the library.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@settings(max_examples=60, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 40)), elements=st.integers(0, 1)))
def test_rle_round_trip(mask: np.ndarray) -> None:
    rle = rle_encode(mask)
    np.testing.assert_array_equal(rle_decode(rle), mask)
    np.testing.assert_array_equal(mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode()}), mask)
    assert rle_area(rle) == mask.sum()
    assert rle_decode({"size": rle["size"], "counts": rle_counts(rle)[1].tolist()}).tolist() == mask.tolist()


@pytest.mark.parametrize(
    "rle, match",
    [
        ({"size": [4, 4], "counts": [3, 14]}, "sum to 17"),
        ({"size": [4, 4], "counts": [3, -2, 15]}, "negative"),
        ({"size": [4], "counts": [16]}, "size"),
        ({"size": [4, 4], "counts": 5}, "counts"),
        ({"size": [4, 4], "counts": "\x7f"}, "invalid character"),
        ([1, 2], "RLE dict"),
    ],
)
def test_rle_rejects_malformed(rle: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        rle_decode(rle)


def test_rasterize_single_triangle_coverage() -> None:
    xy = np.array([[2.0, 2.0], [30.0, 4.0], [10.0, 28.0]])
    faces = np.array([[0, 1, 2]])
    fid, bary = rasterize(xy, np.ones(3), faces, 32, 32)
    e1, e2 = xy[1] - xy[0], xy[2] - xy[0]
    area = 0.5 * abs(e1[0] * e2[1] - e1[1] * e2[0])
    assert abs((fid == 0).sum() - area) < 0.1 * area
    w = bary[fid == 0]
    np.testing.assert_allclose(w.sum(1), 1.0, atol=1e-5)
    # Barycentric weights reproduce the pixel centres.
    rows, cols = np.nonzero(fid == 0)
    np.testing.assert_allclose(w @ xy, np.c_[cols + 0.5, rows + 0.5], atol=1e-4)


def test_rasterize_depth_test_and_perspective() -> None:
    xy = np.array([[0.0, 0.0], [16.0, 0.0], [0.0, 16.0], [0.0, 0.0], [16.0, 0.0], [0.0, 16.0]])
    depth = np.array([2.0, 2.0, 2.0, 1.0, 1.0, 4.0])
    faces = np.array([[0, 1, 2], [3, 4, 5]])
    fid, bary = rasterize(xy, depth, faces, 16, 16)
    near_corner = fid[0, 0]
    assert near_corner == 1  # depth 1 beats 2 at the top-left
    assert fid[13, 0] == 0  # near (0, 16) the second triangle is behind (depth -> 4)
    # Perspective-correct weights: 1/z interpolates linearly, so the weight of the far
    # vertex is smaller than its screen-space weight.
    w = bary[8, 1]
    assert w.sum() == pytest.approx(1.0, abs=1e-5) and w[2] < 8.5 / 16


def test_rasterize_empty() -> None:
    fid, bary = rasterize(np.zeros((0, 2)), np.zeros(0), np.zeros((0, 3), dtype=np.int64), 5, 6)
    assert fid.shape == (5, 6) and (fid == -1).all() and bary.shape == (5, 6, 3)
