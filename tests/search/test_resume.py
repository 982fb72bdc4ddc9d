"""Driver killed with SIGKILL mid-search, continued by --resume: the requested trials
complete, none lost, none counted twice."""

from __future__ import annotations

import os
import signal
import time

import optuna
import pytest
from optuna.trial import TrialState

from nas.runs.store import ResultsStore, journal_storage
from nas.search.searcher import REPEAT_ATTR, STUDY_NAME
from nas.search.local_cluster import kill_marked, short_tmp
from tests.search.conftest import TINY_SPACE
from tests.search.procs import auth_env, driver

TRIALS = 4


def _finished(store_root) -> int:
    store = ResultsStore(store_root)
    if not store.parquet_path.is_file():
        return 0
    return sum(1 for r in store.rows().values() if r.kind == "search" and r.status == "finished")


def _search_args(out, data, table) -> list[str]:
    """A small random search of the tiny space (4 trials of 3 steps, no baselines)."""
    return ["--out", str(out), "--space", str(TINY_SPACE), "--table", str(table), "--data", str(data),
            "--trials", str(TRIALS), "--no-baselines", "--steps", "3", "--batch-size", "2", "--evals", "1", "--val-images", "2",
            "--proxy-input", "128", "96", "--device", "cpu", "--sampler", "random", "--seed", "3"]


def _wait_for_a_finished_trial(proc, out, log) -> None:
    deadline = time.monotonic() + 240
    while _finished(out) < 1:
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "no trial finished in time"
        time.sleep(0.2)


@pytest.mark.slow
def test_sigkill_then_resume(tmp_path, tiny_dataset, tiny_table):
    out = tmp_path / "run"
    args = _search_args(out, tiny_dataset, tiny_table)
    tmp = short_tmp("nasres")
    env = auth_env(os.urandom(16).hex(), tmp)
    try:
        first = driver(args, env, tmp_path / "first.log")
        _wait_for_a_finished_trial(first, out, tmp_path / "first.log")  # others in flight: kill now
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        kill_marked(tmp)  # the killed driver's local Ray processes
        before = ResultsStore(out).rows()
        assert 1 <= sum(r.counts for r in before.values()) < TRIALS
        second = driver(["--out", str(out), "--resume"], env, tmp_path / "second.log")
        assert second.wait(timeout=300) == 0, (tmp_path / "second.log").read_text()[-3000:]
    finally:
        kill_marked(tmp)
    log = (tmp_path / "second.log").read_text()
    rows = ResultsStore(out).rows()
    search = [r for r in rows.values() if r.kind == "search"]
    assert sum(r.counts for r in search) == TRIALS, log[-2000:]
    assert all(r.status == "finished" for r in search)
    assert len({r.number for r in search}) == len(search)
    assert {r.session for r in search} == {0, 1}
    for name, row in before.items():  # what the first session finished is kept as it was
        assert rows[name] == row
    study = optuna.load_study(study_name=STUDY_NAME, storage=journal_storage(ResultsStore(out)))
    states = {t.number: t.state for t in study.trials}
    assert TrialState.RUNNING not in states.values()
    # repeats of finished architectures are told from the earlier trial and have no row
    complete = [t.number for t in study.trials if t.state == TrialState.COMPLETE and REPEAT_ATTR not in t.user_attrs]
    assert sorted(complete) == sorted(r.number for r in search)  # each finished trial told exactly once
    reruns = [t for t in study.trials if "rerun_of" in t.user_attrs]
    lost = [t for t in study.trials if t.state == TrialState.FAIL]
    assert len(reruns) == len(lost) >= 1 and "re-running" in log  # in-flight trials were run again, not lost
    for t in reruns:  # the rerun keeps every choice made; a driver killed mid-suggestion left some unmade
        original = study.trials[t.user_attrs["rerun_of"]].params
        assert original.items() <= t.params.items()


