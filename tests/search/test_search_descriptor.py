"""A one-trial ``nas search`` on a dataset in DensePose-COCO's official layout given by its
descriptor YAML (train2014/ and val2014/, DensePose's evaluation files as the surface),
and ``--resume`` refusing the dataset once an annotation file changed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from nas.cli import main
from nas.runs.store import ResultsStore
from nas.search.dataset import DATASET_FILE
from tests.search.conftest import TINY_SPACE


@pytest.fixture(scope="module")
def descriptor_run(tiny_dataset: Path, tiny_table: Path, tmp_path_factory) -> tuple[Path, Path]:
    """(descriptor, run folder) of a finished one-trial search (random sampler, 2 steps)."""
    from nas.data.official import write_official_layout

    root = tmp_path_factory.mktemp("descriptor_search")
    descriptor = write_official_layout(tiny_dataset, root / "coco").descriptor
    out = root / "run"
    code = main(["search", "--out", str(out), "--space", str(TINY_SPACE), "--table", str(tiny_table), "--data", str(descriptor),
                 "--trials", "1", "--no-baselines", "--budget-steps", "2", "--batch-size", "2", "--evals", "1", "--val-images", "2",
                 "--proxy-input", "128", "96", "--device", "cpu", "--sampler", "random", "--seed", "3",
                 "--min-gps-ap", "0"])  # a 2-step proxy learns nothing: without the floor its trial is the front
    assert code == 0
    return descriptor, out


def _resume(out: Path, capsys, *extra: str) -> tuple[int, str, str]:
    code = main(["search", "--out", str(out), "--resume", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_a_search_on_a_descriptor_trains_and_records_the_dataset(descriptor_run: tuple[Path, Path]) -> None:
    descriptor, out = descriptor_run
    rows = list(ResultsStore(out).rows().values())
    assert [(r.kind, r.status) for r in rows] == [("search", "finished")] and rows[0].steps == 2
    assert json.loads((out / "config.json").read_text())["data"] == str(descriptor.resolve())
    record = json.loads((out / DATASET_FILE).read_text())
    assert record["descriptor"] == descriptor.read_text()
    assert record["files"]["val.images"]["path"] == str((descriptor.parent / "val2014").resolve())
    assert "surface/Pdist_matrix.pkl" in record["files"]  # the official surface files are part of the record


@pytest.mark.slow
def test_export_calibrates_int8_on_a_descriptor(descriptor_run: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    descriptor, out = descriptor_run
    code = main(["export", str(out), "--out", str(tmp_path / "export"), "--int8", "--calibration-data", str(descriptor)])
    assert code == 0, capsys.readouterr().err
    (folder,) = [p for p in (tmp_path / "export").iterdir() if p.is_dir()]
    assert (folder / "model_int8.pte").is_file()
    card = (folder / "MODEL_CARD.md").read_text()
    assert f"calibrated on 8 training images of `{descriptor}`; on 2 of its validation images" in card


@pytest.mark.slow
def test_resume_accepts_the_same_dataset_and_refuses_a_changed_one(descriptor_run: tuple[Path, Path], capsys) -> None:
    descriptor, out = descriptor_run
    code, stdout, err = _resume(out, capsys)
    assert code == 0, err
    assert "0 of 1 trial(s) to run" in stdout  # complete: nothing to train, no Ray started
    # a run moved with its data names the descriptor relative to the run folder, as a folder would be
    config = json.loads((out / "config.json").read_text())
    config["data"] = os.path.relpath(descriptor, out)
    (out / "config.json").write_text(json.dumps(config))
    code, _, err = _resume(out, capsys)
    assert code == 0, err

    val = descriptor.parent / "annotations" / "densepose_coco_2014_minival.json"
    size = val.stat().st_size
    val.write_text(json.dumps(json.loads(val.read_text()), indent=1))  # the same annotations, another file
    config_before = (out / "config.json").read_bytes()
    code, _, err = _resume(out, capsys, "--trials", "2")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith(f"error: the dataset {descriptor} changed since the run {out} recorded it in {DATASET_FILE}: "
                               f"val.annotations {val.resolve()} was {size} bytes modified ")
    assert f"now {val.stat().st_size} bytes modified" in lines[0] and f"delete {out / DATASET_FILE}" in lines[0]
    assert (out / "config.json").read_bytes() == config_before  # refused before --trials 2 was saved
    assert not (out / "ray").exists() or not list((out / "ray").glob("session-1*"))
