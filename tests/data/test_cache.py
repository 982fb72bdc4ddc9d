"""The decoded-sample cache, and the transforms' values staying those of their plain formulas."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from nas.data import DensePoseDataset, collate
from nas.data.cache import CACHE_ENV, DEFAULT_CACHE_MB, SampleCache, cache_budget_bytes, sample_nbytes
from nas.data.sample import Sample, to_tensors
from nas.data.synth.generate import SynthSummary
from nas.data.transforms import ColorJitter, flip_sample
from nas.errors import DataError


def _items(ds: DensePoseDataset, seed: int, epochs: int = 3) -> list[tuple[torch.Tensor, dict]]:
    torch.manual_seed(seed)
    return [ds[k] for _ in range(epochs) for k in range(len(ds))]


def _assert_same_items(a: list, b: list) -> None:
    assert len(a) == len(b)
    for (ia, ta), (ib, tb) in zip(a, b):
        assert torch.equal(ia, ib)
        assert ta.keys() == tb.keys()
        for key in ta:
            if isinstance(ta[key], torch.Tensor):
                assert torch.equal(ta[key], tb[key]), key
            else:
                assert ta[key] == tb[key], key


def test_cached_items_equal_uncached_ones_for_the_same_seed(synth_copy: Path) -> None:
    ann, images = synth_copy / "annotations" / "train.json", synth_copy / "images"
    plain = DensePoseDataset(ann, images, input_size=(96, 64), mask_size=32)
    cached = DensePoseDataset(ann, images, input_size=(96, 64), mask_size=32, cache_bytes=1 << 30)
    first = _items(cached, seed=3)  # fills the cache
    assert cached.cache is not None and len(cached.cache) == len(cached) and cached.cache.refused == 0
    assert {t["flipped"] for _, t in first} == {True, False}, "both flip branches exercised"
    _assert_same_items(first, _items(plain, seed=3))
    # The images are gone: only the cache can serve the items now, still the same values.
    shutil.rmtree(images)
    _assert_same_items(_items(cached, seed=3), first)
    with pytest.raises(DataError, match="does not exist"):
        plain[0]


def test_cache_keeps_no_sample_past_its_budget(synth_copy: Path) -> None:
    ann, images = synth_copy / "annotations" / "train.json", synth_copy / "images"
    plain = DensePoseDataset(ann, images, input_size=None)
    sizes = [sample_nbytes(plain.load_sample(k)) for k in range(len(plain))]
    assert len(sizes) >= 3
    budget = sizes[0] + sizes[1]
    ds = DensePoseDataset(ann, images, input_size=None, cache_bytes=budget)
    for k in range(len(ds)):
        ds.load_sample(k)
    assert ds.cache is not None and 0 in ds.cache and 1 in ds.cache
    assert ds.cache.nbytes == budget <= ds.cache.max_bytes
    assert all(k not in ds.cache for k in range(2, len(ds))) and ds.cache.refused == len(ds) - 2
    # Items past the budget are decoded at every access: they need their files.
    (images / Path(ds.records[2].path).name).unlink()
    ds.load_sample(0)
    with pytest.raises(DataError, match="does not exist"):
        ds.load_sample(2)


def test_cache_hands_out_copies(synth: SynthSummary) -> None:
    ds = DensePoseDataset(synth.train_json, synth.out / "images", input_size=None, cache_bytes=1 << 30)
    a = ds.load_sample(0)
    a.image[:] = 0
    a.boxes += 5
    a.dp_masks[:] = 99
    b = ds.load_sample(0)
    assert b.image.any() and not np.shares_memory(a.image, b.image)
    assert (b.dp_masks <= 14).all()
    np.testing.assert_array_equal(b.boxes, DensePoseDataset(synth.train_json, synth.out / "images",
                                                            input_size=None).load_sample(0).boxes)


def test_cache_off_and_bad_budgets(monkeypatch: pytest.MonkeyPatch, synth: SynthSummary) -> None:
    assert DensePoseDataset(synth.train_json, synth.out / "images").cache is None
    monkeypatch.delenv(CACHE_ENV, raising=False)
    assert cache_budget_bytes() == DEFAULT_CACHE_MB << 20
    monkeypatch.setenv(CACHE_ENV, "16")
    assert cache_budget_bytes() == 16 << 20
    monkeypatch.setenv(CACHE_ENV, "0")
    assert cache_budget_bytes() == 0
    for bad in ("-1", "1.5", "lots"):
        monkeypatch.setenv(CACHE_ENV, bad)
        with pytest.raises(DataError, match=f"{CACHE_ENV}='{bad}' is not a whole number of MiB"):
            cache_budget_bytes()
    with pytest.raises(ValueError, match="max_bytes"):
        SampleCache(-1)


def _sample(image: np.ndarray) -> Sample:
    return Sample(image=image, boxes=np.zeros((0, 4), np.float32), is_crowd=np.zeros(0, bool), has_dp=np.zeros(0, bool),
                  ann_ids=np.zeros(0, np.int64), dp_inst=np.zeros(0, np.int64), dp_xy=np.zeros((0, 2), np.float32),
                  dp_i=np.zeros(0, np.int64), dp_u=np.zeros(0, np.float32), dp_v=np.zeros(0, np.float32),
                  dp_masks=np.zeros((0, 8, 8), np.uint8), image_id=1, orig_size=image.shape[:2])


def test_jitter_gives_the_pixels_of_its_formula() -> None:
    """Bit for bit the plain broadcast formula the transform was first written as (float32
    brightness and mean, float64 from the contrast factor on, truncation to uint8), so
    proxy scores trained before the speed-up stay reproducible."""
    rng = np.random.default_rng(0)
    luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    jitter = ColorJitter(0.4, 0.4, 0.4)
    for k in range(20):
        img = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
        torch.manual_seed(k)
        f = 1.0 + (torch.rand(3) * 2 - 1).numpy() * np.array([0.4, 0.4, 0.4])
        ref = img.astype(np.float32)
        ref *= f[0]
        mean = ref.mean()
        ref = (ref - mean) * f[1] + mean
        gray = ref @ luma
        ref = np.clip((ref - gray[..., None]) * f[2] + gray[..., None], 0, 255).astype(np.uint8)
        torch.manual_seed(k)
        np.testing.assert_array_equal(jitter(_sample(img)).image, ref)


def test_flip_and_to_tensors_values(synth: SynthSummary) -> None:
    ds = DensePoseDataset(synth.train_json, synth.out / "images", input_size=None)
    assert ds.surface is not None
    raw = ds.load_sample(0)
    flipped = flip_sample(raw, ds.surface)
    assert flipped.image.flags.c_contiguous
    np.testing.assert_array_equal(flipped.image, raw.image[:, ::-1])
    img, _ = to_tensors(raw)
    assert img.is_contiguous() and img.dtype == torch.float32
    assert torch.equal(img, torch.from_numpy(raw.image).permute(2, 0, 1).float() / 255.0)
    hot = _sample(np.full((4, 6, 3), 300.0, dtype=np.float32))
    assert torch.equal(to_tensors(hot)[0], torch.ones(3, 4, 6)), "float images are clamped to [0, 1]"


def test_collate_of_equal_sizes_is_a_stack() -> None:
    items = [(torch.rand(3, 8, 6), {"image_id": k}) for k in range(3)]
    images, targets = collate(items)  # type: ignore[arg-type]
    assert images.shape == (3, 3, 8, 6) and images.is_contiguous()
    assert all(torch.equal(images[k], items[k][0]) for k in range(3)) and [t["image_id"] for t in targets] == [0, 1, 2]