@pytest.mark.slow
def test_ctrl_c_stops_the_driver_with_the_resume_hint(tmp_path, tiny_dataset, tiny_table):
    """Ray Tune catches Ctrl-C and returned as if the run had ended (exit 0, "done: 1/4");
    the driver now stops with exit 130 and says how to continue."""
    import subprocess
    import sys

    out = tmp_path / "run"
    args = _search_args(out, tiny_dataset, tiny_table)
    tmp = short_tmp("nasint")
    env = auth_env(os.urandom(16).hex(), tmp)
    log = tmp_path / "driver.log"
    try:
        with log.open("ab") as handle:
            proc = subprocess.Popen([sys.executable, "-m", "nas", "search", *args], env=env, stdout=handle, stderr=subprocess.STDOUT)
        _wait_for_a_finished_trial(proc, out, log)
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=120) == 130, log.read_text()[-3000:]
    finally:
        kill_marked(tmp)
    text = log.read_text()
    assert "interrupted: the search stopped at " in text and f"`nas search --out {out} --resume`" in text
    assert "done: " not in text


def test_resume_refuses_a_total_below_the_trials_done(tmp_path) -> None:
    from nas.errors import SearchError
    from nas.search.config import SearchConfig
    from nas.runs.rows import TrialRow
    from nas.search.run import resume_search

    store = ResultsStore(tmp_path / "run")
    store.save_config(SearchConfig(space="s.yaml", table="t", data="d", out=str(store.root), trials=3).to_dict())
    store.put_many([TrialRow(trial=f"t{n:04d}", number=n, kind="search", baseline="", arch=f"a{n}", arch_id="id",
                             status="finished", gps_ap=5.0, latency_ms=20.0) for n in range(2)])
    before = store.config_path.read_bytes()
    with pytest.raises(SearchError, match=r"--trials 1 with --resume is the run's new total, but .* already has 2 trial\(s\) done"):
        resume_search(store.root, trials=1)
    assert store.config_path.read_bytes() == before  # the requested total is left as it was


def test_a_second_driver_on_a_run_is_refused(tmp_path) -> None:
    """While a driver holds the run (here: another process holding its lock), a second
    one is refused with the holder's details; once that process is gone, even by
    SIGKILL, the run is free."""
    from nas.lock import FolderBusyError, folder_lock
    from nas.search.config import SearchConfig
    from nas.search.run import DRIVER_LOCK, resume_search
    from tests.lock_holder import lock_held_elsewhere

    store = ResultsStore(tmp_path / "run")
    store.save_config(SearchConfig(space="s.yaml", table="t", data="d", out=str(store.root), trials=3).to_dict())
    with lock_held_elsewhere("from nas.lock import folder_lock", f"folder_lock(Path({str(store.root)!r}), {DRIVER_LOCK!r}, 'x', 'y')") as holder:
        with pytest.raises(FolderBusyError, match=rf"another nas search driver is running on .*pid {holder.pid} on .*then continue the run with --resume"):
            resume_search(store.root)
    with folder_lock(store.root, DRIVER_LOCK, "x", "y"):  # free again after the SIGKILL
        assert (store.root / DRIVER_LOCK).read_text().startswith(f"pid {os.getpid()} ")


def test_runs_from_before_the_weight_average_resume_without_it(tmp_path) -> None:
    """A run recorded before TrainConfig.ema_decay existed was scored on the last weights;
    its resumed trials must be too, whatever the default becomes."""
    from dataclasses import replace

    from nas.search import SearchConfig
    from nas.train.proxy import DEFAULT_PROXY

    config = SearchConfig(space="s.yaml", table="t", data="d", out=str(tmp_path), trials=3, proxy=replace(DEFAULT_PROXY, ema_decay=0.98))
    data = config.to_dict()
    assert SearchConfig.from_dict(data).proxy.ema_decay == 0.98
    del data["proxy"]["ema_decay"]
    assert SearchConfig.from_dict(data).proxy.ema_decay == 0.0

