"""Latency tables: round trip, prediction = sum of rows, corrupt/foreign/missing errors, CLI predict."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from nas.errors import MissingKeysError, TableError
from nas.latency.keys import op_keys, space_keys
from nas.latency.opkinds import key_kind
from nas.latency.stats import OpStats
from nas.latency.table import FORMAT, VERSION, LatencyTable

from .conftest import TINY_SPACE, run_nas


def make_table(path: Path, keys: list[str], skip: int = 0) -> LatencyTable:
    meta = {"format": FORMAT, "version": VERSION, "runtime": "torch", "device": "cpu", "threads": 1, "dtype": "fp32", "space": {"path": str(TINY_SPACE)}}
    table = LatencyTable(path, meta)
    for i, key in enumerate(keys[skip:]):
        ms = 0.1 + 0.01 * i  # ms, distinct per row so a wrong lookup shows
        table.add(key, OpStats(ms, ms * 0.9, ms * 1.2, ms * 0.05, 15))
    table.save()
    return table


@pytest.fixture()
def table_dir(tmp_path, tiny_space) -> Path:
    make_table(tmp_path / "t", space_keys(tiny_space))
    return tmp_path / "t"


def test_round_trip_and_prediction_is_sum_of_rows(table_dir, tiny_space) -> None:
    table = LatencyTable.load(table_dir)
    assert len(table) == 24  # 19 backbone and neck ops + 3 RPN levels, box and DensePose heads
    again = LatencyTable.load(table_dir)
    assert again.rows == table.rows and again.meta == table.meta
    assert not list(table_dir.glob("*.tmp"))  # atomic writes leave no temporaries
    text = (table_dir / "table.csv").read_text().splitlines()
    assert text[0] == "key,median_ms,p10_ms,p90_ms,std_ms,count"
    for seed in range(5):
        arch = tiny_space.sample(seed)
        keys = op_keys(arch)
        expected = math.fsum(table.rows[k].median_ms for k in keys)
        pred = table.predict(arch)
        assert pred.latency_ms == pytest.approx(expected, rel=1e-12) and pred.sum_ms == pred.latency_ms
        assert [op.key for op, _ in pred.breakdown] == keys
        assert table.predict_ms(arch) == pytest.approx(expected, rel=1e-12)


def test_correction_is_applied(table_dir, tiny_space) -> None:
    table = LatencyTable.load(table_dir)
    arch = tiny_space.sample(0)
    plain = table.predict(arch).sum_ms
    table.meta["correction"] = {"scale": 0.5, "per_op_ms": 0.01, "offset_ms": 1.0}
    n = len(op_keys(arch))
    assert table.predict(arch).latency_ms == pytest.approx(0.5 * plain + 0.01 * n + 1.0)
    assert table.predict_ms(arch) == pytest.approx(0.5 * plain + 0.01 * n + 1.0)
    # the per-kind form validations store since 2026-12-05
    by_kind: dict[str, float] = {}
    for op, ms in table.predict(arch).breakdown:
        by_kind[key_kind(op.key)] = by_kind.get(key_kind(op.key), 0.0) + ms
    kind, other = sorted(by_kind)[:2]
    table.meta["correction"] = {"scale": 0.5, "kind_scales": {kind: 0.25, "not-in-this-net": 9.0}}
    expected = 0.75 * by_kind[kind] + 0.5 * (plain - by_kind[kind])
    assert table.predict(arch).latency_ms == pytest.approx(expected)
    assert table.predict_ms(arch) == pytest.approx(expected)
    assert other  # the arch has ops of two kinds at least, so the kind's own scale is tested apart


def test_missing_keys_error_lists_keys_and_command(tmp_path, tiny_space) -> None:
    keys = space_keys(tiny_space)
    arch = tiny_space.sample(0)
    needed = sorted(set(op_keys(arch)))
    table = make_table(tmp_path / "t", [k for k in keys if k not in needed[:2]])
    with pytest.raises(MissingKeysError) as info:
        table.predict(arch)
    assert info.value.keys == needed[:2]
    message = str(info.value)
    assert all(k in message for k in needed[:2])
    assert f"nas profile --space {TINY_SPACE} --runtime torch --device cpu --threads 1 --out {tmp_path / 't'}" in message
    with pytest.raises(MissingKeysError):
        table.predict_ms(arch)


@pytest.mark.parametrize(
    ("csv_text", "message"),
    [
        ("key,median\n", "has header"),
        ("key,median_ms,p10_ms,p90_ms,std_ms,count\nk1,abc,1,1,1,5\n", "line 2 is corrupt: non-numeric"),
        ("key,median_ms,p10_ms,p90_ms,std_ms,count\nk1,1,1,1,1,5\nk2,1,1\n", "line 3 is corrupt: 3 fields"),
        ("key,median_ms,p10_ms,p90_ms,std_ms,count\nk1,-1,1,1,1,5\n", "finite and positive"),
        ("key,median_ms,p10_ms,p90_ms,std_ms,count\nk1,1,1,1,1,5\nk1,1,1,1,1,5\n", "appears twice"),
    ],
)
def test_corrupt_csv(table_dir, csv_text: str, message: str) -> None:
    (table_dir / "table.csv").write_text(csv_text)
    with pytest.raises(TableError, match=message):
        LatencyTable.load(table_dir)


def test_corrupt_or_foreign_meta(table_dir, tmp_path) -> None:
    meta = json.loads((table_dir / "meta.json").read_text())
    (table_dir / "meta.json").write_text("{not json")
    with pytest.raises(TableError, match="corrupt"):
        LatencyTable.load(table_dir)
    (table_dir / "meta.json").write_text(json.dumps({**meta, "format": "nn-meter"}))
    with pytest.raises(TableError, match="not a nas latency table"):
        LatencyTable.load(table_dir)
    (table_dir / "meta.json").write_text(json.dumps({**meta, "version": 99}))
    with pytest.raises(TableError, match="version 99"):
        LatencyTable.load(table_dir)
    with pytest.raises(TableError, match="needs meta.json and table.csv"):
        LatencyTable.load(tmp_path / "nowhere")
    (tmp_path / "table.csv").write_text("key,median_ms\n")
    with pytest.raises(TableError, match=r"table.csv is a file, not a latency table: a table is a folder holding meta.json"):
        LatencyTable.load(tmp_path / "table.csv")  # the table's own file given in its place


def test_cli_predict_json_and_missing(table_dir, tmp_path, tiny_space) -> None:
    arch = tiny_space.sample(1)
    done = run_nas("latency", "predict", "--table", str(table_dir), arch.to_string(), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["latency_ms"] == pytest.approx(LatencyTable.load(table_dir).predict(arch).latency_ms)
    assert [row["key"] for row in data["breakdown"]] == op_keys(arch)
    keys = space_keys(tiny_space)
    make_table(tmp_path / "partial", keys, skip=len(keys) - 1)
    done = run_nas("latency", "predict", "--table", str(tmp_path / "partial"), arch.to_string())
    assert done.returncode == 2
    assert done.stderr.startswith("error: latency table") and "nas profile --space" in done.stderr and "Traceback" not in done.stderr


def test_missing_keys_command_names_other_spaces(tmp_path, tiny_space) -> None:
    keys = space_keys(tiny_space)
    table = make_table(tmp_path / "t", keys, skip=len(keys) - 1)
    table.meta["other_spaces"] = [{"path": "search_spaces/densepose_mobile.yaml"}]
    with pytest.raises(MissingKeysError, match="another space, that space's --space: search_spaces/densepose_mobile.yaml"):
        table.predict(tiny_space.sample(0))


def test_first_save_killed_before_its_rows_still_resumes(tmp_path, tiny_space, monkeypatch) -> None:
    """A first profile killed between its two writes: meta.json goes first, so the folder
    is a table with no rows yet, which `nas profile` continues (the rows' file first left
    a folder profile refused as 'not a latency table')."""
    import nas.latency.table as table_module
    from nas.latency.profile import open_table

    real_write = table_module.atomic_write_text

    def killed_at_the_rows(path, text) -> None:
        if Path(path).name == "table.csv":
            raise KeyboardInterrupt  # the process dies here
        real_write(path, text)

    monkeypatch.setattr(table_module, "atomic_write_text", killed_at_the_rows)
    with pytest.raises(KeyboardInterrupt):
        make_table(tmp_path / "t", space_keys(tiny_space))
    monkeypatch.undo()
    assert (tmp_path / "t" / "meta.json").is_file() and not (tmp_path / "t" / "table.csv").exists()
    with pytest.raises(TableError, match="needs meta.json and table.csv"):
        LatencyTable.load(tmp_path / "t")  # nothing to predict with yet
    meta = json.loads((tmp_path / "t" / "meta.json").read_text())
    resumed = open_table(tmp_path / "t", meta)
    assert len(resumed) == 0 and resumed.meta["runtime"] == "torch"
    resumed.add("k", OpStats(1.0, 0.9, 1.1, 0.05, 15))
    resumed.save()
    assert list(LatencyTable.load(tmp_path / "t").rows) == ["k"]
