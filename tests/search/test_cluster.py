"""A real 2-node Ray cluster on 127.0.0.1 (head and worker started by ``ray start`` as
separate processes, token auth on, own temp dir and ports): a search whose trials run on
both nodes, then a worker node killed mid-search whose trials are retried."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from nas.search import ResultsStore
from tests.search.conftest import TINY_SPACE
from tests.search.procs import auth_env, driver, free_port, kill_marked, pids_with, short_tmp

pytestmark = pytest.mark.slow


def _ray_start(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(["ray", "start", *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def _node_ports() -> list[str]:
    p = [free_port() for _ in range(6)]
    low = free_port() + 1000 if free_port() < 50000 else 20000
    return ["--node-manager-port", str(p[0]), "--object-manager-port", str(p[1]), "--metrics-export-port", str(p[2]),
            "--dashboard-agent-listen-port", str(p[3]), "--dashboard-agent-grpc-port", str(p[4]), "--runtime-env-agent-port", str(p[5]),
            "--min-worker-port", str(low), "--max-worker-port", str(low + 200)]


class Cluster:
    def __init__(self, address: str, tmp: str, env: dict[str, str], worker_marker: str) -> None:
        self.address, self.tmp, self.env, self.worker_marker = address, tmp, env, worker_marker


@pytest.fixture(scope="module")
def cluster():
    tmp = short_tmp("nascl")
    env = auth_env(os.urandom(16).hex(), tmp)
    port = free_port()
    worker_marker = tmp + "-worker"
    try:
        _ray_start(["--head", "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "1", "--temp-dir", tmp,
                    "--include-dashboard", "false", *_node_ports()], env)
        _ray_start(["--address", f"127.0.0.1:{port}", "--node-ip-address", "127.0.0.1", "--num-cpus", "1", *_node_ports()],
                   {**env, "NAS_TEST_MARKER": worker_marker})
        yield Cluster(f"127.0.0.1:{port}", tmp, env, worker_marker)
    finally:
        kill_marked(tmp)  # head, worker and any driver of this test: found by their unique temp dir
    assert not pids_with(tmp)


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
