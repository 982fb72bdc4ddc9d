"""DensePose evaluation of a model during training: the validation set loaded once,
metrics in percent."""

from __future__ import annotations

from dataclasses import asdict

import torch
from torch.utils.data import Subset

from nas.data import BodySurface, DensePoseDataset
from nas.data.source import DatasetSource
from nas.errors import NasError
from nas.eval import evaluate
from nas.eval.options import OFFICIAL, EvalOptions
from nas.model.rcnn import DensePoseRCNN
from nas.train.config import TrainConfig
from nas.train.predict import BoxSource, predict

__all__ = ["Evaluator"]


def _percent(metrics: dict[str, float]) -> dict[str, float]:
    return {k: (round(v * 100, 3) if v >= 0 else -1.0) for k, v in metrics.items()}


class Evaluator:
    """Validation set, ground truth and surface, loaded once per training run.

    Args:
        source: the dataset; its val split is scored.
        config: training settings (input size, mask size; ``val_images``: the first N
            validation images).
        device: where the model runs.
        images: these validation images (positions in the split) instead of the first
            ``config.val_images`` (benchmarks of the evaluation's own noise).
        box_source: score the detector's boxes (``"detected"``) or run the DensePose head
            on the ground-truth boxes (``"gt"``; see :func:`nas.train.predict.predict`).
        surface: the dataset's body surface when the caller has it already (reading
            DensePose's evaluation files takes seconds); None: read from ``source``.
        options: the evaluator's rules (default: DensePose's official ones; ``PROJECT``
            reproduces scores recorded before issue 35).
    """

    def __init__(self, source: DatasetSource, config: TrainConfig, device: torch.device, images: range | None = None,
                 box_source: BoxSource = "detected", surface: BodySurface | None = None, options: EvalOptions = OFFICIAL) -> None:
        self.surface = surface if surface is not None else source.open_surface()
        val = source.val
        dataset = DensePoseDataset(val.annotations, val.images, input_size=config.input_size, train=False,
                                   surface=self.surface, mask_size=config.mask_size)
        ids = dataset.image_ids
        if images is None and config.val_images is not None:
            images = range(min(config.val_images, len(dataset)))
        if images is not None:
            if images.start < 0 or images.stop > len(dataset):
                raise NasError(f"validation images {images.start}..{images.stop - 1} are out of range: {val.annotations} has {len(dataset)}")
            dataset = Subset(dataset, images)  # type: ignore[assignment]
            ids = [ids[i] for i in images]
        self.dataset, self.image_ids, self.device, self.box_source = dataset, ids, device, box_source
        self.gt, self.options = val.annotations, options

    def __call__(self, model: DensePoseRCNN) -> dict[str, float]:
        """Every AP/AR of the evaluator in percent (-1 where undefined), ``ap50`` and
        ``ap75`` (GPS's) and the number of ``detections``."""
        results = predict(model, self.dataset, self.device, box_source=self.box_source)  # type: ignore[arg-type]
        metrics = _percent(evaluate(self.gt, results, self.surface, image_ids=self.image_ids, **asdict(self.options)))
        metrics["ap50"], metrics["ap75"] = metrics["gps_ap50"], metrics["gps_ap75"]
        metrics["detections"] = float(len(results))
        return metrics
