"""The dataset a search run records (RUN/dataset.json) and the changes --resume refuses
(nas.search.dataset); no search is run here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nas.data.source import DatasetSource
from nas.errors import SearchError
from nas.search.dataset import DATASET_FILE, check_unchanged, dataset_changes, record_dataset
from tests.train.descriptor import split_descriptor


@pytest.fixture
def split(tiny_dataset: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(descriptor, run folder) with the dataset recorded."""
    descriptor = split_descriptor(tiny_dataset, tmp_path / "coco")
    run = tmp_path / "run"
    run.mkdir()
    record_dataset(run, DatasetSource.load(descriptor))
    return descriptor, run


def _check(descriptor: Path, run: Path) -> None:
    check_unchanged(run, DatasetSource.load(descriptor))


def test_the_record_holds_the_descriptor_and_each_files_state(split: tuple[Path, Path]) -> None:
    descriptor, run = split
    record = json.loads((run / DATASET_FILE).read_text())
    assert record["descriptor"] == descriptor.read_text() and record["origin"] == str(descriptor.resolve())
    files = record["files"]
    assert sorted(files) == ["surface", "train.annotations", "train.images", "val.annotations", "val.images"]
    val = descriptor.parent / "annotations" / "dp_val.json"
    assert files["val.annotations"] == {"path": str(val.resolve()), "size": val.stat().st_size, "mtime_ns": val.stat().st_mtime_ns}
    assert files["val.images"]["entries"] == len(list((descriptor.parent / "val_images").iterdir())) == 2
    _check(descriptor, run)  # unchanged: accepted


def test_a_changed_annotation_file_is_named_with_its_size_and_time_then_and_now(split: tuple[Path, Path]) -> None:
    descriptor, run = split
    train = descriptor.parent / "annotations" / "dp_train.json"
    before = train.stat().st_size
    train.write_text(train.read_text() + "\n")
    with pytest.raises(SearchError) as caught:
        _check(descriptor, run)
    message = str(caught.value)
    assert message.startswith(f"the dataset {descriptor} changed since the run {run} recorded it in {DATASET_FILE}: "
                              f"train.annotations {train.resolve()} was {before} bytes modified ")
    assert f" UTC, now {before + 1} bytes modified " in message and "\n" not in message
    assert message.endswith(f"delete {run / DATASET_FILE} and resume again to record the dataset as it is now")


def test_an_edited_descriptor_and_a_changed_image_folder_are_named(split: tuple[Path, Path]) -> None:
    descriptor, run = split
    text = descriptor.read_text()
    descriptor.write_text(text + "# a comment changes nothing it names, but the descriptor is compared whole\n")
    with pytest.raises(SearchError, match=f"the descriptor {descriptor.resolve()} was edited"):
        _check(descriptor, run)
    descriptor.write_text(text)
    _check(descriptor, run)  # the same text again: accepted (the descriptor's own time is not compared)
    extra = descriptor.parent / "val_images" / "extra.jpg"
    extra.write_bytes(b"")
    with pytest.raises(SearchError, match=r": val\.images .*val_images was 2 entries, now 3 entries\. Its trials"):
        _check(descriptor, run)
    extra.unlink()
    _check(descriptor, run)


def test_a_run_without_a_record_resumes_and_is_recorded(split: tuple[Path, Path]) -> None:
    descriptor, run = split
    recorded = (run / DATASET_FILE).read_text()
    (run / DATASET_FILE).unlink()  # a run from before runs recorded their dataset
    _check(descriptor, run)
    assert (run / DATASET_FILE).read_text() == recorded


def test_a_damaged_record_is_refused_with_what_to_do(split: tuple[Path, Path]) -> None:
    descriptor, run = split
    (run / DATASET_FILE).write_text('{"format": "something else"}')
    with pytest.raises(SearchError, match=f"{run / DATASET_FILE} is not a dataset record .*; delete it to resume"):
        _check(descriptor, run)
    (run / DATASET_FILE).write_text("{")
    with pytest.raises(SearchError, match=f"{run / DATASET_FILE} is unreadable"):
        _check(descriptor, run)


def _fingerprint(**files: dict) -> dict:
    return {"origin": "/d/coco.yaml", "descriptor": "train: ...", "files": files}


def test_changes_by_hand() -> None:
    npz = {"path": "/d/surface.npz", "size": 10, "mtime_ns": 1_700_000_000_123_456_789}
    assert dataset_changes(_fingerprint(surface=npz), _fingerprint(surface={**npz, "path": "/moved/surface.npz"})) == []
    touched = {**npz, "mtime_ns": npz["mtime_ns"] + 5_000_000}  # 5 ms later, same size
    assert dataset_changes(_fingerprint(surface=npz), _fingerprint(surface=touched)) == [
        "surface /d/surface.npz was 10 bytes modified 2023-11-14 22:13:20.123 UTC, now 10 bytes modified 2023-11-14 22:13:20.128 UTC"]
    mat = {"path": "/eval/SMPL_subdiv.mat", "size": 3, "mtime_ns": 0}
    symmetry = {"path": "/eval/UV_symmetry_transforms.mat", "size": 4, "mtime_ns": 0}
    assert dataset_changes(_fingerprint(**{"surface/SMPL_subdiv.mat": mat}),
                           _fingerprint(**{"surface/SMPL_subdiv.mat": mat, "surface/UV_symmetry_transforms.mat": symmetry})) == [
        "surface/UV_symmetry_transforms.mat /eval/UV_symmetry_transforms.mat was added"]
    assert dataset_changes(_fingerprint(surface=npz), {**_fingerprint(surface=npz), "descriptor": None}) == [
        "/d/coco.yaml was a descriptor, now a dataset folder"]
