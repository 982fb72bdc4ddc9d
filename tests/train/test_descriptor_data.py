"""Training and evaluation on a dataset given by a descriptor YAML whose train and val
images live in two different folders (issue 35)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch

from nas.cli import main
from nas.data.source import DatasetSource
from nas.model.rcnn import build_densepose_rcnn
from nas.train import Evaluator, TrainConfig
from nas.train.budget import Budget
from nas.train.session import set_up
from tests.train.descriptor import split_descriptor
from tests.train.test_train import ARCH

SMALL = TrainConfig(budget=Budget(steps=2), input_size=(128, 96), batch_size=2, evals=1, val_images=2, seed=1, device="cpu")


@pytest.fixture(scope="module")
def descriptor(tiny_dataset: Path, tmp_path_factory) -> Path:
    return split_descriptor(tiny_dataset, tmp_path_factory.mktemp("split") / "coco")


def test_each_split_reads_its_own_image_folder(descriptor: Path) -> None:
    session = set_up(ARCH, descriptor, SMALL)
    root = descriptor.parent
    assert {Path(r.path).parent for r in session.train_set.coco.images} == {root / "train_images"}
    assert {Path(r.path).parent for r in session.evaluator.dataset.dataset.coco.images} == {root / "val_images"}
    assert session.evaluator.gt == root / "annotations" / "dp_val.json"
    # one surface, read once, serves the training flips and the evaluation
    assert session.train_set.surface is session.evaluator.surface and session.train_set.surface.has_symmetry


def test_the_descriptor_scores_as_the_folder_it_was_built_from(descriptor: Path, tiny_dataset: Path) -> None:
    torch.manual_seed(0)
    model = build_densepose_rcnn(ARCH).eval()
    config = TrainConfig(input_size=(128, 96), val_images=None, device="cpu")
    by_folder = Evaluator(DatasetSource.load(tiny_dataset), config, torch.device("cpu"), box_source="gt")(model)
    by_descriptor = Evaluator(DatasetSource.load(descriptor), config, torch.device("cpu"), box_source="gt")(model)
    assert by_descriptor == by_folder and by_folder["detections"] > 0


def test_nas_train_on_a_descriptor(descriptor: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code = main(["train", ARCH.to_string(), "--data", str(descriptor), "--budget-steps", "2", "--proxy-input", "128", "96",
                 "--batch-size", "2", "--evals", "1", "--val-images", "2", "--device", "cpu", "--out", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    metrics = json.loads(captured.out)
    assert metrics["steps"] == 2 and -1 <= metrics["gps_ap"] <= 100
    assert json.loads((out / "metrics.json").read_text())["metrics"] == metrics


def test_nas_train_names_the_missing_piece_of_a_descriptor(descriptor: Path, capsys) -> None:
    broken = descriptor.with_name("broken.yaml")  # beside it: the same relative paths
    broken.write_text(descriptor.read_text().replace("images: val_images", "images: no_such_folder"))
    try:
        code = main(["train", ARCH.to_string(), "--data", str(broken), "--budget-steps", "1", "--device", "cpu"])
    finally:
        broken.unlink()
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0] == f"error: {broken}: val.images {descriptor.parent / 'no_such_folder'} does not exist"


@pytest.mark.slow
def test_training_on_densepose_official_files_flips_only_with_the_symmetry_file(tiny_dataset: Path, tmp_path: Path) -> None:
    from nas.data.official import write_official_layout
    from nas.data.surface import SYMMETRY_FILE

    layout = write_official_layout(tiny_dataset, tmp_path / "densepose_coco")  # ~10 s: the body's geodesics
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: the symmetry file enables flips
        session = set_up(ARCH, layout.descriptor, SMALL)
    assert session.train_set.surface is session.evaluator.surface and session.train_set.surface.has_symmetry
    (layout.surface / SYMMETRY_FILE).unlink()
    with pytest.warns(UserWarning, match="horizontal flip disabled"):
        session = set_up(ARCH, layout.descriptor, SMALL)
    assert not session.train_set.surface.has_symmetry
