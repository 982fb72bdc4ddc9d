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


def _grid_sample_points(maps: torch.Tensor, roi: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
    """Each point read with grid_sample from its own RoI's maps (the rule sample_points follows)."""
    import torch.nn.functional as F

    grid = (uv * 2 - 1)[:, None, None, :]  # (P, 1, 1, 2)
    return F.grid_sample(maps[roi], grid, mode="bilinear", align_corners=False)[:, :, 0, 0]


def test_point_sampling_by_gathers_equals_grid_sample() -> None:
    from nas.model.rcnn.densepose_head import sample_points

    gen = torch.Generator().manual_seed(3)
    maps = torch.randn(4, 5, 12, 12, generator=gen)
    roi = torch.tensor([0, 0, 1, 3, 3, 3, 2, 1])  # RoI 2 has one point, RoIs in any order
    uv = torch.rand(8, 2, generator=gen)
    uv[0] = torch.tensor([0.0, 0.0])  # corners and edges: half a pixel outside the centres
    uv[1] = torch.tensor([1.0, 1.0])
    uv[2] = torch.tensor([0.02, 0.99])
    assert torch.allclose(sample_points(maps, roi, uv), _grid_sample_points(maps, roi, uv), atol=1e-6)
    assert torch.allclose(sample_points(maps.contiguous(memory_format=torch.channels_last), roi, uv),
                          _grid_sample_points(maps, roi, uv), atol=1e-6)


def _selected_densepose_losses(output, boxes, gt_boxes, gt_masks, point_roi, point_xy, point_i, point_u, point_v):
    """The losses as they were: points outside their RoI dropped before sampling."""
    import torch.nn.functional as F

    from nas.model.rcnn.densepose_head import _coarse_targets, _points_in_rois

    losses = {"dp_segm": F.cross_entropy(output["coarse"], _coarse_targets(boxes, gt_boxes, gt_masks, output["coarse"].shape[-1]))}
    uv = _points_in_rois(boxes[point_roi], gt_boxes[point_roi], point_xy)
    inside = (uv >= 0).all(1) & (uv <= 1).all(1)
    if not inside.any():
        return {**losses, "dp_part": output["fine"].sum() * 0, "dp_uv": output["fine"].sum() * 0}
    roi, uv, part = point_roi[inside], uv[inside], point_i[inside]
    sampled = {name: _grid_sample_points(output[name], roi, uv) for name in ("fine", "u", "v")}
    rows = torch.arange(len(roi))
    losses["dp_part"] = F.cross_entropy(sampled["fine"], part)
    losses["dp_uv"] = (F.smooth_l1_loss(sampled["u"][rows, part], point_u[inside], beta=0.05)
                       + F.smooth_l1_loss(sampled["v"][rows, part], point_v[inside], beta=0.05))
    return losses


@pytest.mark.parametrize("outside", ["some", "all"])
def test_masked_densepose_losses_equal_the_losses_over_selected_points(outside: str) -> None:
    from nas.model.rcnn.densepose_head import DensePoseOutput, densepose_losses

    gen = torch.Generator().manual_seed(5)
    k, p = 3, 40
    output = DensePoseOutput({name: torch.randn(k, c, 16, 16, generator=gen, requires_grad=True)
                              for name, c in (("coarse", 15), ("fine", 25), ("u", 25), ("v", 25))})
    gt_boxes = torch.tensor([[10.0, 10, 60, 110], [30, 5, 90, 80], [0, 0, 40, 40]])
    boxes = gt_boxes + torch.tensor([[5.0, 8, -3, -10]])  # RoIs cut off part of each person
    if outside == "all":
        boxes = gt_boxes + torch.tensor([[500.0, 500, 600, 600]])
    masks = torch.randint(0, 15, (k, 8, 8), generator=gen)
    point_roi = torch.randint(0, k, (p,), generator=gen)
    point_xy = torch.rand(p, 2, generator=gen) * 256
    point_i = torch.randint(1, 25, (p,), generator=gen)
    point_u, point_v = torch.rand(p, generator=gen), torch.rand(p, generator=gen)
    args = (output, boxes, gt_boxes, masks, point_roi, point_xy, point_i, point_u, point_v)
    mine, theirs = densepose_losses(*args), _selected_densepose_losses(*args)
    for name in ("dp_segm", "dp_part", "dp_uv"):
        assert torch.allclose(mine[name], theirs[name], atol=1e-6), name
    if outside == "all":
        assert mine["dp_part"].item() == 0.0 and mine["dp_uv"].item() == 0.0
    sum(mine.values()).backward()  # every term differentiable, with or without points inside


@pytest.mark.parametrize("foreground", [0, 5])
def test_masked_box_regression_equals_the_loss_over_selected_rows(foreground: int) -> None:
    import torch.nn.functional as F

    from nas.model.rcnn.box_head import box_losses

    gen = torch.Generator().manual_seed(foreground)
    logits, deltas = torch.randn(12, 2, generator=gen), torch.randn(12, 4, generator=gen)
    labels = torch.zeros(12, dtype=torch.int64)
    labels[:foreground] = 1
    targets = torch.randn(12, 4, generator=gen) * (labels > 0)[:, None]
    fg = labels > 0
    expected = F.l1_loss(deltas[fg], targets[fg], reduction="sum") / 12 if foreground else torch.tensor(0.0)
    assert torch.allclose(box_losses(logits, deltas, labels, targets)["box_reg"], expected, atol=1e-6)
