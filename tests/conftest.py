"""Shared fixtures: repository paths and the default search space."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SPACE = REPO / "search_spaces" / "densepose_mobile.yaml"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def default_space():
    from nas.space.search_space import SearchSpace

    return SearchSpace.from_yaml(DEFAULT_SPACE)
