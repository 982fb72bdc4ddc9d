"""DensePose-COCO's official layout written from synthetic data, and the official surface's flips."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from nas.cli import main
from nas.data.official import OFFICIAL_SPLITS, OfficialLayout, condensed_geodesics, uv_symmetry_tables
from nas.data.source import DatasetSource, surface_kind
from nas.data.surface import DENSEPOSE_EVAL_FILES, SYMMETRY_FILE, BodySurface
from nas.data.synth.generate import SynthSummary
from nas.data.transforms import HorizontalFlip
from nas.errors import DataError

from .conftest import read_json


@pytest.fixture(scope="module")
def npz(synth: SynthSummary) -> BodySurface:
    return BodySurface.load(synth.surface)


@pytest.fixture(scope="module")
def dp_surface(official: OfficialLayout) -> BodySurface:
    return BodySurface.from_densepose_files(official.surface)


def test_layout_splits_images_into_two_folders(synth: SynthSummary, official: OfficialLayout) -> None:
    src = DatasetSource.load(official.descriptor)
    assert src.descriptor is not None and surface_kind(src.surface) == "densepose"
    assert {f.name for f in src.surface.iterdir()} == {*DENSEPOSE_EVAL_FILES, SYMMETRY_FILE}
    for name, (json_name, folder) in OFFICIAL_SPLITS.items():
        split = src.split(name)
        assert split.annotations == official.out / "annotations" / json_name and split.images == official.out / folder
        data, orig = read_json(split.annotations), read_json(synth.out / "annotations" / f"{name}.json")
        assert data["annotations"] == orig["annotations"]
        assert [i["id"] for i in data["images"]] == [i["id"] for i in orig["images"]]
        names = [i["file_name"] for i in data["images"]]
        assert sorted(p.name for p in split.images.iterdir()) == sorted(names)
        for img, before in zip(data["images"], orig["images"]):
            assert img["file_name"] == f"COCO_{folder}_{img['id']:012d}.jpg"
            assert (split.images / img["file_name"]).read_bytes() == (synth.out / "images" / before["file_name"]).read_bytes()
    assert (official.train_images, official.val_images) == (4, 2)
    assert not src.train.images.samefile(src.val.images)
    assert "../" not in official.descriptor.read_text() and str(official.out) not in official.descriptor.read_text()


def test_official_files_hold_the_synthetic_surface(npz: BodySurface, dp_surface: BodySurface,
                                                   official: OfficialLayout) -> None:
    np.testing.assert_array_equal(dp_surface.part, npz.part)
    np.testing.assert_array_equal(dp_surface.uv, npz.uv)
    assert dp_surface.xyz is not None and npz.xyz is not None
    np.testing.assert_array_equal(dp_surface.xyz, npz.xyz)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, npz.num_vertices, (2, 5000))
    # the same float32 geodesics (metres), bit for bit
    np.testing.assert_array_equal(dp_surface.geodesic(a, b), npz.geodesic(a, b))
    # the file as DensePose's evaluator reads it: column vector, pair (hi, lo) at hi * (hi - 1) / 2 + lo
    pkl = read_pickle(official.surface / "Pdist_matrix.pkl")["Pdist_matrix"]
    assert pkl.ndim == 2 and pkl.shape[1] == 1 and pkl.dtype == np.float32
    hi, lo = np.maximum(a, b), np.minimum(a, b)
    keep = hi != lo
    np.testing.assert_array_equal(pkl[hi[keep] * (hi[keep] - 1) // 2 + lo[keep], 0], npz.geodesic(hi[keep], lo[keep]))
    index = scipy.io.loadmat(str(official.surface / "SMPL_SUBDIV_TRANSFORM.mat"))["index"].ravel()
    np.testing.assert_array_equal(index, np.arange(1, npz.num_vertices + 1))


def read_pickle(path: Path) -> dict[str, np.ndarray]:
    from nas.data.safe_pickle import load_numpy_pickle

    return load_numpy_pickle(path)


def test_condensed_geodesics_layout_on_a_small_surface() -> None:
    # five vertices on a line, 1 m apart, one graph edge between neighbours
    s = BodySurface(np.ones(5), np.c_[np.linspace(0, 1, 5), np.zeros(5)], edges=np.c_[np.arange(4), np.arange(1, 5)],
                    edge_length=np.ones(4))
    np.testing.assert_array_equal(condensed_geodesics(s), [1, 2, 1, 3, 2, 1, 4, 3, 2, 1])  # (1,0) (2,0) (2,1) (3,0) ...


def test_flip_with_the_symmetry_file(npz: BodySurface, dp_surface: BodySurface) -> None:
    assert dp_surface.has_symmetry and dp_surface.mirror is None
    rng = np.random.default_rng(1)
    p, u, v = rng.integers(1, 25, 2000), rng.random(2000), rng.random(2000)
    fp, fu, fv = dp_surface.flip_iuv(p, u, v)
    sp, su, sv = npz.flip_iuv(p, u, v)
    np.testing.assert_array_equal(fp, sp)  # parts swap left <-> right exactly
    # the table cell holds the flip of its lower corner: off by less than one cell (the body's
    # mirror maps have slope +-1 in U and V)
    assert np.abs(fu - su).max() < 1 / 255 and np.abs(fv - sv).max() < 1 / 255
    assert np.abs(fu - su).max() > 0.5 / 255  # it is a lookup, not the analytic map
    # on the table's grid the two agree exactly
    k = rng.integers(0, 256, (2, 2000))
    gu, gv = k[0] / 255, k[1] / 255
    on_grid = (np.floor(gu * 255) == k[0]) & (np.floor(gv * 255) == k[1])
    assert on_grid.mean() > 0.9
    fp, fu, fv = dp_surface.flip_iuv(p[on_grid], gu[on_grid], gv[on_grid])
    sp, su, sv = npz.flip_iuv(p[on_grid], gu[on_grid], gv[on_grid])
    np.testing.assert_allclose(np.c_[fu, fv], np.c_[su, sv], atol=1e-12)
    # there and back: the part returns, U and V to within one table cell
    bp, bu, bv = dp_surface.flip_iuv(*dp_surface.flip_iuv(p, u, v))
    np.testing.assert_array_equal(bp, p)
    assert np.abs(bu - u).max() < 2 / 255 and np.abs(bv - v).max() < 2 / 255
    # background stays background; a torso-front point mirrors onto the torso front at 1 - U
    assert dp_surface.flip_iuv(0, 0.3, 0.4)[0] == 0
    i, uu, vv = dp_surface.flip_iuv(2, 0.2, 0.6)
    assert i == 2 and uu == pytest.approx(1 - 51 / 255) and vv == pytest.approx(153 / 255)


def test_flip_tables_in_detectron2_form(official: OfficialLayout, npz: BodySurface) -> None:
    m = scipy.io.loadmat(str(official.surface / SYMMETRY_FILE))
    for c, key in enumerate(("U_transforms", "V_transforms")):
        assert m[key].shape == (1, 24) and m[key][0, 0].shape == (256, 256)
        np.testing.assert_allclose(np.stack(m[key][0]), uv_symmetry_tables(npz)[:, c])


def test_no_symmetry_file_means_no_flips(official: OfficialLayout, tmp_path: Path) -> None:
    folder = tmp_path / "eval"
    folder.mkdir()
    for name in DENSEPOSE_EVAL_FILES:
        (folder / name).symlink_to(official.surface / name)
    s = BodySurface.from_densepose_files(folder)
    assert not s.has_symmetry
    with pytest.raises(DataError, match=SYMMETRY_FILE):
        s.flip_iuv([1], [0.5], [0.5])
    with pytest.warns(UserWarning, match="horizontal flip disabled"):
        assert not HorizontalFlip(s).active
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert HorizontalFlip(BodySurface.from_densepose_files(official.surface)).active


@pytest.mark.parametrize(("variables", "words"), [
    ({"U_transforms": "cells"}, "missing variable 'V_transforms'"),
    ({"U_transforms": "cells", "V_transforms": "few"}, "'V_transforms' holds 3 tables, expected 24"),
    ({"U_transforms": "small", "V_transforms": "cells"}, "U_transforms[0] has shape (8, 8), expected (256, 256)"),
])
def test_bad_symmetry_file(official: OfficialLayout, tmp_path: Path, variables: dict[str, str], words: str) -> None:
    folder = tmp_path / "eval"
    shutil.copytree(official.surface, folder)
    def cells(n: int, side: int) -> np.ndarray:
        out = np.empty((1, n), dtype=object)
        for k in range(n):
            out[0, k] = np.zeros((side, side))
        return out
    made = {"cells": cells(24, 256), "few": cells(3, 256), "small": cells(24, 8)}
    scipy.io.savemat(folder / SYMMETRY_FILE, {k: made[v] for k, v in variables.items()})
    with pytest.raises(DataError, match=SYMMETRY_FILE) as err:
        BodySurface.from_densepose_files(folder)
    assert words in str(err.value)


def test_evaluation_equal_with_either_surface(synth: SynthSummary, npz: BodySurface, dp_surface: BodySurface) -> None:
    from nas.eval import evaluate, ground_truth_results, load_ground_truth

    gt = load_ground_truth(synth.all_json)
    # noisy U, V so that every score depends on the geodesics
    results = ground_truth_results(gt, uv_noise=0.4, seed=2)
    with_npz = evaluate(gt, results, npz, modes=["gps", "gpsm"])
    with_files = evaluate(gt, results, dp_surface, modes=["gps", "gpsm"])
    assert with_npz == with_files
    assert 0.05 < with_npz["gps_ap"] < 0.95  # neither trivial 0 nor 1: the geodesics decided it


def test_synth_command_writes_the_official_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dp"
    assert main(["data", "synth", "--out", str(out), "--images", "3", "--size", "64", "--layout", "densepose-coco",
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "wrote 3 images (2 train, 1 val)" in printed and str(out / "dataset.yaml") in printed
    # no staging folder or render left beside it; the writers' lock file stays, as nas data synth's does
    assert sorted(p.name for p in tmp_path.iterdir()) == [".dp.synth-lock", "dp"]
    assert sorted(p.name for p in (out / "train2014").iterdir()) == ["COCO_train2014_000000000001.jpg",
                                                                   "COCO_train2014_000000000002.jpg"]
    val = json.loads((out / "annotations" / "densepose_coco_2014_minival.json").read_text())
    assert [i["file_name"] for i in val["images"]] == ["COCO_val2014_000000000003.jpg"]
    assert main(["data", "check", str(out / "dataset.yaml"), "--no-progress"]) == 0
    assert "2 images (0 missing)" in capsys.readouterr().out
    before = sorted(p.name for p in out.rglob("*"))
    assert main(["data", "synth", "--out", str(out), "--images", "2", "--layout", "densepose-coco", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "already holds a dataset; pass --overwrite" in err
    assert sorted(p.name for p in out.rglob("*")) == before
    assert main(["data", "synth", "--out", str(out), "--images", "2", "--size", "64", "--layout", "densepose-coco",
                 "--overwrite", "--no-progress"]) == 0
    assert sorted(p.name for p in (out / "train2014").iterdir()) == ["COCO_train2014_000000000001.jpg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".dp.synth-lock", "dp"]
    assert main(["data", "synth", "--out", str(tmp_path / "x"), "--images", "2", "--layout", "coco"]) == 2
    assert "unknown --layout 'coco'; choose from folder, densepose-coco" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_nas_eval_reads_the_official_surface_folder(synth: SynthSummary, official: OfficialLayout, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """``nas eval --surface eval_data`` on the official layout's val file scores a results
    file exactly as ``--surface surface.npz`` on the synthetic folder it was written from."""
    from nas.eval import ground_truth_results, load_ground_truth, save_densepose_results

    pred = tmp_path / "pred.json"
    save_densepose_results(pred, ground_truth_results(load_ground_truth(official.val_json), uv_noise=0.3, seed=1))
    scores = []
    for gt, surface in ((official.val_json, official.surface), (synth.val_json, synth.surface)):
        assert main(["eval", "--gt", str(gt), "--pred", str(pred), "--surface", str(surface), "--json"]) == 0
        metrics = json.loads(capsys.readouterr().out)
        metrics.pop("eval_seconds")
        scores.append(metrics)
    assert scores[0] == scores[1]
    assert 0.0 < scores[0]["gps_ap"] < 1.0  # the noise made the geodesics matter
