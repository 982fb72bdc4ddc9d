"""A short training run on a few synthetic images raises GPS AP well above its start.

The whole chain is exercised for real: synthetic images and points, the DensePose
R-CNN losses, AdamW, inference, the results format and the GPS evaluation. Two
images are both the training and the evaluation set, so 160 steps on one CPU thread
(about half a minute) are enough to fit them; what is checked is that every part of
the pipeline points the same way (a transposed point, a swapped U/V or a wrong part
index would keep GPS AP near 0 however low the loss goes).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nas.data import BodySurface, DensePoseDataset, SynthConfig, generate_dataset
from nas.eval import evaluate
from nas.model.rcnn import build_densepose_rcnn
from nas.space import decode
from nas.train import Budget, TrainConfig, train
from nas.train.predict import predict

ARCH = decode(
    "stem_k3_c16_s2_relu+dw_k3_c16_n1_s1_relu+ir_k3_e3_c24_n1_s2_relu+ir_k3_e3_c32_n1_s2_relu+ir_k3_e3_c48_n1_s2_relu"
    "+ir_k3_e3_c64_n1_s1_relu+ir_k3_e3_c96_n1_s2_relu+ir_k3_e3_c128_n1_s1_relu+fpn_c32_l3.5+head_n2_c64_k3_r14_o28_b128+in128x128"
)


@pytest.fixture(scope="module")
def two_images(tmp_path_factory) -> Path:
    """A dataset whose train and val splits are the same two images with DensePose points."""
    out = tmp_path_factory.mktemp("learn") / "data"
    generate_dataset(out, SynthConfig(images=10, size=128, seed=3), workers=1, progress=False)
    coco = json.loads((out / "annotations" / "train.json").read_text())
    with_points = {a["image_id"] for a in coco["annotations"] if "dp_x" in a}
    keep = sorted(with_points)[:2]
    subset = {**coco, "images": [i for i in coco["images"] if i["id"] in keep],
              "annotations": [a for a in coco["annotations"] if a["image_id"] in keep]}
    for split in ("train", "val"):
        (out / "annotations" / f"{split}.json").write_text(json.dumps(subset))
    return out


def _gps_ap_untrained(data: Path, seed: int) -> float:
    torch.manual_seed(seed)
    model = build_densepose_rcnn(ARCH)
    val = data / "annotations" / "val.json"
    dataset = DensePoseDataset(val, data / "images", input_size=(128, 128), train=False)
    results = predict(model, dataset, torch.device("cpu"))
    return 100 * evaluate(val, results, BodySurface.load(data / "surface.npz"), image_ids=dataset.image_ids)["gps_ap"]


@pytest.mark.slow
def test_short_training_raises_gps_ap(two_images: Path) -> None:
    start = _gps_ap_untrained(two_images, seed=0)
    config = TrainConfig(budget=Budget(steps=160), input_size=(128, 128), batch_size=2, evals=2, lr=3e-3, seed=0, device="cpu", threads=1)
    result = train(ARCH, two_images, config, progress=False)
    assert start < 5.0
    assert result.metrics["gps_ap"] > start + 20.0, result.history
    assert result.metrics["gpsm_ap"] > 10.0 and result.metrics["iou_ap"] > 10.0
