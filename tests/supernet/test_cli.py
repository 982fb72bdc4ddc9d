"""``nas supernet train`` and ``nas supernet score`` from the command line: a tiny supernet
trained and scored as JSON; bad inputs refused with exit 2, one ``error:`` line and
nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nas.cli import main
from nas.shipped import TINY_SPACE, shipped
from nas.supernet.store import CHECKPOINT, META, WEIGHTS

TRAIN = ["supernet", "train", "--space", str(shipped(TINY_SPACE)), "--steps", "2", "--batch-size", "2", "--device", "cpu",
         "--threads", "1"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory, tiny_dataset) -> Path:
    out = tmp_path_factory.mktemp("cli") / "supernet"
    assert main([*TRAIN, "--data", str(tiny_dataset), "--out", str(out)]) == 0
    return out


def test_train_writes_the_supernet_folder(folder, capsys) -> None:
    assert {p.name for p in folder.iterdir()} == {CHECKPOINT, WEIGHTS, META}
    meta = json.loads((folder / META).read_text())
    assert meta["step"] == 2 and meta["space_name"] == "tiny" and meta["config"]["scheme"] == "uniform"
    assert len(meta["loss_curve"]["mean_loss"]) == 1


def test_score_prints_the_metrics_as_json(folder, tiny_dataset, tiny_space, capsys) -> None:
    capsys.readouterr()
    arch = tiny_space.sample(4).to_string()
    code = main(["supernet", "score", str(folder), arch, "--data", str(tiny_dataset), "--bn-batches", "1", "--val-images", "2",
                 "--device", "cpu", "--threads", "1", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["arch"] == arch and out["supernet_steps"] == 2 and 0 <= out["metrics"]["gps_ap"] <= 100
    assert set(out["seconds"]) == {"extract", "recalibrate", "evaluate"} and out["config"]["bn_batches"] == 1


@pytest.mark.parametrize(("args", "named"), [
    (["score", "{folder}", "densemobile"], "outside the search space 'tiny'"),
    (["score", "{missing}", "densemobile"], "does not exist"),
    (["score", "{corrupt}", "densemobile"], "cannot read weights file"),
    (["train", "--scheme", "greedy"], "unknown sampling scheme 'greedy'"),
    (["train", "--lr", "0"], "--lr must be positive"),
])
def test_bad_input_is_one_error_line(args, named, folder, tiny_dataset, tmp_path, capsys) -> None:
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / WEIGHTS).write_bytes(b"not a zip")
    filled = [a.format(folder=folder, missing=tmp_path / "missing", corrupt=corrupt) for a in args]
    if filled[0] == "train":
        argv = [*TRAIN, *filled[1:], "--data", str(tiny_dataset), "--out", str(tmp_path / "new")]
    else:
        argv = ["supernet", *filled, "--data", str(tiny_dataset)]
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and named in err and "Traceback" not in err
    assert not (tmp_path / "new").exists()  # a refused training writes nothing
