"""DensePose R-CNN end to end on tiny synthetic data: losses, gradients, inference outputs."""

from __future__ import annotations

import pytest
import torch

from nas.data import DensePoseDataset, collate
from nas.model.necks import neck_names
from nas.model.rcnn import build_densepose_rcnn
from nas.model.rcnn.densepose_head import _coarse_targets, _points_in_rois, iuv_from_output
from nas.model.rcnn.rpn import AnchorGenerator
from nas.model.shapes import ShapeSpec
from nas.space import decode

BACKBONE = "stem_k3_c16_s2_relu+ir_k3_e3_c16_n1_s2_relu+ir_k3_e3_c24_n1_s2_relu+mix_k3.5_e3_c32_n1_s2_relu+fire_sq8_c48_n1_s2_relu"
HEAD = "head_n2_c32_k3_r7_o28_b64"


def _arch(neck: str):
    token = {"none": "none_c32_l4.4", "fpn": "fpn_c32_l2.5", "panet": "panet_c32_l2.5_dw", "bifpn": "bifpn_c32_l2.6_dw_r2"}[neck]
    return decode(f"{BACKBONE}+{token}+{HEAD}+in128x96")


@pytest.fixture(scope="module")
def batch(tiny_dataset):
    ds = DensePoseDataset(tiny_dataset / "annotations" / "train.json", tiny_dataset / "images", input_size=(128, 96), train=True, mask_size=32)
    return collate([ds[i] for i in range(min(2, len(ds)))])


@pytest.mark.parametrize("neck", neck_names())
def test_training_losses_and_gradients(batch, neck: str) -> None:
    torch.manual_seed(0)
    model = build_densepose_rcnn(_arch(neck)).train()
    images, targets = batch
    losses = model(images, targets)
    assert set(losses) == {"rpn_cls", "rpn_box", "box_cls", "box_reg", "dp_segm", "dp_part", "dp_uv"}
    assert all(torch.isfinite(v) for v in losses.values())
    # fresh classifiers: CE of 15 coarse classes ~ log 15 weighted x2, objectness ~ log 2
    assert 0.5 < losses["rpn_cls"].item() < 0.9
    assert losses["dp_part"].item() > 1.0
    sum(losses.values()).backward()
    for part in (model.features.backbone, model.features.neck, model.rpn, model.box_head, model.dp_head):
        grads = [p.grad for p in part.parameters() if p.requires_grad]
        assert any(g is not None and g.abs().sum() > 0 for g in grads), type(part).__name__


@pytest.mark.parametrize("neck", ["none", "fpn"])
def test_inference_outputs(batch, neck: str) -> None:
    model = build_densepose_rcnn(_arch(neck)).eval()
    images, targets = batch
    with torch.no_grad():
        out = model(images, image_sizes=[t["image_size"] for t in targets])
    assert len(out) == len(images)
    for det in out:
        d = len(det["boxes"])
        assert d <= 20
        assert det["scores"].shape == (d,) and det["iuv"].shape == (d, 3, 28, 28)
        if d:
            assert det["iuv"][:, 0].min() >= 0 and det["iuv"][:, 0].max() <= 24
            assert det["iuv"][:, 1:].min() >= 0 and det["iuv"][:, 1:].max() <= 1
            assert (det["scores"][:-1] >= det["scores"][1:]).all()


def test_anchor_generator_levels() -> None:
    levels = {"p2": ShapeSpec(8, 4), "p3": ShapeSpec(8, 8)}
    gen = AnchorGenerator(levels, (0.5, 1.0, 2.0))
    anchors = gen([torch.zeros(1, 8, 4, 3), torch.zeros(1, 8, 2, 2)])
    assert [a.shape for a in anchors] == [(4 * 3 * 3, 4), (2 * 2 * 3, 4)]
    square = anchors[0][1]  # location (0, 0), ratio 1: a 32 x 32 box centred on the origin
    torch.testing.assert_close(square, torch.tensor([-16.0, -16.0, 16.0, 16.0]))
    # the next location is one stride (4 px) to the right
    torch.testing.assert_close(anchors[0][4] - anchors[0][1], torch.tensor([4.0, 0.0, 4.0, 0.0]))
    single = AnchorGenerator({"p4": ShapeSpec(8, 16)}, (1.0,))
    assert single.num_anchors == 5  # every size 32..512 at the one level


def test_points_map_from_gt_frame_to_roi_frame() -> None:
    gt = torch.tensor([[10.0, 20.0, 110.0, 220.0]])
    roi = torch.tensor([[10.0, 20.0, 60.0, 120.0]])  # the GT's top-left quarter... in area
    pts = torch.tensor([[128.0, 128.0]])  # the GT box centre: (60, 120) in the image
    torch.testing.assert_close(_points_in_rois(roi, gt, pts), torch.tensor([[1.0, 1.0]]))


def test_coarse_targets_read_gt_labels() -> None:
    masks = torch.zeros(1, 4, 4, dtype=torch.uint8)
    masks[0, :2, :2] = 3  # top-left quarter of the GT box is part 3
    gt = torch.tensor([[0.0, 0.0, 8.0, 8.0]])
    roi = torch.tensor([[-8.0, 0.0, 8.0, 8.0]])  # left half of the RoI is outside the GT
    labels = _coarse_targets(roi, gt, masks, 4)
    expected = torch.tensor([[0, 0, 3, 0], [0, 0, 3, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    torch.testing.assert_close(labels[0], expected)


def test_iuv_uses_coarse_foreground_and_part_chart() -> None:
    k, size = 1, 2
    out = {"coarse": torch.zeros(k, 15, size, size), "fine": torch.zeros(k, 25, size, size),
           "u": torch.zeros(k, 25, size, size), "v": torch.zeros(k, 25, size, size)}
    out["coarse"][0, 0] = 5.0  # background everywhere ...
    out["coarse"][0, 0, 0, 0] = 0.0  # ... but pixel (0, 0), where 14 parts at 0 outweigh background at 0
    out["fine"][0, 7, 0, 0] = 3.0  # ... of part 7
    out["u"][0, 7, 0, 0], out["v"][0, 7, 0, 0] = 0.25, 1.5  # V clamps to 1
    iuv = iuv_from_output(out)
    torch.testing.assert_close(iuv[0, :, 0, 0], torch.tensor([7.0, 0.25, 1.0]))
    assert iuv[0, :, 1, 1].abs().sum() == 0  # background


def test_foreground_is_body_probability_above_one_half() -> None:
    """One part slightly below background, but the body as a whole above it: person."""
    coarse = torch.full((1, 15, 1, 1), -10.0)
    coarse[0, 0], coarse[0, 3], coarse[0, 4] = 1.0, 0.9, 0.9
    out = {"coarse": coarse, "fine": torch.zeros(1, 25, 1, 1), "u": torch.zeros(1, 25, 1, 1), "v": torch.zeros(1, 25, 1, 1)}
    assert iuv_from_output(out)[0, 0, 0, 0] > 0
    coarse[0, 4] = -10.0  # now background (1.0) beats the body (0.9 alone)
    assert iuv_from_output(out)[0, 0, 0, 0] == 0
