"""Run a DensePose R-CNN over a dataset and produce DensePose results entries."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from nas.data import DensePoseDataset, collate
from nas.eval import DensePoseResult, whole_pixel_box
from nas.model.rcnn import DensePoseRCNN

__all__ = ["predict", "BoxSource", "BOX_SOURCES"]

BoxSource = Literal["detected", "gt"]
BOX_SOURCES: tuple[str, ...] = ("detected", "gt")


@torch.no_grad()
def predict(model: DensePoseRCNN, dataset: DensePoseDataset, device: torch.device, batch_size: int = 4, progress: bool = False,
            box_source: BoxSource = "detected") -> list[DensePoseResult]:
    """Detections with per-box I, U, V for every image of ``dataset``, in original image pixels.

    ``box_source="gt"`` runs the DensePose head on the ground-truth boxes of the people with
    DensePose annotations instead (score 1 each): the score then leaves detection out.
    """
    if box_source not in BOX_SOURCES:
        raise ValueError(f"box_source must be one of {', '.join(BOX_SOURCES)}, got {box_source!r}")
    was_training = model.training
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate, num_workers=0)
    results: list[DensePoseResult] = []
    try:
        for images, targets in tqdm(loader, desc="evaluate", unit="batch", disable=not progress, leave=False):
            if box_source == "gt":
                given = [t["boxes"][~t["is_crowd"] & t["has_dp"]] for t in targets]
                outputs = [{"boxes": b, "scores": torch.ones(len(b)), "iuv": iuv}
                           for b, iuv in zip(given, model.densepose_on_boxes(images.to(device), given))]
            else:
                outputs = model(images.to(device), image_sizes=[tuple(t["image_size"]) for t in targets])
            for out, target in zip(outputs, targets):
                scale = float(target["scale"])
                boxes = (out["boxes"] / scale).cpu().numpy()
                scores = out["scores"].cpu().numpy()
                iuv = out["iuv"].cpu().numpy()
                for box, score, maps in zip(boxes, scores, iuv):
                    x1, y1, x2, y2 = (float(v) for v in box)
                    quantised = np.stack([maps[0], np.round(maps[1] * 255), np.round(maps[2] * 255)]).astype(np.uint8)
                    # Box size in whole pixels, as results files hold it (the official format).
                    box_xywh = whole_pixel_box((x1, y1, x2 - x1, y2 - y1))
                    results.append(DensePoseResult(int(target["image_id"]), 1, box_xywh, float(score), quantised))
    finally:
        model.train(was_training)
    return results
