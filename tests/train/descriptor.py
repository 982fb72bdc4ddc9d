"""A dataset given by a descriptor YAML, built from a synthetic dataset folder: each
split's annotation file under its own name and its images in a folder of their own, so a
split read from the other split's folder finds none of its images."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


def split_descriptor(folder: Path, out: Path) -> Path:
    """Copy the synthetic dataset ``folder`` into ``out`` in another layout and return the
    descriptor ``out/dataset.yaml`` (paths relative to it)::

        out/annotations/dp_train.json, out/annotations/dp_val.json
        out/train_images/   the train split's images only
        out/val_images/     the val split's images only
        out/body/surface.npz
    """
    (out / "annotations").mkdir(parents=True)
    for split in ("train", "val"):
        annotations = folder / "annotations" / f"{split}.json"
        shutil.copy2(annotations, out / "annotations" / f"dp_{split}.json")
        images = out / f"{split}_images"
        images.mkdir()
        for image in json.loads(annotations.read_text())["images"]:
            shutil.copy2(folder / "images" / image["file_name"], images / image["file_name"])
    (out / "body").mkdir()
    shutil.copy2(folder / "surface.npz", out / "body" / "surface.npz")
    descriptor = out / "dataset.yaml"
    descriptor.write_text("# the tiny synthetic dataset, split over two image folders\n"
                          "train:\n  annotations: annotations/dp_train.json\n  images: train_images\n"
                          "val:\n  annotations: annotations/dp_val.json\n  images: val_images\n"
                          "surface: body/surface.npz\n")
    return descriptor
