"""The training path without data-dependent shapes (``DensePoseRCNN.use_static_shapes``, the
CUDA step's) agrees with the per-image, per-RoI path it stands in for: batched RoIAlign,
pooling, matching and losses to float tolerance on random boxes, empty images, crowd
instances and images without DensePose points; its sampler draws what the per-image
sampler draws, as a distribution."""

from __future__ import annotations

import pytest
import torch

from nas.data import DensePoseDataset, collate
from nas.model.rcnn import build_densepose_rcnn
from nas.model.rcnn.boxes import STATIC_NMS_PASSES, box_iou, sorted_nms
from nas.model.rcnn.config import RCNNConfig
from nas.model.rcnn.matching import match, match_padded, sample_among, sample_padded
from nas.model.rcnn.pooler import MultiScaleRoIAlign
from nas.model.rcnn.roi_align import roi_align, roi_align_padded
from nas.model.rcnn.rpn import RPN
from nas.model.shapes import ShapeSpec
from tests.rcnn.test_batched import _random_boxes
from tests.rcnn.test_model import _arch

# every anchor, proposal and DensePose RoI labelled is sampled: both paths see the same sets
EXHAUSTIVE = RCNNConfig(rpn_batch_per_image=10**6, rpn_positive_fraction=1.0, roi_batch_per_image=10**6,
                        roi_positive_fraction=1.0, dp_max_rois_per_image=10**6)


def _empty_like(target: dict) -> dict:
    """``target`` with no instance and no point (an image with nobody in it)."""
    emptied = {k: v[:0] if isinstance(v, torch.Tensor) else v for k, v in target.items()}
    return emptied


@pytest.fixture(scope="module")
def hard_batch(tiny_dataset):
    """Four images: as loaded; one instance crowd; no DensePose data at all; nobody."""
    ds = DensePoseDataset(tiny_dataset / "annotations" / "train.json", tiny_dataset / "images", input_size=(128, 96), train=True, mask_size=32)
    images, targets = collate([ds[i] for i in range(4)])
    targets = [dict(t) for t in targets]
    assert len(targets[1]["boxes"]) >= 2, "the synthetic image 1 should hold two people"
    targets[1]["is_crowd"] = targets[1]["is_crowd"].clone()
    targets[1]["is_crowd"][0] = True
    targets[2]["has_dp"] = torch.zeros_like(targets[2]["has_dp"])
    for key in ("dp_inst", "dp_xy", "dp_I", "dp_U", "dp_V"):
        targets[2][key] = targets[2][key][:0]
    targets[3] = _empty_like(targets[3])
    return images, targets


@pytest.mark.parametrize("neck", ["fpn", "none"])
def test_static_losses_and_gradients_equal_the_per_image_path_when_sampling_takes_everything(hard_batch, neck: str) -> None:
    images, targets = hard_batch
    torch.manual_seed(0)
    model = build_densepose_rcnn(_arch(neck), EXHAUSTIVE).train()
    results = []
    for static in (False, True):
        model.zero_grad()
        losses = model.use_static_shapes(static)(images, targets)
        sum(losses.values()).backward()
        results.append((losses, [p.grad.clone() for p in model.parameters()]))
    (exact, exact_grads), (static_losses, static_grads) = results
    assert exact["dp_part"] > 0 and exact["box_reg"] > 0  # the batch has DensePose RoIs and foreground
    for name, value in exact.items():
        assert torch.allclose(static_losses[name], value, rtol=1e-5, atol=1e-6), name
    for a, b in zip(exact_grads, static_grads):  # float32 sums in another order: to 1e-4 of each tensor's scale
        assert (a - b).abs().max() <= 1e-4 * a.abs().max() + 1e-6


def test_static_path_samples_fixed_counts_and_learns(hard_batch) -> None:
    images, targets = hard_batch
    torch.manual_seed(1)
    model = build_densepose_rcnn(_arch("fpn")).train().use_static_shapes()
    losses = model(images, targets)
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    sum(losses.values()).backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())
    assert model.dp_head.predictors["u"].weight.grad.abs().sum() > 0


def test_roi_align_padded_equals_roi_align_image_by_image() -> None:
    gen = torch.Generator().manual_seed(0)
    features = torch.randn(3, 5, 12, 10, generator=gen)
    boxes = torch.stack([_random_boxes(gen, 7, span=30.0) for _ in range(3)])  # (3, 7, 4)
    weight = torch.rand(3, 7, generator=gen) > 0.3
    pooled = roi_align_padded(features, boxes, (4, 3), 0.25, 2, weight=weight).reshape(3, 7, 5, 4, 3)
    for b in range(3):
        rois = torch.cat([torch.full((7, 1), float(b)), boxes[b]], 1)
        expected = roi_align(features, rois, (4, 3), 0.25, 2) * weight[b, :, None, None, None]
        assert torch.allclose(pooled[b], expected, atol=1e-5)


