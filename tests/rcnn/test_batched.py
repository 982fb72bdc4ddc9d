"""The batched proposal selection and NMS agree with the per-image, per-level versions they
replaced (written out here as references), on random boxes, padding, invalid boxes and
images whose every box is invalid."""

from __future__ import annotations

import pytest
import torch

from nas.model.rcnn.boxes import BoxCoder, batched_nms, clip_boxes, sorted_nms
from nas.model.rcnn.config import RCNNConfig
from nas.model.rcnn.rpn import RPN
from nas.model.shapes import ShapeSpec
from tests.rcnn.test_roi_ops import _greedy_nms


def _random_boxes(gen: torch.Generator, n: int, span: float = 60.0) -> torch.Tensor:
    xy = torch.rand(n, 2, generator=gen) * span
    return torch.cat([xy, xy + torch.rand(n, 2, generator=gen) * 30 + 1], 1)


@pytest.mark.parametrize("seed", range(4))
def test_sorted_nms_of_padded_groups_equals_greedy_per_group(seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    groups, k = 5, 40
    boxes = torch.stack([_random_boxes(gen, k) for _ in range(groups)])
    valid = torch.rand(groups, k, generator=gen) > 0.2
    valid[3] = False  # a group with nothing real in it
    valid[4, 25:] = False  # padding at the end
    keep = sorted_nms(boxes, valid, 0.5)
    for g in range(groups):
        real = torch.nonzero(valid[g]).flatten()
        # rows are in decreasing score order: score = -position
        expected = real[_greedy_nms(boxes[g, real], -real.float(), 0.5)].sort().values
        assert torch.nonzero(keep[g]).flatten().tolist() == expected.tolist()
    assert not keep[3].any() and not keep[4, 25:].any()


def test_sorted_nms_threshold_is_strict() -> None:
    # IoU of the pair = 81 / 119: suppressed above 0.68, not at 0.7 nor at exactly the IoU
    boxes = torch.tensor([[[0, 0, 10, 10], [1, 1, 11, 11.0]]])
    valid = torch.ones(1, 2, dtype=torch.bool)
    assert sorted_nms(boxes, valid, 0.5).tolist() == [[True, False]]
    assert sorted_nms(boxes, valid, 0.7).tolist() == [[True, True]]
    assert sorted_nms(boxes, valid, 81 / 119).tolist() == [[True, True]]


def _per_image_select(rpn: RPN, anchors, logits, deltas, image_sizes) -> list[torch.Tensor]:
    """The selection as it was: image by image, NMS per level as a category."""
    cfg = rpn.config
    pre = cfg.rpn_pre_nms_train if rpn.training else cfg.rpn_pre_nms_test
    post = cfg.rpn_post_nms_train if rpn.training else cfg.rpn_post_nms_test
    coder, out = BoxCoder(), []
    for i, size in enumerate(image_sizes):
        boxes, scores, levels = [], [], []
        for lvl, (anc, lg, dl) in enumerate(zip(anchors, logits, deltas)):
            k = min(pre, lg.shape[1])
            top_scores, top = lg[i].topk(k)
            boxes.append(clip_boxes(coder.decode(dl[i, top], anc[top]), size))
            scores.append(top_scores)
            levels.append(torch.full((k,), lvl, dtype=torch.int64))
        b, s, lv = torch.cat(boxes), torch.cat(scores), torch.cat(levels)
        valid = ((b[:, 2] - b[:, 0]) > 1e-3) & ((b[:, 3] - b[:, 1]) > 1e-3) & torch.isfinite(s)
        b, s, lv = b[valid], s[valid], lv[valid]
        out.append(b[batched_nms(b, s, lv, cfg.rpn_nms)[:post]])
    return out


@pytest.mark.parametrize("training", [True, False])
def test_batched_proposal_selection_equals_per_image_selection(training: bool) -> None:
    gen = torch.Generator().manual_seed(7)
    levels = {"p2": ShapeSpec(8, 4), "p3": ShapeSpec(8, 8), "p4": ShapeSpec(8, 16)}
    config = RCNNConfig(rpn_pre_nms_train=60, rpn_post_nms_train=50, rpn_pre_nms_test=40, rpn_post_nms_test=30)
    rpn = RPN(levels, config).train(training)
    sizes = [(64, 48), (64, 64), (40, 64)]
    feats = [torch.zeros(3, 8, 16, 16), torch.zeros(3, 8, 8, 8), torch.zeros(3, 8, 4, 4)]
    anchors = rpn.anchor_generator(feats)
    logits = [torch.randn(3, len(a), generator=gen) for a in anchors]
    deltas = [torch.randn(3, len(a), 4, generator=gen) * 0.5 for a in anchors]
    logits[0][1, :5] = float("nan")  # non-finite scores are never proposals
    deltas[1][2] = torch.tensor([0.0, 0.0, -30.0, -30.0])  # image 2, level p3: every box collapses
    batched = rpn.select_proposals(anchors, logits, deltas, sizes)
    reference = _per_image_select(rpn, anchors, logits, deltas, sizes)
    assert [len(b) for b in batched] == [len(b) for b in reference]
    for mine, theirs in zip(batched, reference):
        assert torch.allclose(mine, theirs)


def test_an_image_without_any_valid_box_gets_no_proposal() -> None:
    levels = {"p3": ShapeSpec(8, 8)}
    rpn = RPN(levels, RCNNConfig()).train()
    feats = [torch.zeros(2, 8, 4, 4)]
    anchors = rpn.anchor_generator(feats)
    logits = [torch.zeros(2, len(anchors[0]))]
    deltas = [torch.zeros(2, len(anchors[0]), 4)]
    deltas[0][1, :, 2:] = -30.0  # image 1: every box shrinks to nothing
    out = rpn.select_proposals(anchors, logits, deltas, [(32, 32), (32, 32)])
    assert len(out[0]) > 0 and out[1].shape == (0, 4)


def _per_roi_points(targets, dp_rois):
    """The DensePose points gathered RoI by RoI, as the loss did before (one lookup per RoI)."""
    p_roi, p_xy, p_i, p_u, p_v, offset = [], [], [], [], [], 0
    for i, _, inst in dp_rois:
        t = targets[i]
        for k, g in enumerate(inst.tolist()):
            pts = torch.nonzero(t["dp_inst"] == g).flatten()
            p_roi.append(torch.full((len(pts),), offset + k, dtype=torch.int64))
            p_xy.append(t["dp_xy"][pts])
            p_i.append(t["dp_I"][pts])
            p_u.append(t["dp_U"][pts])
            p_v.append(t["dp_V"][pts])
        offset += len(inst)
    return [torch.cat(x) for x in (p_roi, p_xy, p_i, p_u, p_v)]


def test_densepose_points_gathered_for_all_rois_at_once_equal_the_per_roi_gathering(tiny_dataset) -> None:
    from nas.data import DensePoseDataset, collate
    from nas.model.rcnn import build_densepose_rcnn
    from nas.model.rcnn import model as rcnn_model
    from tests.rcnn.test_model import _arch

    ds = DensePoseDataset(tiny_dataset / "annotations" / "train.json", tiny_dataset / "images", input_size=(128, 96),
                          train=True, mask_size=32)
    images, targets = collate([ds[i] for i in range(min(3, len(ds)))])
    torch.manual_seed(0)
    model = build_densepose_rcnn(_arch("fpn")).train()
    feats = model.features(model.normalise(images))
    # RoIs: every instance with points, twice for the first image (two proposals on one person),
    # none for the last image
    dp_rois = []
    for i, t in enumerate(targets[:-1]):
        inst = torch.nonzero(t["has_dp"]).flatten()
        inst = torch.cat([inst, inst[:1]]) if i == 0 else inst
        dp_rois.append((i, t["boxes"][inst] + 1.5, inst))
    seen = {}
    original = rcnn_model.densepose_losses

    def spy(output, boxes, gt_boxes, gt_masks, *points):
        seen["points"] = points
        return original(output, boxes, gt_boxes, gt_masks, *points)

    rcnn_model.densepose_losses = spy
    try:
        model.dp_losses(feats, targets, dp_rois, len(targets), torch.device("cpu"))
    finally:
        rcnn_model.densepose_losses = original
    expected = _per_roi_points(targets, dp_rois)
    assert len(expected[0]) > 0
    for mine, theirs in zip(seen["points"], expected):
        assert torch.equal(mine, theirs)
