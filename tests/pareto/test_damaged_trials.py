"""``nas pareto`` on damaged or partial trial tables: a table cut mid-row or holding a
latency no search writes is refused naming the file and row; finished trials without a
score are left out and said, never dropped without a word."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from nas.cli import main
from nas.errors import ResultsError
from nas.pareto import analyse
from nas.runs.rows import COLUMNS, TrialRow
from nas.runs.store import ResultsStore


def _row(trial: str, ap: float, ms: float, status: str = "finished") -> TrialRow:
    return TrialRow(trial=trial, number=int(trial[1:]), kind="search", baseline="", arch=f"arch-{trial}", arch_id=trial,
                    status=status, gps_ap=ap, gpsm_ap=ap, latency_ms=ms, params=1000, macs=1000, node="192.0.2.1",
                    error="")


ROWS = [_row("t0000", 10.0, 5.0), _row("t0001", 12.0, 8.0), _row("t0002", 14.0, 9.0), _row("t0003", 16.0, 12.0)]


def _run(tmp_path: Path, rows: list[TrialRow], parquet: bool = False) -> ResultsStore:
    """A run folder holding ``rows``; with only trials.csv (a copied run) unless ``parquet``."""
    store = ResultsStore(tmp_path / "run")
    store.save_config({"format": "nas-search-run", "max_latency_ms": None, "table": str(tmp_path / "no-table")})
    store.put_many(rows)
    if not parquet:
        store.parquet_path.unlink()
    return store


def _pareto(capsys, store: ResultsStore) -> tuple[int, str, str]:
    code = main(["pareto", str(store.root), "--plots", str(store.root.parent / "plots")])
    out = capsys.readouterr()
    return code, out.out, out.err


def _one_error(code: int, err: str) -> str:
    lines = err.splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("keep", [0.4, 0.7, 0.995], ids=["early", "mid", "in-the-last-field"])
def test_a_table_cut_mid_row_is_refused_naming_file_and_row(tmp_path: Path, capsys, keep: float) -> None:
    store = _run(tmp_path, ROWS)
    text = store.csv_path.read_text()
    last = text.rstrip("\n").rsplit("\n", 1)[1]
    store.csv_path.write_text(text[: len(text) - 1 - len(last) + int(len(last) * keep)])
    line = _one_error(*_pareto(capsys, store)[::2])
    assert str(store.csv_path) in line and "row 4 (line 5)" in line and "restore it from a copy" in line
    assert not (tmp_path / "plots").exists()


def test_a_table_cut_inside_its_last_field_is_refused(tmp_path: Path, capsys) -> None:
    """Every field is there, the last one shortened: only the missing line end tells."""
    failed = _row("t0004", math.nan, 3.0, status="failed")
    failed.error = "trial raised or its node died more often than --max-failures allows"
    store = _run(tmp_path, ROWS + [failed])
    store.csv_path.write_text(store.csv_path.read_text()[:-20])
    line = _one_error(*_pareto(capsys, store)[::2])
    assert line.startswith(f"error: {store.csv_path} ends in the middle of row 5 (line 6, no line end after it)")


def test_a_row_cut_short_within_the_file_is_refused(tmp_path: Path, capsys) -> None:
    store = _run(tmp_path, ROWS)
    lines = store.csv_path.read_text().splitlines(keepends=True)
    lines[2] = lines[2][: len(lines[2]) // 2] + "\n"
    store.csv_path.write_text("".join(lines))
    line = _one_error(*_pareto(capsys, store)[::2])
    assert "row 2 (line 3) (trial t0001) has" in line and f"of the header's {len(COLUMNS)} fields" in line


@pytest.mark.parametrize("value", ["-50", "inf"])
def test_a_latency_no_search_writes_is_refused_naming_row_and_field(tmp_path: Path, capsys, value: str) -> None:
    store = _run(tmp_path, ROWS)
    store.csv_path.write_text(store.csv_path.read_text().replace(",9.0,", f",{value},", 1))
    line = _one_error(*_pareto(capsys, store)[::2])
    assert f"{store.csv_path} row 3 (line 4): trial t0002: latency_ms {value.replace('inf', 'inf')}" in line


def test_the_parquet_table_is_checked_too(tmp_path: Path) -> None:
    store = _run(tmp_path, ROWS[:2] + [_row("t0002", 14.0, -50.0)], parquet=True)
    with pytest.raises(ResultsError, match=r"trials\.parquet row 3: trial t0002: latency_ms -50"):
        analyse(store.root)


def test_the_parquet_table_is_the_truth_over_a_cut_csv(tmp_path: Path) -> None:
    store = _run(tmp_path, ROWS, parquet=True)
    store.csv_path.write_text(store.csv_path.read_text()[:-40])
    assert [p.trial for p in analyse(store.root).front] == ["t0000", "t0001", "t0002", "t0003"]


def test_a_trial_given_twice_is_refused(tmp_path: Path) -> None:
    store = _run(tmp_path, ROWS)
    lines = store.csv_path.read_text().splitlines(keepends=True)
    store.csv_path.write_text("".join(lines + [lines[1].replace(",10.0,", ",99.0,")]))
    with pytest.raises(ResultsError, match=r"trials\.csv row 5 \(line 6\): trial t0000 is given twice"):
        analyse(store.root)


def test_finished_trials_without_a_score_are_left_out_and_said(tmp_path: Path, capsys) -> None:
    # t0001: no AP (an evaluation that returned none); t0003: undefined (-1, nobody to score)
    rows = [ROWS[0], _row("t0001", math.nan, 8.0), ROWS[2], _row("t0003", -1.0, 1.0)]
    store = _run(tmp_path, rows)
    code, out, err = _pareto(capsys, store)
    assert code == 0
    assert err.strip() == "note: left out 2 finished trials without a GPS AP (t0001, t0003)"
    assert "t0003" not in out and "t0001" not in out and "t0002" in out
    report = analyse(store.root)
    assert [p.trial for p in report.front] == ["t0000", "t0002"] and report.no_score == ["t0001", "t0003"]
    assert main(["pareto", str(store.root), "--plots", str(tmp_path / "plots"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["left_out"] == {"no_score": ["t0001", "t0003"], "no_cost": []}


def test_finished_trials_without_a_cost_are_left_out_and_said(tmp_path: Path, capsys) -> None:
    rows = [ROWS[0], ROWS[1], _row("t0002", 14.0, math.nan)]
    store = _run(tmp_path, rows)
    code, _, err = _pareto(capsys, store)
    assert code == 0 and err.strip() == "note: left out 1 finished trial without a latency (t0002)"


def test_a_whole_table_has_no_note(tmp_path: Path, capsys) -> None:
    code, out, err = _pareto(capsys, _run(tmp_path, ROWS))
    assert code == 0 and err == "" and "4 on the front of 4 finished trials" in out


def test_a_trial_under_the_runs_learned_floor_is_a_point_but_not_on_the_front(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "run")
    store.save_config({"format": "nas-search-run", "max_latency_ms": None, "table": str(tmp_path / "no-table"),
                       "objective": {"kind": "pareto", "min_gps_ap": 1.0}})
    store.put_many([*ROWS, _row("t0004", 0.0, 1.0), _row("t0005", 0.5, 2.0)])  # fast, and learned nothing
    report = analyse(store.root)
    assert [p.trial for p in report.front] == ["t0000", "t0001", "t0002", "t0003"]
    assert {"t0004", "t0005"} <= {p.trial for p in report.points}