def test_pooler_forward_padded_equals_forward_on_the_lists() -> None:
    gen = torch.Generator().manual_seed(1)
    levels = {"p2": ShapeSpec(4, 4), "p3": ShapeSpec(4, 8), "p4": ShapeSpec(4, 16), "p5": ShapeSpec(4, 32)}
    pooler = MultiScaleRoIAlign(levels, 5, canonical_level=4, canonical_size=48.0)
    features = {name: torch.randn(2, 4, 128 // s.stride, 96 // s.stride, generator=gen) for name, s in levels.items()}
    xy = torch.rand(2, 9, 2, generator=gen) * 40
    boxes = torch.cat([xy, xy + torch.rand(2, 9, 2, generator=gen) * 80 + 2], 2)  # sizes spread over the levels
    assert len(torch.unique(pooler.assign_levels(boxes.reshape(-1, 4)))) >= 3
    expected = pooler(features, [boxes[0], boxes[1]])
    assert torch.allclose(pooler.forward_padded(features, boxes), expected, atol=1e-5)


@pytest.mark.parametrize("low_quality", [False, True])
def test_match_padded_equals_match_per_image(low_quality: bool) -> None:
    gen = torch.Generator().manual_seed(2)
    gt = torch.stack([_random_boxes(gen, 4) for _ in range(3)])
    columns = torch.stack([_random_boxes(gen, 50) for _ in range(3)])
    gt_valid = torch.tensor([[True, True, False, True], [False, False, False, False], [True, False, False, False]])
    column_valid = torch.rand(3, 50, generator=gen) > 0.1
    index, label = match_padded(box_iou(gt, columns), gt_valid, 0.5, 0.3, low_quality, column_valid)
    for b in range(3):
        real = torch.nonzero(gt_valid[b]).flatten()
        want_index, want_label = match(box_iou(gt[b, real], columns[b]), 0.5, 0.3, low_quality)
        want_label = want_label.masked_fill(~column_valid[b], -1)
        assert torch.equal(label[b], want_label)
        foreground = want_label == 1
        assert torch.equal(index[b][foreground], real[want_index[foreground]])
    assert (label[1] <= 0).all() and (label[1][column_valid[1]] == 0).all()  # no valid GT: background


def test_sample_padded_draws_the_per_image_counts_from_the_right_labels() -> None:
    torch.manual_seed(3)
    label = torch.full((3, 40), -1)
    label[0, :5], label[0, 5:30] = 1, 0  # 5 foreground, 25 background
    label[1, :20], label[1, 20:24] = 1, 0  # more foreground than its share
    label[2, 30:] = 0  # background only, fewer than the batch
    index, valid, positive = sample_padded(label, 16, 0.25)
    assert index.shape == (3, 16)
    for b, (want_pos, want_neg) in enumerate([(4, 12), (4, 4), (0, 10)]):
        chosen = index[b][valid[b]]
        assert len(set(chosen.tolist())) == len(chosen)
        assert (label[b, index[b][positive[b]]] == 1).all() and int(positive[b].sum()) == want_pos
        assert (label[b, index[b][valid[b] & ~positive[b]]] == 0).all() and int((valid[b] & ~positive[b]).sum()) == want_neg
        assert not valid[b, want_pos + want_neg:].any()  # used slots first


def test_sample_among_is_uniform_over_the_candidates() -> None:
    torch.manual_seed(4)
    candidate = torch.zeros(2000, 10, dtype=torch.bool)
    candidate[:, 2:8] = True
    index, valid = sample_among(candidate, 3)
    assert valid.all() and candidate.gather(1, index).all()
    counts = torch.bincount(index.flatten(), minlength=10)[2:8].float()
    assert counts.sum() == 6000 and (counts - 1000).abs().max() < 120  # 1000 each, binomial sd ~26


def test_fixed_pass_nms_is_exact_once_the_passes_cover_the_longest_chain() -> None:
    # a chain: each box overlaps only the next (IoU 9/11 > 0.7), so greedy keeps every other one
    boxes = torch.tensor([[[x, 0.0, x + 10.0, 10.0] for x in range(0, 8)]])
    valid = torch.ones(1, 8, dtype=torch.bool)
    greedy = sorted_nms(boxes, valid, 0.7)
    assert greedy.tolist() == [[True, False, True, False, True, False, True, False]]
    assert torch.equal(sorted_nms(boxes, valid, 0.7, passes=8), greedy)
    assert not torch.equal(sorted_nms(boxes, valid, 0.7, passes=3), greedy)  # too few passes: the tail is not final


@pytest.mark.parametrize("training", [True, False])
def test_static_proposal_selection_equals_the_exact_one(training: bool) -> None:
    """Every level in one NMS of fixed passes (the static path) against level by level to
    convergence, on random scores with non-finite ones and a level whose boxes collapse."""
    gen = torch.Generator().manual_seed(5)
    levels = {"p2": ShapeSpec(8, 4), "p3": ShapeSpec(8, 8), "p4": ShapeSpec(8, 16)}
    rpn = RPN(levels, RCNNConfig(rpn_pre_nms_train=80, rpn_post_nms_train=60)).train(training)
    feats = [torch.zeros(3, 8, 16, 16), torch.zeros(3, 8, 8, 8), torch.zeros(3, 8, 4, 4)]
    anchors = rpn.anchor_generator(feats)
    logits = [torch.randn(3, len(a), generator=gen) for a in anchors]
    deltas = [torch.randn(3, len(a), 4, generator=gen) * 0.5 for a in anchors]
    logits[0][1, :5] = float("nan")
    deltas[1][2] = torch.tensor([0.0, 0.0, -30.0, -30.0])
    sizes = [(64, 48), (64, 64), (40, 64)]
    exact = rpn.select_proposals_padded(anchors, logits, deltas, sizes)
    static = rpn.select_proposals_padded(anchors, logits, deltas, sizes, nms_passes=STATIC_NMS_PASSES)
    assert torch.equal(static[1], exact[1]) and torch.equal(static[0][static[1]], exact[0][exact[1]])
    assert torch.equal(static[0], exact[0])
