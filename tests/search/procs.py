"""Process helpers for the cluster and resume tests: ``nas search`` drivers with their own
Ray temp dirs (the Ray nodes themselves come from :mod:`nas.search.local_cluster`, which
also stops exactly the processes a test started, found by that temp dir)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from nas.search.local_cluster import cluster_env

REPO = Path(__file__).resolve().parents[2]
# every node and driver of a test can import the test suite's modules
REPO_ENV = {"PYTHONPATH": str(REPO)}


def auth_env(token: str, tmp: str) -> dict[str, str]:
    """Environment of a driver with a local Ray of its own: token auth on, one token, own temp dir."""
    return {**cluster_env(token, tmp), **REPO_ENV}


def driver(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``nas search ARGS`` in a subprocess (output to ``log``)."""
    handle = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "tests.search.driver", "search", *args], cwd=REPO, env=env,
                            stdout=handle, stderr=subprocess.STDOUT)
