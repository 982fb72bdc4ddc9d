"""Shared fixtures: a tiny synthetic dataset and its body surface, once per session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nas.data.surface import BodySurface
from nas.data.synth.generate import SynthConfig, SynthSummary, generate_dataset
from nas.eval.groundtruth import GroundTruth, load_ground_truth

TINY = SynthConfig(images=6, size=128, seed=11, val_fraction=0.0)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> SynthSummary:
    """6 images at 128 px, all in annotations/train.json."""
    return generate_dataset(tmp_path_factory.mktemp("eval_synth"), TINY, workers=1, progress=False)


@pytest.fixture(scope="session")
def surface(synth: SynthSummary) -> BodySurface:
    """The synthetic body; shared so its geodesic rows are computed once per session."""
    return BodySurface.load(synth.surface)


@pytest.fixture()
def gt(synth: SynthSummary) -> GroundTruth:
    return load_ground_truth(synth.train_json)


@pytest.fixture()
def gt_dict(synth: SynthSummary) -> dict[str, Any]:
    with open(synth.train_json) as fh:
        return json.load(fh)


def toy_ground_truth(
    points: list[tuple[float, float, int, float, float]],
    bbox: tuple[float, float, float, float] = (20.0, 10.0, 64.0, 128.0),
    image_size: tuple[int, int] = (160, 120),
    extra: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A one-image DensePose-COCO dict with one person carrying ``points`` (dp_x, dp_y, I, U, V).

    Its ``dp_masks`` mark the whole box as torso, so its person mask is the box.
    """
    full = np.ones((256, 256), dtype=np.uint8)
    from nas.data.rle import rle_encode

    masks: list[Any] = [rle_encode(full)] + [[] for _ in range(13)]
    ann = {
        "id": 1,
        "image_id": 1,
        "category_id": 1,
        "iscrowd": 0,
        "bbox": list(bbox),
        "area": float(bbox[2] * bbox[3]),
        "dp_x": [p[0] for p in points],
        "dp_y": [p[1] for p in points],
        "dp_I": [float(p[2]) for p in points],
        "dp_U": [p[3] for p in points],
        "dp_V": [p[4] for p in points],
        "dp_masks": masks,
    }
    h, w = image_size
    return {
        "images": [{"id": 1, "file_name": "toy.jpg", "height": h, "width": w}],
        "categories": [{"id": 1, "name": "person"}],
        "annotations": [ann] + list(extra or []),
    }


def write(path: Path, obj: Any) -> Path:
    with open(path, "w") as fh:
        json.dump(obj, fh)
    return path
