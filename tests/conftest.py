"""Shared fixtures: repository paths and the default search space."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SPACE = REPO / "search_spaces" / "densepose_mobile.yaml"

# A suite started in the background of a non-interactive shell (`pytest &`) inherits SIGINT
# ignored, and so would every command it starts: the Ctrl-C tests would then wait for a
# command that never hears its Ctrl-C. Commands run as from a terminal instead.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def default_space():
    from nas.space.search_space import SearchSpace

    return SearchSpace.from_yaml(DEFAULT_SPACE)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """10 synthetic 128 px images (8 train, 2 val) shared by model and training tests."""
    from nas.data import SynthConfig, generate_dataset

    out = tmp_path_factory.mktemp("dp_tiny") / "data"
    generate_dataset(out, SynthConfig(images=10, size=128, seed=3), workers=1, progress=False)
    return out
