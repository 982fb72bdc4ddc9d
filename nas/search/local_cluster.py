"""A Ray cluster of several nodes on this machine, all on 127.0.0.1, to try or measure a
multi-node search without a second machine (the cluster tests and ``bench_search.py
scaling`` use it).

Each node is its own ``ray start`` process tree with token authentication on (as Ray >=
2.59 requires of a real cluster), its own ports and one temp dir shared by the cluster.
That temp dir is the *marker* of every process the cluster started: they are found by it
on their command lines or in their environments and stopped by process id, never by name,
so nothing else on the machine is touched.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from nas.errors import SearchError

__all__ = ["LocalCluster", "local_cluster", "cluster_env", "node_ports", "free_port", "worker_port_block", "short_tmp",
           "pids_with", "kill_marked", "MARKER_VAR"]

MARKER_VAR = "NAS_CLUSTER_MARKER"  # set on every node (and driver) to its marker
# Ports this process has handed to a node already: the OS may hand a port it just released
# to the next bind(0), and two nodes (or two components of one node) must never share one.
_HANDED_OUT: set[int] = set()
# Worker port blocks lie below Linux's ephemeral range (32768-60999 by default), where
# bind(0), and so every port Ray or this module picks at random, never lands: a block can
# then not collide with a component port (CI once drew runtime_env_agent 37287 inside a
# worker block 37117-37317, and ``ray start`` refused).
_WORKER_BLOCKS = range(15000, 32000, 250)
_WORKER_BLOCK_SIZE = 201  # Ray's own default span (max - min + 1 of 10002..10202)
_RAY_START_TIMEOUT_S = 120


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
    random.shuffle(starts)  # separate processes on one machine rarely try the same block
    for low in starts:
        block = range(low, low + _WORKER_BLOCK_SIZE)
        if _HANDED_OUT.isdisjoint(block) and all(_bindable(port) for port in block):
            _HANDED_OUT.update(block)
            return low, low + _WORKER_BLOCK_SIZE - 1
    raise SearchError(f"no free block of {_WORKER_BLOCK_SIZE} worker ports within {_WORKER_BLOCKS.start}-{_WORKER_BLOCKS.stop} "
                      "on 127.0.0.1; stop the Ray nodes left running on this machine and try again")


def short_tmp(prefix: str) -> str:
    """A new temp dir directly under /tmp: Ray's Unix socket paths must stay under ~107
    characters, so the root is kept short."""
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


def pids_with(marker: str) -> list[int]:
    """Processes (other than this one) whose command line or environment names ``marker``."""
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
    """Kill every process carrying ``marker`` and wait (up to ``wait_s`` seconds) until none is left."""
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


def cluster_env(token: str, tmp: str) -> dict[str, str]:
    """This process's environment for a node or driver: token auth on with ``token``, Ray's
    temp dir ``tmp`` (also the processes' marker)."""
    env = dict(os.environ)
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token, RAY_TMPDIR=tmp, **{MARKER_VAR: tmp})
    return env


def _ray_start(args: list[str], env: Mapping[str, str]) -> None:
    done = subprocess.run(["ray", "start", *args], env=env, capture_output=True, text=True, timeout=_RAY_START_TIMEOUT_S)
    if done.returncode != 0:
        raise SearchError(f"`ray start {' '.join(args[:2])} ...` failed (exit {done.returncode}): "
                          + (done.stdout[-2000:] + done.stderr[-2000:]).strip())


def node_ports() -> list[str]:
    """``ray start`` options giving one node ports of its own, so that several nodes share 127.0.0.1."""
    p = [free_port() for _ in range(6)]
    low, high = worker_port_block()
    return ["--node-manager-port", str(p[0]), "--object-manager-port", str(p[1]), "--metrics-export-port", str(p[2]),
            "--dashboard-agent-listen-port", str(p[3]), "--dashboard-agent-grpc-port", str(p[4]), "--runtime-env-agent-port", str(p[5]),
            "--min-worker-port", str(low), "--max-worker-port", str(high)]


@dataclass(frozen=True)
class LocalCluster:
    """A running cluster: its head's address, its temp dir (the marker of all its processes),
    the environment a driver needs to join it (``nas search --address ADDRESS`` run with
    ``env``), and the marker of the worker nodes only (to stop them and not the head)."""

    address: str
    tmp: str
    env: dict[str, str]
    worker_marker: str


@contextlib.contextmanager
def local_cluster(workers: int, cpus_per_node: int = 1, gpus_per_node: int = 0,
                  env: Mapping[str, str] | None = None) -> Iterator[LocalCluster]:
    """A head and ``workers`` worker nodes on 127.0.0.1, each started by ``ray start`` as a
    separate process tree, token auth on; every process it started (drivers run with its
    ``env`` included) is killed on exit.

    Args:
        workers: worker nodes besides the head.
        cpus_per_node: CPUs each node declares to Ray.
        gpus_per_node: GPUs each node declares to Ray, whether the machine has them or not
            (a GPU resource without a GPU on a CPU machine).
        env: more variables for every node and for ``LocalCluster.env``.
    """
    tmp = short_tmp("nascl")
    cluster = {**cluster_env(os.urandom(16).hex(), tmp), **(env or {})}
    port = free_port()
    worker_marker = tmp + "-worker"
    size = ["--num-cpus", str(cpus_per_node), "--num-gpus", str(gpus_per_node)]
    try:
        _ray_start(["--head", "--node-ip-address", "127.0.0.1", "--port", str(port), *size, "--temp-dir", tmp,
                    "--include-dashboard", "false", *node_ports()], cluster)
        for _ in range(workers):
            _ray_start(["--address", f"127.0.0.1:{port}", "--node-ip-address", "127.0.0.1", *size, *node_ports()],
                       {**cluster, MARKER_VAR: worker_marker})
        yield LocalCluster(f"127.0.0.1:{port}", tmp, cluster, worker_marker)
    finally:
        kill_marked(tmp)  # head, workers and any driver: found by the unique temp dir
        if not pids_with(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
