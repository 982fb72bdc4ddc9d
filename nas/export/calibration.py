"""Calibration inputs for int8 export: real training images, prepared as the model sees them.

Post-training quantization fixes every activation's int8 range from the values seen while
calibrating. Those ranges must come from images like the ones the network will run on:
noise has other statistics (no smooth regions, energy at every frequency), so ranges
calibrated on it clip or waste the int8 steps of real activations. The images are the
training split of the run's dataset, fitted into the deploy input as evaluation does
(aspect kept, zero padded) and normalised with the detector's pixel mean and std, exactly
what the deployable feature network takes.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from nas.errors import DataError, ExportError
from nas.model.rcnn.config import RCNNConfig

__all__ = ["CALIBRATION_IMAGES", "CHECK_IMAGES", "calibration_inputs", "feature_agreement", "normalise", "program_agreement"]

CALIBRATION_IMAGES = 16  # images per int8 export: enough for stable min/max observers
CHECK_IMAGES = 4  # validation images an int8 export is compared with fp32 on


def normalise(images: Tensor, config: RCNNConfig | None = None) -> Tensor:
    """``(N, 3, H, W)`` images in [0, 1] -> what the feature network takes (per-channel mean/std)."""
    config = config or RCNNConfig()
    mean = torch.tensor(config.pixel_mean).reshape(1, 3, 1, 1)
    std = torch.tensor(config.pixel_std).reshape(1, 3, 1, 1)
    return ((images - mean) / std).contiguous()


def calibration_inputs(
    data: str | Path, input_size: tuple[int, int], count: int = CALIBRATION_IMAGES, seed: int = 0, split: str = "train"
) -> list[tuple[Tensor, ...]]:
    """``count`` images of the ``split`` ("train" or "val") of the dataset ``data`` (a
    folder or a descriptor YAML, see :mod:`nas.data.source`; a seeded choice), each a
    one-element input tuple ``(1, 3, H, W)`` at ``input_size`` = (H, W).

    Raises:
        ExportError: ``data`` is not a readable dataset, or the split holds no image.
    """
    from nas.data import DensePoseDataset
    from nas.data.source import DatasetSource

    if count < 1:
        raise ExportError(f"calibration needs at least one image, got count={count}")
    try:
        chosen_split = DatasetSource.load(data).split(split)
        # evaluation mode: resized only, no flips, so no body surface is needed
        dataset = DensePoseDataset(chosen_split.annotations, chosen_split.images, input_size=input_size, train=False)
    except DataError as err:
        raise ExportError(f"int8 calibration images: {err}") from None
    if len(dataset) == 0:
        raise ExportError(f"int8 calibration images: {chosen_split.annotations} lists no image")
    chosen = np.random.default_rng(seed).choice(len(dataset), size=min(count, len(dataset)), replace=False)
    return [(normalise(dataset[int(i)][0].unsqueeze(0)),) for i in sorted(chosen)]


def feature_agreement(outputs: Sequence[Tensor], reference: Sequence[Tensor]) -> tuple[float, float]:
    """How close a program's feature maps are to the reference (eager fp32) ones, over all
    levels together: relative error sum|out - ref| / sum|ref|, and the cosine similarity
    of the flattened maps."""
    diff = sum(float((a - b).abs().sum()) for a, b in zip(outputs, reference))
    size = sum(float(b.abs().sum()) for b in reference)
    flat_out = torch.cat([a.flatten() for a in outputs])
    flat_ref = torch.cat([b.flatten() for b in reference])
    return diff / size, float(torch.nn.functional.cosine_similarity(flat_out, flat_ref, dim=0))


def program_agreement(program: str | Path, batches: Sequence[tuple[Tensor, ...]], references: Sequence[Sequence[Tensor]]) -> tuple[float, float]:
    """Median :func:`feature_agreement` of the ExecuTorch ``program`` run on each input
    tuple of ``batches`` against the matching eager ``references``."""
    from nas.export.pte import run_pte

    pairs = [feature_agreement(run_pte(program, batch), reference) for batch, reference in zip(batches, references)]
    return statistics.median(e for e, _ in pairs), statistics.median(c for _, c in pairs)
