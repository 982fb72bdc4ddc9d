"""The synthetic generator: COCO format, exact ground truth, determinism."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO

from nas.data.coco import decode_coarse_masks, load_densepose_coco
from nas.data.parts import FINE_TO_COARSE
from nas.data.rle import rle_decode
from nas.data.surface import BodySurface
from nas.data.synth.generate import SynthConfig, SynthSummary, generate_dataset, render_image

from .conftest import TINY, read_json


def test_layout_and_split(synth: SynthSummary) -> None:
    assert synth.images == 6 and synth.train_images == 4 and synth.val_images == 2
    assert sorted(p.name for p in (synth.out / "images").iterdir()) == [f"{k:06d}.jpg" for k in range(1, 7)]
    train, val = read_json(synth.train_json), read_json(synth.val_json)
    assert [i["id"] for i in train["images"]] == [1, 2, 3, 4]
    assert [i["id"] for i in val["images"]] == [5, 6]
    ids = [a["id"] for a in train["annotations"] + val["annotations"]]
    assert ids == list(range(1, len(ids) + 1))
    assert not list(synth.out.rglob("*.tmp")), "atomic writes must not leave temp files"


def test_annotations_json_holds_both_splits(synth: SynthSummary) -> None:
    whole = read_json(synth.all_json)
    assert synth.all_json == synth.out / "annotations.json"
    train, val = read_json(synth.train_json), read_json(synth.val_json)
    assert whole["images"] == train["images"] + val["images"]
    assert whole["annotations"] == train["annotations"] + val["annotations"]
    assert whole["categories"] == train["categories"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # inside pycocotools, numpy 2
def test_pycocotools_loads_json(synth: SynthSummary) -> None:
    coco = COCO(str(synth.train_json))
    assert coco.getCatIds() == [1]
    anns = coco.loadAnns(coco.getAnnIds())
    assert anns, "the tiny dataset must contain annotations"
    for a in anns:
        m = coco.annToMask(a)
        assert m.sum() == a["area"]
        x, y, w, h = a["bbox"]
        ys, xs = np.nonzero(m)
        assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x, y, x + w, y + h)
    dp = [a for a in anns if "dp_I" in a]
    assert dp and all(80 <= len(a["dp_x"]) <= 125 for a in dp if a["area"] > 200)
    assert all(len(a["dp_masks"]) == 14 for a in dp)


def test_ground_truth_consistency(synth: SynthSummary) -> None:
    """Points lie in their box and mask; dp_I matches the coarse mask; U, V match the surface."""
    surface = BodySurface.load(synth.surface)
    cfg = SynthConfig(images=TINY.images, size=TINY.size, seed=TINY.seed, val_fraction=TINY.val_fraction)
    checked = 0
    uv_err: list[np.ndarray] = []
    for path in (synth.train_json, synth.val_json):
        coco = load_densepose_coco(path, synth.out / "images")
        raw = {a["id"]: a for a in read_json(path)["annotations"]}
        for rec in coco.images:
            scene = render_image(rec.image_id, cfg)
            for inst in rec.instances:
                if inst.dp is None:
                    continue
                x, y, w, h = inst.bbox
                px = x + inst.dp.x * w / 256
                py = y + inst.dp.y * h / 256
                assert (px > x).all() and (px < x + w).all() and (py > y).all() and (py < y + h).all()
                seg = rle_decode(raw[inst.ann_id]["segmentation"])
                r, c = np.floor(py).astype(int), np.floor(px).astype(int)
                assert seg[r, c].all(), "every point must be on its person's mask"
                coarse = decode_coarse_masks(inst.dp, rec.image_id, inst.ann_id)
                mr = np.floor(inst.dp.y).astype(int)
                mc = np.floor(inst.dp.x).astype(int)
                np.testing.assert_array_equal(coarse[mr, mc], FINE_TO_COARSE[inst.dp.i])
                # The renderer's own buffers at the point's pixel agree exactly.
                np.testing.assert_array_equal(scene.part[r, c], inst.dp.i)
                np.testing.assert_allclose(scene.uv[r, c, 0], inst.dp.u, atol=1e-6)
                # The canonical 3-D point drawn there is nearest to a vertex of that part
                # whose U, V is within one grid cell of the point's U, V.
                canon = scene.canonical[r, c].astype(np.float64)
                for p in np.unique(inst.dp.i):
                    sel = inst.dp.i == p
                    verts = np.flatnonzero(surface.part == p)
                    d = np.linalg.norm(surface.xyz[verts][None] - canon[sel][:, None], axis=2)
                    near = verts[d.argmin(1)]
                    uv_err.append(np.abs(surface.uv[near] - np.c_[inst.dp.u[sel], inst.dp.v[sel]]).max(1))
                checked += len(px)
    assert checked > 200
    err = np.concatenate(uv_err)
    assert np.median(err) < 0.05 and np.quantile(err, 0.95) < 0.12, (np.median(err), err.max())


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_deterministic_by_seed_for_any_worker_count(synth: SynthSummary, tmp_path: Path) -> None:
    again = generate_dataset(tmp_path / "w2", TINY, workers=2, progress=False)
    assert _digest(again.out) == _digest(synth.out)
    other = SynthConfig(images=2, size=TINY.size, seed=TINY.seed + 1)
    diff = generate_dataset(tmp_path / "s8", other, workers=1, progress=False)
    assert (diff.out / "images" / "000001.jpg").read_bytes() != (synth.out / "images" / "000001.jpg").read_bytes()


def test_refuses_to_overwrite(synth: SynthSummary) -> None:
    from nas.errors import DataError

    with pytest.raises(DataError, match="--overwrite"):
        generate_dataset(synth.out, TINY, progress=False)


def test_refuses_a_file_as_out(tmp_path: Path) -> None:
    from nas.errors import DataError

    file = tmp_path / "notes.txt"
    file.write_text("keep me")
    with pytest.raises(DataError, match="is a file, not a folder"):
        generate_dataset(file, TINY, progress=False)
    assert file.read_text() == "keep me"


def test_scene_variety() -> None:
    """Across seeds: 1-4 people, crowds and small people without dp, varied sizes."""
    cfg = SynthConfig(images=1, size=96, seed=0)
    n_ann, crowd, no_dp, heights = [], 0, 0, []
    for k in range(1, 31):
        scene = render_image(k, cfg)
        n_ann.append(sum(a["iscrowd"] == 0 for a in scene.annotations))
        crowd += sum(a["iscrowd"] for a in scene.annotations)
        no_dp += sum("dp_I" not in a and not a["iscrowd"] for a in scene.annotations)
        heights += [a["bbox"][3] for a in scene.annotations if "dp_I" in a]
        assert scene.image.shape == (96, 96, 3) and scene.image.dtype == np.uint8
    assert min(n_ann) >= 1 and max(n_ann) >= 3
    assert crowd >= 1 and no_dp >= 1
    assert max(heights) > 2.5 * min(heights)


def test_proxy_preset_scenes() -> None:
    """The proxy preset: one large annotated person facing the camera, no crowd, a plain
    background; the coco preset is the generator's default."""
    from nas.data.synth.scene import SceneConfig, scene_preset

    assert scene_preset("coco") == SceneConfig()
    cfg = SynthConfig(images=1, size=96, seed=0, scene=scene_preset("proxy"))
    for k in range(1, 13):
        scene = render_image(k, cfg)
        assert len(scene.annotations) == 1 and scene.annotations[0]["iscrowd"] == 0
        ann = scene.annotations[0]
        assert "dp_I" in ann and ann["bbox"][3] > 0.5 * 96
        # facing the camera: front parts outnumber back parts (torso 2 is front, 1 back)
        torso = [i for i in ann["dp_I"] if i in (1, 2)]
        assert torso and sum(i == 2 for i in torso) > sum(i == 1 for i in torso)


