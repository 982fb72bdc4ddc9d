"""The dataset the proxy benchmarks train on (nas.train.proxy.benchmark_data); nothing is rendered."""

from __future__ import annotations

from pathlib import Path

import pytest

from nas.errors import DataError
from nas.train.proxy import PROXY_DATA_IMAGES, PROXY_SCENE, benchmark_data


def _annotated(folder: Path, *splits: str) -> Path:
    """A folder in the synthetic layout holding the annotation files of ``splits``
    (their content is not read here)."""
    (folder / "annotations").mkdir(parents=True)
    (folder / "images").mkdir()
    (folder / "surface.npz").write_bytes(b"")
    for split in splits:
        (folder / "annotations" / f"{split}.json").write_text("{}")
    return folder


def test_a_given_dataset_is_checked_for_both_annotation_files(tmp_path: Path) -> None:
    given = _annotated(tmp_path / "given", "train", "val")
    assert benchmark_data(str(given), tmp_path / "cache") == given
    half = _annotated(tmp_path / "half", "train")
    with pytest.raises(DataError, match=r"half lacks .*val\.json.*; or give none for the benchmark's own synthetic set"):
        benchmark_data(half, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # nothing rendered for a given dataset


def test_a_given_descriptor_is_checked_and_used_as_it_is(tmp_path: Path) -> None:
    folder = _annotated(tmp_path / "coco", "train", "val")
    descriptor = tmp_path / "coco.yaml"
    descriptor.write_text("train: {annotations: coco/annotations/train.json, images: coco/images}\n"
                          "val: {annotations: coco/annotations/val.json, images: coco/images}\nsurface: coco/surface.npz\n")
    assert benchmark_data(descriptor, tmp_path / "cache") == descriptor
    (folder / "annotations" / "val.json").unlink()
    with pytest.raises(DataError, match=r"coco\.yaml: val\.annotations .*val\.json does not exist"):
        benchmark_data(descriptor, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_the_benchmarks_own_set_has_one_folder_per_size_and_scene(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    default = _annotated(cache / "bench_proxy_data", "train", "val")
    bigger = _annotated(cache / "bench_proxy_data_2000_medium", "train", "val")
    assert benchmark_data(None, cache) == default  # already rendered: reused as it is
    assert benchmark_data(None, cache, PROXY_DATA_IMAGES, PROXY_SCENE) == default
    assert benchmark_data(None, cache, 2000, "medium") == bigger
