"""Every loss term vanishes for perfect predictions, and is positive otherwise."""

from __future__ import annotations

import torch

from nas.model.rcnn.box_head import box_losses
from nas.model.rcnn.boxes import BoxCoder, box_iou
from nas.model.rcnn.config import RCNNConfig
from nas.model.rcnn.densepose_head import densepose_losses
from nas.model.rcnn.matching import match
from nas.model.rcnn.rpn import RPN
from nas.model.shapes import ShapeSpec

BIG = 60.0  # a logit margin whose softmax cross-entropy is ~exp(-60)


def _one_hot_logits(labels: torch.Tensor, classes: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(labels, classes).movedim(-1, 1).float() * BIG


def _dp_case(perfect: bool) -> dict[str, torch.Tensor]:
    size = 8
    box = torch.tensor([[0.0, 0.0, 32.0, 32.0]])
    masks = torch.full((1, 16, 16), 3, dtype=torch.uint8)  # the whole box is coarse part 3
    point_xy = torch.tensor([[20.0, 30.0], [128.0, 128.0], [200.0, 60.0], [90.0, 240.0]])
    point_i = torch.full((4,), 5)
    point_u, point_v = torch.full((4,), 0.25), torch.full((4,), 0.75)
    coarse = _one_hot_logits(torch.full((1, size, size), 3 if perfect else 0), 15)
    fine = _one_hot_logits(torch.full((1, size, size), 5 if perfect else 6), 25)
    u = torch.zeros(1, 25, size, size)
    v = torch.zeros(1, 25, size, size)
    u[:, 5], v[:, 5] = (0.25, 0.75) if perfect else (0.5, 0.5)
    out = {"coarse": coarse, "fine": fine, "u": u, "v": v}
    return densepose_losses(out, box, box, masks, torch.zeros(4, dtype=torch.int64), point_xy, point_i, point_u, point_v)


def test_densepose_losses_vanish_for_perfect_output() -> None:
    losses = _dp_case(perfect=True)
    assert set(losses) == {"dp_segm", "dp_part", "dp_uv"}
    for name, value in losses.items():
        assert value.item() < 1e-6, name


def test_densepose_losses_are_positive_for_wrong_output() -> None:
    losses = _dp_case(perfect=False)
    assert losses["dp_segm"].item() > 10 and losses["dp_part"].item() > 10
    # smooth-L1 (beta 0.05) of errors 0.25 in U and V: 2 x (0.25 - 0.025)
    assert abs(losses["dp_uv"].item() - 2 * (0.25 - 0.025)) < 1e-5


def test_box_losses_vanish_for_perfect_output() -> None:
    labels = torch.tensor([1, 1, 0, 0])
    targets = torch.randn(4, 4)
    logits = _one_hot_logits(labels, 2)
    losses = box_losses(logits, targets.clone(), labels, targets)
    assert losses["box_cls"].item() < 1e-6 and losses["box_reg"].item() < 1e-6
    wrong = box_losses(_one_hot_logits(1 - labels, 2), targets + 1, labels, targets)
    assert wrong["box_cls"].item() > 10 and wrong["box_reg"].item() > 0.4


def test_rpn_losses_vanish_for_perfect_output() -> None:
    cfg = RCNNConfig()
    rpn = RPN({"p3": ShapeSpec(8, 8)}, cfg)
    anchors = rpn.anchor_generator([torch.zeros(1, 8, 8, 8)])[0]
    gt = [torch.tensor([[10.0, 12.0, 40.0, 60.0]])]
    index, label = match(box_iou(gt[0], anchors), cfg.rpn_fg_iou, cfg.rpn_bg_iou, allow_low_quality=True)
    logits = torch.where(label == 1, BIG, -BIG)[None]
    deltas = BoxCoder().encode(anchors, gt[0][index])[None]
    losses = rpn.anchor_losses(anchors, logits, deltas, gt)
    assert losses["rpn_cls"].item() < 1e-6 and losses["rpn_box"].item() < 1e-6
    flipped = rpn.anchor_losses(anchors, -logits, deltas + 0.5, gt)
    assert flipped["rpn_cls"].item() > 10 and flipped["rpn_box"].item() > 0
