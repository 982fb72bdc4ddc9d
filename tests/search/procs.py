"""Process helpers for the cluster and resume tests: start Ray nodes and drivers with
their own temp dirs, and stop exactly the processes a test started (found by the unique
temp dir on their command lines), never by name."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[2]


# Ports this process has handed to a node already: the OS may hand a port it just released
# to the next bind(0), and two nodes (or two components of one node) must never share one.
_HANDED_OUT: set[int] = set()
# Worker port blocks lie below Linux's ephemeral range (32768-60999 by default), where
# bind(0), and so every port Ray or this module picks at random, never lands: a block can
# then not collide with a component port (CI once drew runtime_env_agent 37287 inside a
# worker block 37117-37317, and ``ray start`` refused).
_WORKER_BLOCKS = range(15000, 32000, 250)
_WORKER_BLOCK_SIZE = 201  # Ray's own default span (max - min + 1 of 10002..10202)


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A free ephemeral port on 127.0.0.1 that this process has not handed out before."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def worker_port_block() -> tuple[int, int]:
    """``(min, max)`` of a block of worker ports, all free now, outside the ephemeral range,
    not overlapping any block handed out before by this process."""
    starts = list(_WORKER_BLOCKS)
    random.shuffle(starts)  # separate test processes on one machine rarely try the same block
    for low in starts:
        block = range(low, low + _WORKER_BLOCK_SIZE)
        if _HANDED_OUT.isdisjoint(block) and all(_bindable(port) for port in block):
            _HANDED_OUT.update(block)
            return low, low + _WORKER_BLOCK_SIZE - 1
    raise RuntimeError(f"no free block of {_WORKER_BLOCK_SIZE} worker ports within {_WORKER_BLOCKS.start}-{_WORKER_BLOCKS.stop}")


def short_tmp(prefix: str) -> str:
    # Ray's Unix socket paths must stay under ~107 characters: keep the root short
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


def pids_with(marker: str) -> list[int]:
    """Processes whose command line or environment names ``marker`` (a unique temp dir)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes()
            env = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmd or marker.encode() in env:
            found.append(int(entry.name))
    return found


def kill_marked(marker: str, sig: int = signal.SIGKILL, wait_s: float = 10.0) -> None:
    """Kill every process carrying ``marker`` and wait until none is left."""
    deadline = time.monotonic() + wait_s
    while True:
        pids = pids_with(marker)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if time.monotonic() > deadline:
            return
        time.sleep(0.3)


def auth_env(token: str, tmp: str) -> dict[str, str]:
    """Environment of every node and driver: token auth on, one token, own temp dir."""
    env = dict(os.environ)
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token, RAY_TMPDIR=tmp, NAS_TEST_MARKER=tmp, PYTHONPATH=str(REPO))
    return env


def driver(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``nas search ARGS`` in a subprocess (output to ``log``)."""
    handle = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "tests.search.driver", "search", *args], cwd=REPO, env=env,
                            stdout=handle, stderr=subprocess.STDOUT)


def ray_start(args: list[str], env: dict[str, str]) -> None:
    """``ray start ARGS``; fails with its output."""
    done = subprocess.run(["ray", "start", *args], env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError("ray start failed: " + done.stdout[-2000:] + done.stderr[-2000:])


def node_ports() -> list[str]:
    """Free ports for one node, so that several nodes share 127.0.0.1."""
    p = [free_port() for _ in range(6)]
    low, high = worker_port_block()
    return ["--node-manager-port", str(p[0]), "--object-manager-port", str(p[1]), "--metrics-export-port", str(p[2]),
            "--dashboard-agent-listen-port", str(p[3]), "--dashboard-agent-grpc-port", str(p[4]), "--runtime-env-agent-port", str(p[5]),
            "--min-worker-port", str(low), "--max-worker-port", str(high)]


@dataclass(frozen=True)
class LocalCluster:
    """A Ray cluster on 127.0.0.1: its address, temp dir (the marker of all its processes),
    the environment drivers need, and the marker of the worker nodes only."""

    address: str
    tmp: str
    env: dict[str, str]
    worker_marker: str


@contextlib.contextmanager
def local_cluster(workers: int, cpus_per_node: int = 1, gpus_per_node: int = 0) -> Iterator[LocalCluster]:
    """A head and ``workers`` worker nodes started by ``ray start`` as separate processes,
    token auth on; every process it started is killed on exit. ``gpus_per_node`` declares
    GPUs to Ray whether the machine has them or not (a fake GPU resource on a CPU machine)."""
    tmp = short_tmp("nascl")
    env = auth_env(os.urandom(16).hex(), tmp)
    port = free_port()
    worker_marker = tmp + "-worker"
    size = ["--num-cpus", str(cpus_per_node), "--num-gpus", str(gpus_per_node)]
    try:
        ray_start(["--head", "--node-ip-address", "127.0.0.1", "--port", str(port), *size, "--temp-dir", tmp,
                   "--include-dashboard", "false", *node_ports()], env)
        for _ in range(workers):
            ray_start(["--address", f"127.0.0.1:{port}", "--node-ip-address", "127.0.0.1", *size, *node_ports()],
                      {**env, "NAS_TEST_MARKER": worker_marker})
        yield LocalCluster(f"127.0.0.1:{port}", tmp, env, worker_marker)
    finally:
        kill_marked(tmp)  # head, workers and any driver: found by the unique temp dir
        if not pids_with(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
