"""``nas profile`` with the torch runtime: a whole table, resume after kill -9, refusals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from nas.latency.keys import space_keys
from nas.latency.table import LatencyTable

from .conftest import TINY_SPACE, run_nas


def _rows(path: Path) -> int:
    csv_path = path / "table.csv"
    return len(csv_path.read_text().splitlines()) - 1 if csv_path.exists() else 0


def test_profile_resumes_after_kill(tmp_path, tiny_space) -> None:
    out = tmp_path / "table"
    # slow enough to be killed mid-way: 2 ops per chunk, 400 timed runs each
    argv = [sys.executable, "-m", "nas", "profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "torch", "--out", str(out), "--chunk", "2", "--rounds", "400", "--warmup", "1", "--extra-rounds", "0"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    deadline = time.time() + 120
    while _rows(out) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    measured_before = _rows(out)
    assert 2 <= measured_before < 24, "the kill must land mid-profile"
    before = LatencyTable.load(out).rows  # what survived kill -9 loads cleanly
    done = run_nas("profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "torch", "--out", str(out), "--chunk", "8", "--rounds", "5", "--warmup", "1")
    assert done.returncode == 0, done.stderr
    assert f"24 keys in the space, {measured_before} already in the table, {24 - measured_before} measured now" in done.stdout
    after = LatencyTable.load(out)
    assert set(after.rows) == set(space_keys(tiny_space))
    assert all(after.rows[k] == v for k, v in before.items())  # old rows were not re-measured
    again = run_nas("profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "torch", "--out", str(out))
    assert "24 already in the table, 0 measured now" in again.stdout


def test_profile_refuses_foreign_table(tmp_path) -> None:
    out = tmp_path / "table"
    first = run_nas("profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "torch", "--out", str(out), "--rounds", "3", "--warmup", "1", "--limit", "2")
    assert first.returncode == 0, first.stderr
    done = run_nas("profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "torch", "--threads", "2", "--out", str(out))
    assert done.returncode == 2
    assert "threads 1 (table) vs 2 (now)" in done.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only message")
def test_cuda_without_cuda_is_a_clear_error(tmp_path) -> None:
    done = run_nas("profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "torch", "--device", "cuda", "--out", str(tmp_path / "t"))
    assert done.returncode == 2 and "sees no CUDA device" in done.stderr
    done = run_nas("profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "executorch", "--device", "cuda", "--out", str(tmp_path / "t"))
    assert done.returncode == 2 and "runs on cpu, not 'cuda'" in done.stderr


def test_unknown_runtime_lists_known(tmp_path) -> None:
    done = run_nas("profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "tflite", "--out", str(tmp_path / "t"))
    assert done.returncode == 2 and "known runtimes: executorch, torch" in done.stderr


def test_out_that_is_a_file_is_refused_and_left_alone(tmp_path) -> None:
    out = tmp_path / "table.csv"
    out.write_text("kept")
    done = run_nas("profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "torch", "--out", str(out))
    assert done.returncode == 2 and f"--out {out} is a file; a latency table is a folder" in done.stderr, done.stderr
    assert out.read_text() == "kept"


@pytest.mark.parametrize("option", ["--threads", "--rounds", "--workers", "--chunk"])
def test_counts_below_one_are_refused_before_anything_is_written(tmp_path, option: str) -> None:
    out = tmp_path / "t"
    done = run_nas("profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "torch", option, "0", "--out", str(out))
    assert done.returncode == 2 and f"Invalid value for '{option}'" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_measure_settings_check_their_ranges() -> None:
    from nas.errors import LatencyError
    from nas.latency.transports import MeasureSettings

    assert MeasureSettings(warmup=0, rounds=1).rounds == 1
    with pytest.raises(LatencyError, match=r"rounds 0 \(>= 1\)"):
        MeasureSettings(rounds=0)
    with pytest.raises(LatencyError, match=r"warmup -1 \(>= 0\)"):
        MeasureSettings(warmup=-1)


def test_profile_of_a_second_space_keeps_the_first(tmp_path, repo) -> None:
    import json

    import yaml

    out = tmp_path / "table"
    done = run_nas("profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "torch", "--out", str(out), "--rounds", "3", "--warmup", "1")
    assert done.returncode == 0, done.stderr
    other = yaml.safe_load(TINY_SPACE.read_text())
    other["name"], other["stem"]["channels"] = "tiny_other", [8, 16]
    other_path = tmp_path / "other.yaml"
    other_path.write_text(yaml.safe_dump(other))
    done = run_nas("profile", "--baseline", "none", "--space", str(other_path), "--runtime", "torch", "--out", str(out), "--rounds", "3", "--warmup", "1")
    assert done.returncode == 0, done.stderr
    meta = json.loads((out / "meta.json").read_text())
    assert meta["space"]["name"] == "tiny_other" and [s["name"] for s in meta["other_spaces"]] == ["tiny_latency"]


def test_profile_sample_measures_the_validation_archs_then_completes(tmp_path, tiny_space) -> None:
    from nas.latency.keys import op_keys
    from nas.latency.validate import sample_archs

    out = tmp_path / "table"
    args = ("profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "torch", "--out", str(out), "--rounds", "3", "--warmup", "1")
    done = run_nas(*args, "--sample", "2", "--sample-seed", "5")
    assert done.returncode == 0, done.stderr
    table = LatencyTable.load(out)
    wanted = {k for a in sample_archs(tiny_space, 2, 5) for k in op_keys(a, table.rois)}
    refs = set(table.meta["speed_reference"]["keys"])
    assert set(table.rows) == wanted | refs and len(table.rows) < 24  # those ops, the references, nothing else
    for arch in sample_archs(tiny_space, 2, 5):
        assert table.predict(arch).latency_ms > 0  # what validate --samples 2 --seed 5 needs is there
    done = run_nas(*args)  # the same command without --sample completes the table
    assert done.returncode == 0, done.stderr
    assert set(LatencyTable.load(out).rows) == set(space_keys(tiny_space))


def test_one_writer_per_table(tmp_path) -> None:
    """While another process writes a table, nas profile and nas latency validate on it
    are refused with the holder's pid, before measuring anything."""
    from nas.latency.profile import TABLE_LOCK
    from tests.lock_holder import lock_held_elsewhere

    out = tmp_path / "t"
    first = run_nas("profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "torch", "--out", str(out), "--rounds", "3", "--warmup", "1", "--limit", "2")
    assert first.returncode == 0, first.stderr
    before = (out / "table.csv").read_bytes()
    with lock_held_elsewhere("from nas.latency.profile import table_lock", f"table_lock(Path({str(out)!r}))") as holder:
        for argv in (("profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "torch", "--out", str(out)),
                     ("latency", "validate", "--table", str(out), "--samples", "4")):
            done = run_nas(*argv)
            assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
            assert f"another process writing this table (nas profile or nas latency validate) is running on {out} (pid {holder.pid} " in done.stderr
    assert (out / "table.csv").read_bytes() == before and (out / TABLE_LOCK).is_file()


def test_key_selection_takes_one_way_of_choosing_a_share() -> None:
    """--fill and --samples each choose which ops to measure: both at once is refused when the
    selection is made, before any work."""
    from nas.errors import TableError
    from nas.latency.profile import FillSettings, KeySelection

    assert KeySelection() == KeySelection(samples=None, fill=None, seed=0, limit=None, build=True)  # every missing key
    with pytest.raises(TableError, match="--fill and --samples choose the ops to measure in two different ways"):
        KeySelection(samples=3, fill=FillSettings())
