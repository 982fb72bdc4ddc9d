"""Shared fixtures: one tiny synthetic dataset per test session."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from nas.data.synth.generate import SynthConfig, SynthSummary, generate_dataset

TINY = SynthConfig(images=6, size=128, seed=7, val_fraction=0.34)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> SynthSummary:
    """6 images at 128 px (4 train, 2 val), written with one worker."""
    return generate_dataset(tmp_path_factory.mktemp("synth"), TINY, workers=1, progress=False)


@pytest.fixture()
def synth_copy(synth: SynthSummary, tmp_path: Path) -> Path:
    """A private copy of the tiny dataset that a test may corrupt."""
    dst = tmp_path / "ds"
    shutil.copytree(synth.out, dst)
    return dst


def read_json(path: Path) -> dict[str, Any]:
    with open(path) as fh:
        return json.load(fh)


def write_json(path: Path, obj: dict[str, Any]) -> None:
    with open(path, "w") as fh:
        json.dump(obj, fh)


@pytest.fixture(scope="session")
def official(synth: SynthSummary, tmp_path_factory: pytest.TempPathFactory):
    """The tiny dataset written in DensePose-COCO's layout (images linked, evaluation files
    made from the synthetic body; ~10 s: all-pairs geodesics of the body)."""
    from nas.data.official import write_official_layout

    return write_official_layout(synth.out, tmp_path_factory.mktemp("official") / "densepose_coco")
