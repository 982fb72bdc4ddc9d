"""Fixtures of the latency tests: the tiny space, a synthetic table, the real runtime."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TINY_SPACE = HERE / "tiny_space.yaml"


@pytest.fixture(scope="session")
def tiny_space():
    from nas.space.search_space import SearchSpace

    return SearchSpace.from_yaml(TINY_SPACE)


@pytest.fixture(scope="session")
def program_cache(tmp_path_factory) -> Path:
    """One ExecuTorch program cache for the whole session (lowering costs ~1.5 s an op)."""
    return tmp_path_factory.mktemp("programs")


def run_nas(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run the ``nas`` CLI in a fresh interpreter (what a user runs)."""
    full_env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    return subprocess.run([sys.executable, "-m", "nas", *args], capture_output=True, text=True, cwd=cwd, env=full_env, timeout=timeout, check=False)
