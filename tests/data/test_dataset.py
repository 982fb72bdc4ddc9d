"""The DensePose-COCO Dataset: round trip, transforms, flips, batching."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nas.data import DensePoseDataset, collate
from nas.data.coco import decode_coarse_masks, load_densepose_coco
from nas.data.parts import COARSE_FLIP, FINE_FLIP, FINE_TO_COARSE
from nas.data.sample import Sample
from nas.data.surface import BodySurface
from nas.data.synth.generate import SynthSummary
from nas.data.transforms import ColorJitter, Resize, flip_sample

from .conftest import read_json, write_json


def test_round_trip_matches_json(synth: SynthSummary) -> None:
    ds = DensePoseDataset(synth.train_json, synth.out / "images", input_size=None, train=False)
    coco = load_densepose_coco(synth.train_json, synth.out / "images")
    assert ds.image_ids == [r.image_id for r in coco.images] == [1, 2, 3, 4]
    for k, rec in enumerate(coco.images):
        img, t = ds[k]
        assert img.shape == (3, 128, 128) and img.dtype == torch.float32 and 0 <= img.min() and img.max() <= 1
        assert t["image_id"] == rec.image_id and not t["flipped"] and t["scale"] == 1.0
        for n, inst in enumerate(rec.instances):
            x, y, w, h = inst.bbox
            np.testing.assert_allclose(t["boxes"][n].numpy(), [x, y, x + w, y + h])
            assert bool(t["is_crowd"][n]) == inst.is_crowd
            assert bool(t["has_dp"][n]) == (inst.dp is not None)
            if inst.dp is None:
                assert not (t["dp_inst"] == n).any()
                continue
            sel = (t["dp_inst"] == n).numpy()
            np.testing.assert_allclose(t["dp_xy"][sel].numpy(), np.c_[inst.dp.x, inst.dp.y])
            np.testing.assert_array_equal(t["dp_I"][sel].numpy(), inst.dp.i)
            np.testing.assert_allclose(t["dp_U"][sel].numpy(), inst.dp.u)
            np.testing.assert_allclose(t["dp_V"][sel].numpy(), inst.dp.v)
            np.testing.assert_array_equal(t["dp_masks"][n].numpy(), decode_coarse_masks(inst.dp, rec.image_id, inst.ann_id))


def test_resize_keeps_points_on_their_parts(synth: SynthSummary) -> None:
    ds = DensePoseDataset(synth.train_json, synth.out / "images", input_size=(96, 160), train=False, mask_size=64)
    img, t = ds[0]
    assert img.shape == (3, 96, 160)
    assert t["image_size"] == (96, 96) and t["scale"] == pytest.approx(0.75)
    assert t["dp_masks"].shape[1:] == (64, 64)
    assert (img[:, :, 96:] == 0).all(), "padding is zero"
    raw = ds.load_sample(0)
    np.testing.assert_allclose(t["boxes"].numpy(), raw.boxes * 0.75, rtol=1e-6)
    # Points keep landing on their coarse part in the subsampled masks.
    cells = np.minimum((t["dp_xy"].numpy() * 64 / 256).astype(int), 63)
    lab = t["dp_masks"][t["dp_inst"], cells[:, 1], cells[:, 0]].numpy()
    assert (lab == FINE_TO_COARSE[t["dp_I"].numpy()]).mean() > 0.9


def test_flip_twice_is_identity(synth: SynthSummary) -> None:
    ds = DensePoseDataset(synth.train_json, synth.out / "images", input_size=None, train=False)
    surface = BodySurface.load(synth.surface)
    s = ds.load_sample(1)
    once = flip_sample(s, surface)
    twice = flip_sample(once, surface)
    assert once.flipped and not twice.flipped
    assert not np.array_equal(once.image, s.image)
    for name in ("image", "dp_i", "dp_masks", "dp_inst"):
        np.testing.assert_array_equal(getattr(twice, name), getattr(s, name), err_msg=name)
    for name in ("boxes", "dp_xy", "dp_u", "dp_v"):
        np.testing.assert_allclose(getattr(twice, name), getattr(s, name), atol=1e-5, err_msg=name)


def test_flip_mirrors_geometry_and_swaps_parts(synth: SynthSummary) -> None:
    ds = DensePoseDataset(synth.train_json, synth.out / "images", input_size=None, train=False)
    surface = BodySurface.load(synth.surface)
    s = ds.load_sample(0)
    f = flip_sample(s, surface)
    w = s.image.shape[1]
    np.testing.assert_allclose(f.points_in_image()[:, 0], w - s.points_in_image()[:, 0], atol=1e-4)
    np.testing.assert_array_equal(f.image, s.image[:, ::-1])
    np.testing.assert_array_equal(f.dp_i, FINE_FLIP[s.dp_i])
    np.testing.assert_array_equal(f.dp_masks, COARSE_FLIP[s.dp_masks[:, :, ::-1]])
    # Flipped points still sit on their (swapped) coarse part.
    c = np.minimum(f.dp_xy.astype(int), 255)
    np.testing.assert_array_equal(f.dp_masks[f.dp_inst, c[:, 1], c[:, 0]], FINE_TO_COARSE[f.dp_i])
    # A limb point keeps U, V; the torso's U is mirrored.
    torso = s.dp_i == 2
    np.testing.assert_allclose(f.dp_u[torso], 1 - s.dp_u[torso], atol=1e-6)
    limb = s.dp_i >= 3
    np.testing.assert_allclose(f.dp_u[limb & (s.dp_i <= 22)], s.dp_u[limb & (s.dp_i <= 22)], atol=1e-6)


def test_train_mode_skips_images_without_densepose(synth_copy: Path) -> None:
    ann = synth_copy / "annotations" / "train.json"
    data = read_json(ann)
    first = data["images"][0]["id"]
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] != first]
    write_json(ann, data)
    train = DensePoseDataset(ann, synth_copy / "images", train=True)
    evaluation = DensePoseDataset(ann, synth_copy / "images", train=False)
    assert first not in train.image_ids and first in evaluation.image_ids
    _, t = evaluation[evaluation.image_ids.index(first)]
    assert t["boxes"].shape == (0, 4) and t["dp_masks"].shape == (0, 256, 256)


def test_train_transforms_and_dataloader(synth: SynthSummary) -> None:
    torch.manual_seed(0)
    ds = DensePoseDataset(synth.train_json, synth.out / "images", input_size=(128, 128), train=True)
    assert ds.surface is not None and ds.surface.has_symmetry
    loader = torch.utils.data.DataLoader(ds, batch_size=3, collate_fn=collate, shuffle=False)
    seen = 0
    flips = set()
    for _ in range(4):
        for images, targets in loader:
            assert images.shape == (len(targets), 3, 128, 128)
            for t in targets:
                flips.add(t["flipped"])
                assert (t["dp_I"] >= 1).all() and (t["dp_I"] <= 24).all()
                assert ((t["dp_U"] >= 0) & (t["dp_U"] <= 1)).all()
                assert (t["boxes"][:, 2:] > t["boxes"][:, :2]).all()
                seen += 1
    assert seen == 4 * len(ds) and flips == {True, False}


def test_collate_pads_to_largest() -> None:
    a = (torch.ones(3, 10, 20), {"image_id": 1})
    b = (torch.ones(3, 16, 8), {"image_id": 2})
    images, targets = collate([a, b])  # type: ignore[list-item]
    assert images.shape == (2, 3, 16, 20)
    assert images[0, :, 10:].abs().sum() == 0 and images[1, :, :, 8:].abs().sum() == 0
    assert [t["image_id"] for t in targets] == [1, 2]


def test_color_jitter_changes_only_pixels() -> None:
    img = (np.random.default_rng(0).random((20, 30, 3)) * 255).astype(np.uint8)
    s = Sample(image=img, boxes=np.zeros((0, 4), np.float32), is_crowd=np.zeros(0, bool), has_dp=np.zeros(0, bool),
               ann_ids=np.zeros(0, np.int64), dp_inst=np.zeros(0, np.int64), dp_xy=np.zeros((0, 2), np.float32),
               dp_i=np.zeros(0, np.int64), dp_u=np.zeros(0, np.float32), dp_v=np.zeros(0, np.float32),
               dp_masks=np.zeros((0, 256, 256), np.uint8), image_id=1, orig_size=(20, 30))
    torch.manual_seed(1)
    out = ColorJitter(0.5, 0.5, 0.5)(s)
    assert out.image.shape == img.shape and out.image.dtype == np.uint8 and not np.array_equal(out.image, img)
    r = Resize((10, 10))(s)
    assert r.image.shape == (10, 10, 3) and r.valid_size == (7, 10)
