"""A real 2-node Ray cluster on 127.0.0.1 (head and worker started by ``ray start`` as
separate processes, token auth on, own temp dir and ports): a search whose trials run on
both nodes, then a worker node killed mid-search whose trials are retried."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from nas.runs.store import ResultsStore
from nas.search.local_cluster import kill_marked, local_cluster, pids_with
from tests.search.conftest import TINY_SPACE
from tests.search.procs import REPO_ENV, driver

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(workers=1, env=REPO_ENV) as started:
        yield started
    assert not pids_with(started.tmp)


def _args(out: Path, data: Path, table: Path, trials: int, steps: int, extra: list[str]) -> list[str]:
    return ["--out", str(out), "--space", str(TINY_SPACE), "--table", str(table), "--data", str(data), "--trials", str(trials),
            "--steps", str(steps), "--batch-size", "2", "--evals", "1", "--val-images", "2", "--proxy-input", "128", "96",
            "--device", "cpu", "--sampler", "tpe", "--cpus-per-trial", "1", *extra]


def test_search_on_two_nodes(cluster, tmp_path, tiny_dataset, tiny_table):
    out = tmp_path / "run"
    run = driver(_args(out, tiny_dataset, tiny_table, 4, 2, ["--address", cluster.address, "--baseline", "densemobile"]),
                 cluster.env, tmp_path / "driver.log")
    assert run.wait(timeout=300) == 0, (tmp_path / "driver.log").read_text()[-3000:]
    rows = ResultsStore(out).rows()
    search = [r for r in rows.values() if r.kind == "search"]
    assert len(search) == 4 and all(r.status == "finished" for r in search)
    baseline = rows["b-densemobile"]
    assert baseline.status == "finished" and baseline.params > 1_000_000 and baseline.latency_ms > max(r.latency_ms for r in search)
    nodes = {r.node for r in rows.values()}
    assert len(nodes) == 2, nodes  # trials ran on the head and on the worker


def test_worker_killed_mid_search_is_retried(cluster, tmp_path, tiny_dataset, tiny_table):
    out = tmp_path / "run"
    # 40 steps make each trial last long enough (tens of seconds) that the two first trials,
    # one per node, are surely running at the same time when the worker is killed
    run = driver(_args(out, tiny_dataset, tiny_table, 4, 40, ["--address", cluster.address, "--no-baselines", "--max-failures", "3"]),
                 cluster.env, tmp_path / "driver.log")
    deadline = time.monotonic() + 180
    while True:  # two trials running at once: one of them is on the worker (1 CPU per node)
        logs = list((out / "trials").glob("*/log.txt")) if (out / "trials").is_dir() else []
        running = [p for p in logs if "params" in p.read_text() and "finished" not in p.read_text()]
        if len(running) >= 2:
            break
        assert run.poll() is None, (tmp_path / "driver.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "never saw two trials running"
        time.sleep(0.2)
    kill_marked(cluster.worker_marker)  # the whole worker node: raylet, its workers, the trial on it
    assert run.wait(timeout=300) == 0, (tmp_path / "driver.log").read_text()[-3000:]
    rows = ResultsStore(out).rows()
    search = [r for r in rows.values() if r.kind == "search"]
    assert len(search) == 4 and all(r.status == "finished" for r in search), [(r.trial, r.status, r.error) for r in search]
    assert max(r.attempts for r in search) >= 2  # the trial of the dead node ran again
    assert "retrying" in (tmp_path / "driver.log").read_text()
