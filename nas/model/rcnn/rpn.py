"""Region proposal network: anchors over the neck levels, objectness and box deltas,
proposal selection with NMS, and its training losses."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nas.model.rcnn.boxes import STATIC_NMS_PASSES, BoxCoder, box_iou, sorted_nms
from nas.model.rcnn.config import RCNNConfig
from nas.model.rcnn.matching import match, match_padded, sample_balanced, sample_padded
from nas.model.shapes import ShapeSpec

__all__ = ["AnchorGenerator", "RPN"]


class AnchorGenerator(nn.Module):
    """Anchors ``(H*W*A, 4)`` per level, ordered location-major then anchor."""

    def __init__(self, levels: dict[str, ShapeSpec], ratios: tuple[float, ...]) -> None:
        super().__init__()
        self.names = list(levels)
        strides = [levels[n].stride for n in self.names]
        if len(strides) == 1:  # single level: every size there (32 .. 512 px)
            sizes = [(32.0, 64.0, 128.0, 256.0, 512.0)]
        else:
            sizes = [(8.0 * s,) for s in strides]
        self.strides = strides
        self.cell_anchors = [self._cell(sz, ratios) for sz in sizes]
        self.num_anchors = len(self.cell_anchors[0])
        self._cache: dict[tuple[tuple[tuple[int, int], ...], torch.device], list[Tensor]] = {}

    @staticmethod
    def _cell(sizes: tuple[float, ...], ratios: tuple[float, ...]) -> Tensor:
        cells = []
        for size in sizes:
            area = size * size
            for ratio in ratios:  # ratio = height / width
                w = math.sqrt(area / ratio)
                h = w * ratio
                cells.append([-w / 2, -h / 2, w / 2, h / 2])
        return torch.tensor(cells)

    def forward(self, features: list[Tensor]) -> list[Tensor]:
        """The anchors of feature maps ``features``, computed once per map size and device
        (the same every step: a dozen small operations a level spared)."""
        key = (tuple(tuple(f.shape[-2:]) for f in features), features[0].device)
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) >= 8:  # sizes vary (inference on images of their own size): keep a few
                self._cache.clear()
            cached = self._cache[key] = self._anchors(features)
        return cached

    def _anchors(self, features: list[Tensor]) -> list[Tensor]:
        anchors = []
        for feat, stride, cell in zip(features, self.strides, self.cell_anchors):
            h, w = feat.shape[-2:]
            ys = torch.arange(h, device=feat.device, dtype=torch.float32) * stride
            xs = torch.arange(w, device=feat.device, dtype=torch.float32) * stride
            yy, xx = torch.meshgrid(ys, xs, indexing="ij")
            shifts = torch.stack([xx, yy, xx, yy], dim=-1).reshape(-1, 1, 4)
            # non-blocking: a copy from pageable memory the host need not wait for
            anchors.append((shifts + cell.to(feat.device, non_blocking=True)[None]).reshape(-1, 4))
        return anchors


class RPNHead(nn.Module):
    """Shared 3x3 conv + ReLU, then 1x1 objectness (A) and 1x1 deltas (4A) per level.

    With ``depthwise`` the 3x3 conv is depthwise-separable (a light RPN for mobile
    pyramids: on P2 at 512x384 a 128-channel full 3x3 conv alone costs 1.8G MACs).
    """

    def __init__(self, channels: int, num_anchors: int, depthwise: bool = False) -> None:
        super().__init__()
        if depthwise:
            self.conv: nn.Module = nn.Sequential(
                nn.Conv2d(channels, channels, 3, padding=1, groups=channels), nn.Conv2d(channels, channels, 1)
            )
        else:
            self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.objectness = nn.Conv2d(channels, num_anchors, 1)
        self.deltas = nn.Conv2d(channels, 4 * num_anchors, 1)
        for layer in self.modules():
            if isinstance(layer, nn.Conv2d):
                nn.init.normal_(layer.weight, std=0.01)
                nn.init.zeros_(layer.bias)

    def forward(self, features: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        logits, deltas = [], []
        for feat in features:
            t = F.relu(self.conv(feat))
            n = feat.shape[0]
            logits.append(self.objectness(t).permute(0, 2, 3, 1).reshape(n, -1))
            deltas.append(self.deltas(t).permute(0, 2, 3, 1).reshape(n, -1, 4))
        return logits, deltas


class RPN(nn.Module):
    """Proposals for every image, plus objectness/box losses when targets are given."""

    def __init__(self, levels: dict[str, ShapeSpec], config: RCNNConfig, depthwise: bool = False) -> None:
        super().__init__()
        self.config = config
        self.level_names = list(levels)
        self.anchor_generator = AnchorGenerator(levels, config.anchor_ratios)
        channels = {s.channels for s in levels.values()}
        if len(channels) != 1:
            raise ValueError(f"RPN needs equal channels on every level, got {sorted(channels)}")
        self.head = RPNHead(channels.pop(), self.anchor_generator.num_anchors, depthwise)
        self.coder = BoxCoder()

    def forward(
        self, features: dict[str, Tensor], image_sizes: list[tuple[int, int]], gt_boxes: list[Tensor] | None = None
    ) -> tuple[list[Tensor], dict[str, Tensor]]:
        feats = [features[n] for n in self.level_names]
        anchors = self.anchor_generator(feats)
        logits, deltas = self.head(feats)
        proposals = self.select_proposals(anchors, [l.detach() for l in logits], [d.detach() for d in deltas], image_sizes)
        losses: dict[str, Tensor] = {}
        if gt_boxes is not None:
            losses = self.anchor_losses(torch.cat(anchors), torch.cat(logits, 1), torch.cat(deltas, 1), gt_boxes)
        return proposals, losses

    def forward_padded(
        self, features: dict[str, Tensor], image_sizes: list[tuple[int, int]], gt_boxes: Tensor, gt_valid: Tensor
    ) -> tuple[tuple[Tensor, Tensor], dict[str, Tensor]]:
        """Training's :meth:`forward` without a data-dependent shape: ground truth padded to
        ``gt_boxes (B, G, 4)`` with ``gt_valid (B, G)``; returns the proposals padded, as
        :meth:`select_proposals_padded` gives them, and the losses of :meth:`anchor_losses_padded`."""
        feats = [features[n] for n in self.level_names]
        anchors = self.anchor_generator(feats)
        logits, deltas = self.head(feats)
        proposals = self.select_proposals_padded(anchors, [l.detach() for l in logits], [d.detach() for d in deltas],
                                                 image_sizes, STATIC_NMS_PASSES)
        return proposals, self.anchor_losses_padded(torch.cat(anchors), torch.cat(logits, 1), torch.cat(deltas, 1), gt_boxes, gt_valid)

    def select_proposals(self, anchors: list[Tensor], logits: list[Tensor], deltas: list[Tensor], image_sizes: list[tuple[int, int]]) -> list[Tensor]:
        """Per image, the proposals ``(P, 4)`` by decreasing objectness: the ``pre`` best
        anchors of each level decoded and clipped, NMS within each level, the ``post`` best
        of all levels. Every image of the batch is done at once, level by level."""
        boxes, kept = self.select_proposals_padded(anchors, logits, deltas, image_sizes)
        return [boxes[i][kept[i]] for i in range(len(image_sizes))]

    def select_proposals_padded(
        self, anchors: list[Tensor], logits: list[Tensor], deltas: list[Tensor], image_sizes: list[tuple[int, int]],
        nms_passes: int | None = None,
    ) -> tuple[Tensor, Tensor]:
        """:meth:`select_proposals` padded to one count per image: ``(boxes (B, P, 4),
        valid (B, P))``, each image's proposals first, by decreasing objectness.
        ``nms_passes``: see :func:`~nas.model.rcnn.boxes.sorted_nms` (None: exact, reads
        from the device)."""
        cfg = self.config
        pre = cfg.rpn_pre_nms_train if self.training else cfg.rpn_pre_nms_test
        post = cfg.rpn_post_nms_train if self.training else cfg.rpn_post_nms_test
        batch = len(image_sizes)
        limits = torch.tensor([[w, h, w, h] for h, w in image_sizes], dtype=deltas[0].dtype).to(deltas[0].device, non_blocking=True)
        boxes, scores, valid = [], [], []
        for anc, lg, dl in zip(anchors, logits, deltas):
            k = min(pre, lg.shape[1])
            top_scores, top = lg.topk(k, dim=1)  # (B, k), decreasing
            picked = dl.gather(1, top[:, :, None].expand(-1, -1, 4)).reshape(-1, 4)
            b = self.coder.decode(picked, anc[top.reshape(-1)]).reshape(batch, k, 4)
            b = torch.minimum(b.clamp(min=0), limits[:, None])  # clipped to each image
            boxes.append(b)
            scores.append(top_scores)
            valid.append(((b[..., 2] - b[..., 0]) > 1e-3) & ((b[..., 3] - b[..., 1]) > 1e-3) & torch.isfinite(top_scores))
        if nms_passes is None:  # level by level: each level's own size, its own number of passes
            keep = torch.cat([sorted_nms(b, v, cfg.rpn_nms) for b, v in zip(boxes, valid)], 1)
        else:  # every level as a group of one NMS: one run of passes, not one per level
            keep = _level_nms(boxes, valid, cfg.rpn_nms, nms_passes)
        every_box, every_score = torch.cat(boxes, 1), torch.cat(scores, 1).masked_fill(~keep, -math.inf)
        best, index = every_score.topk(min(post, every_score.shape[1]), dim=1)
        return every_box.gather(1, index[:, :, None].expand(-1, -1, 4)), best > -math.inf

    def anchor_losses(self, anchors: Tensor, logits: Tensor, deltas: Tensor, gt_boxes: list[Tensor]) -> dict[str, Tensor]:
        cfg = self.config
        labels, targets, picks = [], [], []
        for i, gt in enumerate(gt_boxes):
            index, label = match(box_iou(gt, anchors), cfg.rpn_fg_iou, cfg.rpn_bg_iou, allow_low_quality=True)
            pos, neg = sample_balanced(label, cfg.rpn_batch_per_image, cfg.rpn_positive_fraction)
            chosen = torch.cat([pos, neg])
            picks.append((i, chosen, pos.numel()))
            labels.append(torch.cat([torch.ones_like(pos), torch.zeros_like(neg)]).float())
            targets.append(self.coder.encode(anchors[pos], gt[index[pos]]) if pos.numel() else anchors.new_zeros((0, 4)))
        total = max(1, sum(p[1].numel() for p in picks))
        cls = logits.new_zeros(())
        reg = logits.new_zeros(())
        for (i, chosen, num_pos), label, target in zip(picks, labels, targets):
            cls = cls + F.binary_cross_entropy_with_logits(logits[i, chosen], label, reduction="sum")
            if num_pos:
                reg = reg + F.smooth_l1_loss(deltas[i, chosen[:num_pos]], target, beta=1.0 / 9, reduction="sum")
        return {"rpn_cls": cls / total, "rpn_box": reg / total}

    def anchor_losses_padded(self, anchors: Tensor, logits: Tensor, deltas: Tensor, gt_boxes: Tensor, gt_valid: Tensor) -> dict[str, Tensor]:
        """:meth:`anchor_losses` of the whole batch at once, ground truth padded to ``gt_boxes
        (B, G, 4)`` with ``gt_valid (B, G)``: the same terms, the sampled anchors drawn by
        :func:`~nas.model.rcnn.matching.sample_padded`."""
        cfg = self.config
        index, label = match_padded(box_iou(gt_boxes, anchors), gt_valid, cfg.rpn_fg_iou, cfg.rpn_bg_iou, allow_low_quality=True)
        chosen, valid, positive = sample_padded(label, cfg.rpn_batch_per_image, cfg.rpn_positive_fraction)
        total = valid.sum().clamp(min=1)
        cls = F.binary_cross_entropy_with_logits(logits.gather(1, chosen), positive.to(logits.dtype), reduction="none")
        picked = anchors[chosen]  # (B, S, 4)
        matched = gt_boxes.gather(1, index.gather(1, chosen)[:, :, None].expand(-1, -1, 4))
        # a background or unused slot is encoded against itself (zero targets): no log(0) to mask
        target = self.coder.encode(picked.reshape(-1, 4), torch.where(positive[:, :, None], matched, picked).reshape(-1, 4))
        reg = F.smooth_l1_loss(deltas.gather(1, chosen[:, :, None].expand(-1, -1, 4)).reshape(-1, 4), target, beta=1.0 / 9, reduction="none")
        zero = cls.new_zeros(())
        return {"rpn_cls": torch.where(valid, cls, zero).sum() / total,
                "rpn_box": torch.where(positive.reshape(-1, 1), reg, zero).sum() / total}


def _level_nms(boxes: list[Tensor], valid: list[Tensor], iou_threshold: float, passes: int) -> Tensor:
    """``keep (B, sum k_l)`` of NMS within each level of ``boxes`` (each ``(B, k_l, 4)``) in
    one :func:`sorted_nms` call: the levels padded to the largest ``k`` and stacked as groups."""
    width = max(b.shape[1] for b in boxes)
    stacked = torch.cat([torch.cat([b, b.new_zeros((b.shape[0], width - b.shape[1], 4))], 1) for b in boxes])
    real = torch.cat([torch.cat([v, v.new_zeros((v.shape[0], width - v.shape[1]))], 1) for v in valid])
    keep = sorted_nms(stacked, real, iou_threshold, passes).split(boxes[0].shape[0])
    return torch.cat([k[:, : b.shape[1]] for k, b in zip(keep, boxes)], 1)
