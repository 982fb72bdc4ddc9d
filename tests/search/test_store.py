"""Results store: row schema, upsert, atomic tables, round trip through parquet and CSV."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from nas.errors import ResultsError
from nas.runs.rows import COLUMNS, TrialRow
from nas.runs.store import ResultsStore, journal_storage


def _row(name: str, status: str = "finished", **values: object) -> TrialRow:
    return TrialRow(trial=name, number=int(name[1:]) if name.startswith("t") else -1, kind="search" if name.startswith("t") else "baseline",
                    baseline="" if name.startswith("t") else name[2:], arch="a", arch_id="id", status=status, **values)  # type: ignore[arg-type]


def test_round_trip_and_upsert(tmp_path):
    store = ResultsStore(tmp_path / "run")
    store.put(_row("t0001", gps_ap=12.5, latency_ms=3.25, params=1000, macs=2000, node="n1"))
    store.put(_row("b-densemobile", gps_ap=20.0, latency_ms=9.0))
    store.put(_row("t0000", status="rejected", latency_ms=99.0))
    store.put(_row("t0001", gps_ap=13.0, latency_ms=3.25))  # replaced, not duplicated
    again = ResultsStore(tmp_path / "run")
    rows = again.rows()
    assert sorted(rows) == ["b-densemobile", "t0000", "t0001"]
    assert rows["t0001"].gps_ap == 13.0 and rows["t0001"].params == -1
    assert math.isnan(rows["t0000"].gps_ap) and rows["t0000"].status == "rejected"
    frame = again.frame()
    assert list(frame.columns) == list(COLUMNS)
    assert list(frame.trial) == ["b-densemobile", "t0000", "t0001"]  # baselines first, then Optuna order
    csv = pd.read_csv(tmp_path / "run" / "trials.csv")
    assert list(csv.trial) == list(frame.trial) and csv.gps_ap.iloc[2] == 13.0
    assert not list((tmp_path / "run").glob(".*tmp"))  # no temporary files left behind


def test_a_folder_without_parquet_reads_its_csv(tmp_path):
    """A copied or trimmed run (results/demo-example keeps trials.csv only) reads the same
    rows from its CSV: missing numbers stay -1 or NaN, texts with commas survive."""
    written = ResultsStore(tmp_path / "run")
    written.put(_row("t0001", gps_ap=12.5, latency_ms=3.25, params=1000, macs=2000, node="10.0.0.2/ab12", error=""))
    written.put(_row("t0002", status="failed", error="training diverged at step 3: loss nan (rpn 1, box 2)"))
    written.put(_row("b-densemobile", gps_ap=20.0, latency_ms=9.0))
    (tmp_path / "run" / "trials.parquet").unlink()
    rows = ResultsStore(tmp_path / "run").rows()
    expected = written.rows()
    assert sorted(rows) == sorted(expected)
    for name, row in rows.items():
        for column in COLUMNS:
            got, want = getattr(row, column), getattr(expected[name], column)
            assert got == want or (isinstance(want, float) and math.isnan(want) and math.isnan(got)), (name, column, got, want)
    (tmp_path / "run" / "trials.csv").write_text("trial,number\nt0001,one\n")
    with pytest.raises(ResultsError, match=r"trials.csv is corrupt \(invalid literal for int"):
        ResultsStore(tmp_path / "run").rows()
    (tmp_path / "run" / "trials.csv").write_text("name,score\nx,1\n")
    with pytest.raises(ResultsError, match="trials.csv is not a trials table: it has no 'trial' column"):
        ResultsStore(tmp_path / "run").rows()


def test_bad_status_and_corrupt_files(tmp_path):
    with pytest.raises(ValueError, match="unknown status"):
        _row("t0001", status="done")
    store = ResultsStore(tmp_path)
    (tmp_path / "trials.parquet").write_bytes(b"not parquet")
    with pytest.raises(ResultsError, match="corrupt"):
        store.rows()
    with pytest.raises(ResultsError, match="no config.json"):
        ResultsStore(tmp_path / "none").load_config()


def test_counts():
    assert _row("t0001").counts and _row("t0002", status="stopped").counts and _row("t0003", status="failed").counts
    assert not _row("t0004", status="rejected").counts


def test_journal_storage_is_the_runs_study_journal(tmp_path):
    import optuna

    store = ResultsStore(tmp_path / "new" / "run")
    study = optuna.create_study(study_name="s", storage=journal_storage(store))  # the folder is created for it
    study.add_trial(optuna.trial.create_trial(params={}, distributions={}, value=1.0))
    assert store.journal_path.is_file()
    again = optuna.load_study(study_name="s", storage=journal_storage(ResultsStore(store.root)))
    assert [t.value for t in again.trials] == [1.0]


def test_the_runs_package_exports_what_it_lists():
    import nas.runs

    assert dir(nas.runs) == sorted(nas.runs.__all__)
    assert all(getattr(nas.runs, name) is not None for name in nas.runs.__all__)


def test_relative_config_paths_are_read_relative_to_the_run_folder(tmp_path, monkeypatch):
    """A run committed or moved with its inputs (results/demo-example) records them
    relative to itself; absolute paths are kept as written."""
    import json
    import os

    run = tmp_path / "results" / "example"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"out": ".", "table": "../../tables/t", "data": "/abs/data", "trials": 3}))
    monkeypatch.chdir(tmp_path)
    config = ResultsStore("results/example").load_config()
    assert config["out"] == os.path.join("results", "example")
    assert config["table"] == "tables/t"  # from the working folder: the run's ../../tables/t
    assert config["data"] == "/abs/data" and config["trials"] == 3
