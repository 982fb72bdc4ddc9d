"""Process helpers for the cluster and resume tests: start Ray nodes and drivers with
their own temp dirs, and stop exactly the processes a test started (found by the unique
temp dir on their command lines), never by name."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