def test_medium_preset_scenes() -> None:
    """The medium preset: at most 2 people and never a crowd, and (unlike proxy, where
    every torso shows at least 98% front points) a second person in some images and
    people turned far enough that a third or more of their torso points are on its back."""
    from nas.data.synth.scene import scene_preset

    cfg = SynthConfig(images=1, size=96, seed=0, scene=scene_preset("medium"))
    people, turned = [], 0
    for k in range(1, 25):
        anns = render_image(k, cfg).annotations
        assert all(a["iscrowd"] == 0 for a in anns)
        people.append(len(anns))
        for ann in anns:
            torso = [i for i in ann.get("dp_I", []) if i in (1, 2)]  # 1 torso back, 2 torso front
            turned += bool(torso) and sum(i == 1 for i in torso) >= len(torso) / 3
    assert max(people) == 2 and min(people) >= 1
    assert turned >= 3


def test_unknown_preset_is_a_clear_error() -> None:
    from nas.data.synth.scene import scene_preset
    from nas.errors import DataError

    with pytest.raises(DataError, match="unknown scene preset 'crowds'; choose from coco, proxy, medium"):
        scene_preset("crowds")


def test_scene_settings_recorded_and_reused_by_show(tmp_path: Path) -> None:
    from nas.data.coco import load_densepose_coco
    from nas.data.show import exact_synthetic_iuv
    from nas.data.synth.scene import scene_from_dict, scene_preset

    cfg = SynthConfig(images=2, size=96, seed=1, val_fraction=0.5, scene=scene_preset("proxy"))
    out = generate_dataset(tmp_path / "p", cfg, progress=False).out
    info = read_json(out / "annotations" / "train.json")["info"]["generator"]
    assert scene_from_dict(info["scene"]) == scene_preset("proxy")
    record = load_densepose_coco(out / "annotations" / "train.json", out / "images").images[0]
    iuv = exact_synthetic_iuv(out / "annotations" / "train.json", record)
    assert iuv is not None and iuv[0] is not None and iuv[0][0].max() > 0  # re-rendered with the proxy scene
