"""Predictions on the detector's boxes or on the ground-truth boxes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from nas.data import DensePoseDataset, SynthConfig, generate_dataset
from nas.data.source import DatasetSource
from nas.model.rcnn import build_densepose_rcnn
from nas.space import decode
from nas.train import Evaluator, TrainConfig
from nas.train.predict import predict

ARCH = decode(
    "stem_k3_c16_s2_relu+ir_k3_e3_c16_n1_s2_relu+ir_k3_e3_c24_n1_s2_relu+dw_k3_c32_n1_s2_relu+ir_k3_e3_c48_n1_s2_relu"
    "+fpn_c32_l2.5+head_n2_c32_k3_r7_o28_b64+in128x96"
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("predict") / "data"
    generate_dataset(out, SynthConfig(images=10, size=128, seed=4), workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def val_set(data_dir: Path) -> tuple[DensePoseDataset, list[dict]]:
    val = data_dir / "annotations" / "val.json"
    return DensePoseDataset(val, data_dir / "images", input_size=(96, 80), train=False), json.loads(val.read_text())["annotations"]


def test_gt_boxes_give_one_result_per_densepose_person_at_its_box(val_set) -> None:
    dataset, annotations = val_set
    torch.manual_seed(0)
    model = build_densepose_rcnn(ARCH)
    results = predict(model, dataset, torch.device("cpu"), box_source="gt")
    people = [a for a in annotations if not a.get("iscrowd") and "dp_x" in a]
    assert len(people) > 0
    assert sorted((r.image_id, tuple(np.round(r.bbox, 2))) for r in results) == sorted(
        (a["image_id"], tuple(np.round(a["bbox"], 2))) for a in people)  # resized and scaled back: the same boxes
    assert all(r.score == 1.0 for r in results)
    size = ARCH.head.out
    assert all(r.iuv.shape == (3, size, size) and r.iuv[0].max() <= 24 for r in results)
    assert model.training  # predict restores the mode it found


def test_evaluator_scores_the_head_on_gt_boxes(data_dir: Path, val_set) -> None:
    torch.manual_seed(0)
    model = build_densepose_rcnn(ARCH)
    config = TrainConfig(input_size=(96, 80), val_images=None, device="cpu")
    metrics = Evaluator(DatasetSource.load(data_dir), config, torch.device("cpu"), box_source="gt")(model)
    people = [a for a in val_set[1] if not a.get("iscrowd") and "dp_x" in a]
    assert metrics["detections"] == len(people)  # one per person, whatever an untrained detector would find
    assert metrics["iou_ap"] >= 0.0 and metrics["gps_ap"] >= 0.0  # defined: every person has a box


def test_unknown_box_source_is_refused(val_set) -> None:
    with pytest.raises(ValueError, match="box_source must be one of detected, gt, got 'oracle'"):
        predict(build_densepose_rcnn(ARCH), val_set[0], torch.device("cpu"), box_source="oracle")  # type: ignore[arg-type]


def test_densepose_on_boxes_handles_images_without_boxes() -> None:
    model = build_densepose_rcnn(ARCH).eval()
    maps = model.densepose_on_boxes(torch.rand(2, 3, 128, 96), [torch.zeros((0, 4)), torch.tensor([[10.0, 20.0, 60.0, 110.0]])])
    assert [tuple(m.shape) for m in maps] == [(0, 3, ARCH.head.out, ARCH.head.out), (1, 3, ARCH.head.out, ARCH.head.out)]
    empty = model.densepose_on_boxes(torch.rand(1, 3, 128, 96), [torch.zeros((0, 4))])
    assert empty[0].shape == (0, 3, ARCH.head.out, ARCH.head.out)
