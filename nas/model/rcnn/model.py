"""DensePose R-CNN for any searched backbone and neck.

``image -> FeatureNetwork (backbone + neck) -> RPN -> box head -> DensePose head``.
Training returns a dict of weighted losses; inference returns, per image, person
boxes, scores and a per-box I, U, V map.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import Tensor, nn

from nas.model.features import FeatureNetwork
from nas.model.rcnn.box_head import BOX_WEIGHTS, BoxHead, box_losses, detect
from nas.model.rcnn.boxes import BoxCoder, box_iou
from nas.model.rcnn.config import RCNNConfig
from nas.model.rcnn.densepose_head import DensePoseHead, densepose_losses, iuv_from_output
from nas.model.rcnn.matching import match, match_padded, sample_among, sample_balanced, sample_padded
from nas.model.rcnn.pooler import MultiScaleRoIAlign
from nas.model.rcnn.rpn import RPN
from nas.model.rcnn.targets import PaddedTargets, pad_targets
from nas.space.spec import ArchSpec

__all__ = ["DensePoseRCNN", "build_densepose_rcnn", "Detections"]

Detections = dict[str, Tensor]  # boxes (D, 4), scores (D,), iuv (D, 3, out, out)


class DensePoseRCNN(nn.Module):
    def __init__(self, arch: ArchSpec, config: RCNNConfig | None = None) -> None:
        super().__init__()
        self.arch = arch
        self.config = config or RCNNConfig()
        cfg = self.config
        self.features = FeatureNetwork(arch)
        levels = self.features.output_shape()
        channels = arch.neck.channels
        self.rpn = RPN(levels, cfg, depthwise=arch.neck.depthwise)
        self.box_pooler = MultiScaleRoIAlign(levels, cfg.box_pool, cfg.canonical_level, cfg.canonical_size)
        self.box_head = BoxHead(channels, cfg.box_pool, arch.head.box_dim)
        self.dp_pooler = MultiScaleRoIAlign(levels, arch.head.pool, cfg.canonical_level, cfg.canonical_size)
        self.dp_head = DensePoseHead(channels, arch.head)
        self._set_up_input(cfg)

    def _set_up_input(self, cfg: RCNNConfig) -> None:
        """What every DensePose R-CNN (the supernet too) needs besides its layers: the input
        normalisation, its memory layout and the box coder."""
        self.register_buffer("pixel_mean", torch.tensor(cfg.pixel_mean).reshape(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(cfg.pixel_std).reshape(1, 3, 1, 1), persistent=False)
        self.box_coder = BoxCoder(BOX_WEIGHTS)
        self.input_format = torch.contiguous_format
        # training without a data-dependent shape (see use_static_shapes)
        self.static_shapes = False

    def use_static_shapes(self, static: bool = True) -> DensePoseRCNN:
        """Train (from now on) with every shape fixed by the batch's host-side counts, so
        the host never waits for the device inside a step: proposals, matching, sampling,
        RoIAlign and losses of all images at once on padded tensors, NMS with a fixed
        number of passes. The losses are the same functions; the random draws differ from
        the default path's (random keys on the device instead of ``torch.randperm`` on the
        host), as does the float rounding of the batched sums. The CUDA training step uses
        it (nas.train.session.set_up); the default path keeps the CPU's numerics. Returns
        the model."""
        self.static_shapes = static
        return self

    def use_memory_format(self, memory_format: torch.memory_format) -> DensePoseRCNN:
        """Weights and inputs in ``memory_format`` from now on. ``torch.channels_last``
        (NHWC) trains faster: oneDNN's CPU convolutions and cuDNN's tensor-core ones prefer
        it (see bench/bench_train_speed.py); the function is the same, only the float
        rounding of the convolutions differs. Returns the model."""
        self.to(memory_format=memory_format)
        self.input_format = memory_format
        return self

    def normalise(self, images: Tensor) -> Tensor:
        """Images in [0, 1] as the feature network takes them (per-channel mean and std, in
        the model's memory layout)."""
        return ((images - self.pixel_mean) / self.pixel_std).contiguous(memory_format=self.input_format)

    def forward(self, images: Tensor, targets: Sequence[dict[str, Any]] | None = None, image_sizes: list[tuple[int, int]] | None = None) -> Any:
        """Losses (training, ``targets`` given) or detections (eval mode).

        Args:
            images: ``(B, 3, H, W)`` in [0, 1].
            targets: per image, :class:`nas.data.Target` dicts (training).
            image_sizes: valid ``(h, w)`` per image (default: targets' ``image_size`` or the tensor size).
        """
        if image_sizes is None:
            image_sizes = [tuple(t["image_size"]) for t in targets] if targets is not None else [tuple(images.shape[-2:])] * len(images)
        feats = self.features(self.normalise(images))
        if self.training:
            if targets is None:
                raise ValueError("training mode needs targets; call model.eval() for inference")
            if self.static_shapes:
                return self._losses_padded(feats, targets, image_sizes)
            return self._losses(feats, targets, image_sizes)
        return self._inference(feats, image_sizes)

    @torch.no_grad()
    def densepose_on_boxes(self, images: Tensor, boxes: Sequence[Tensor]) -> list[Tensor]:
        """Per image, the I, U, V maps ``(N, 3, out, out)`` the DensePose head gives for
        ``boxes`` (``(N, 4)`` xyxy in input pixels) instead of the detector's boxes: how well
        the features and the head do when detection is taken out of the score."""
        feats = self.features(self.normalise(images))
        boxes = [b.to(images.device, torch.float32).reshape(-1, 4) for b in boxes]
        out_size = self.arch.head.out
        if not sum(len(b) for b in boxes):
            return [images.new_zeros((0, 3, out_size, out_size)) for _ in boxes]
        iuv = iuv_from_output(self.dp_head(self.dp_pooler(feats, boxes)))
        return list(iuv.split([len(b) for b in boxes]))

    # -- inference ---------------------------------------------------------------------
    def _inference(self, feats: dict[str, Tensor], image_sizes: list[tuple[int, int]]) -> list[Detections]:
        cfg = self.config
        proposals, _ = self.rpn(feats, image_sizes)
        logits, deltas = self.box_head(self.box_pooler(feats, proposals))
        dets = detect(logits, deltas, proposals, image_sizes, cfg.score_threshold, cfg.box_nms, cfg.detections_per_image)
        boxes = [b for b, _ in dets]
        out_size = self.arch.head.out
        if sum(len(b) for b in boxes):
            iuv = iuv_from_output(self.dp_head(self.dp_pooler(feats, boxes)))
        else:
            iuv = feats[self.dp_pooler.names[0]].new_zeros((0, 3, out_size, out_size))
        return [{"boxes": b, "scores": s, "iuv": part} for (b, s), part in zip(dets, iuv.split([len(b) for b in boxes]))]

    # -- training ----------------------------------------------------------------------
    def _losses(self, feats: dict[str, Tensor], targets: Sequence[dict[str, Any]], image_sizes: list[tuple[int, int]]) -> dict[str, Tensor]:
        cfg = self.config
        device = next(iter(feats.values())).device
        keep = [~t["is_crowd"].to(device) for t in targets]
        gt_boxes = [t["boxes"].to(device)[k] for t, k in zip(targets, keep)]
        gt_index = [torch.nonzero(k).flatten() for k in keep]  # row in the target arrays
        proposals, losses = self.rpn(feats, image_sizes, gt_boxes)

        sampled, labels, box_targets, dp_rois = [], [], [], []
        for i, (props, gt) in enumerate(zip(proposals, gt_boxes)):
            props = torch.cat([props.detach(), gt])
            iou = box_iou(gt, props)
            index, label = match(iou, cfg.roi_fg_iou, cfg.roi_fg_iou, allow_low_quality=False)
            pos, neg = sample_balanced(label, cfg.roi_batch_per_image, cfg.roi_positive_fraction)
            chosen = torch.cat([pos, neg])
            sampled.append(props[chosen])
            labels.append(torch.cat([torch.ones_like(pos), torch.zeros_like(neg)]))
            target = props.new_zeros((len(chosen), 4))
            if len(pos):
                target[: len(pos)] = self.box_coder.encode(props[pos], gt[index[pos]])
            box_targets.append(target)
            # DensePose RoIs: close foreground proposals of GT instances with dp data
            if len(gt):
                best = iou.max(dim=0).values
                has_dp = targets[i]["has_dp"].to(device)[gt_index[i][index]]
                dp_pick = torch.nonzero((best >= cfg.dp_fg_iou) & has_dp).flatten()
                dp_pick = dp_pick[torch.randperm(len(dp_pick), device="cpu")[: cfg.dp_max_rois_per_image].to(device)]
                dp_rois.append((i, props[dp_pick], gt_index[i][index[dp_pick]]))
        logits, deltas = self.box_head(self.box_pooler(feats, sampled))
        losses.update(box_losses(logits, deltas, torch.cat(labels), torch.cat(box_targets)))
        losses.update(self.dp_losses(feats, targets, dp_rois, len(image_sizes), device))
        weights = cfg.loss
        return {name: value * getattr(weights, name) for name, value in losses.items()}

    def dp_losses(self, feats: dict[str, Tensor], targets: Sequence[dict[str, Any]], dp_rois: list, batch: int, device: torch.device) -> dict[str, Tensor]:
        per_image: list[Tensor] = [feats[self.dp_pooler.names[0]].new_zeros((0, 4)) for _ in range(batch)]
        gt_boxes, gt_masks, p_roi, p_xy, p_i, p_u, p_v = [], [], [], [], [], [], []
        offset = 0
        for i, boxes, inst in dp_rois:
            per_image[i] = boxes
            t = targets[i]
            # every (RoI, point of its instance) pair of the image, RoI by RoI, points in order
            roi, pts = torch.nonzero(inst[:, None] == t["dp_inst"].to(device)[None], as_tuple=True)
            p_roi.append(roi + offset)
            p_xy.append(t["dp_xy"].to(device)[pts])
            p_i.append(t["dp_I"].to(device)[pts])
            p_u.append(t["dp_U"].to(device)[pts])
            p_v.append(t["dp_V"].to(device)[pts])
            gt_boxes.append(t["boxes"].to(device)[inst])
            gt_masks.append(t["dp_masks"].to(device)[inst])
            offset += len(inst)
        if offset == 0:
            zero = sum(p.sum() for p in self.dp_head.parameters()) * 0
            return {"dp_segm": zero, "dp_part": zero, "dp_uv": zero}
        # dp_rois is built in image order, so per_image pools RoIs in the concatenation order above
        output = self.dp_head(self.dp_pooler(feats, per_image))
        return densepose_losses(
            output, torch.cat([b for _, b, _ in dp_rois]), torch.cat(gt_boxes), torch.cat(gt_masks),
            torch.cat(p_roi), torch.cat(p_xy), torch.cat(p_i), torch.cat(p_u), torch.cat(p_v),
        )

    # -- training without a data-dependent shape (use_static_shapes) ------------------------
    def _losses_padded(self, feats: dict[str, Tensor], targets: Sequence[dict[str, Any]], image_sizes: list[tuple[int, int]]) -> dict[str, Tensor]:
        """:meth:`_losses` of the whole batch at once on padded tensors: the same terms, no
        shape that depends on the data, nothing read back from the device."""
        cfg = self.config
        device = next(iter(feats.values())).device
        gt = pad_targets(targets, device)
        (proposals, proposal_valid), losses = self.rpn.forward_padded(feats, image_sizes, gt.boxes, gt.valid)
        props = torch.cat([proposals.detach(), gt.boxes], 1)  # (B, N, 4): proposals, then the GT boxes
        column_valid = torch.cat([proposal_valid, gt.valid], 1)
        iou = box_iou(gt.boxes, props).masked_fill(~gt.valid[:, :, None], -1.0)  # (B, G, N), padding GT below every real IoU
        index, label = match_padded(iou, None, cfg.roi_fg_iou, cfg.roi_fg_iou, False, column_valid)
        chosen, valid, positive = sample_padded(label, cfg.roi_batch_per_image, cfg.roi_positive_fraction)
        # unused slots pool and encode a unit box: no empty box, no log(0) to mask
        unit = (torch.arange(4, device=device) // 2).to(props.dtype)  # (0, 0, 1, 1), not copied from the host
        sampled = torch.where(valid[:, :, None], _rows(props, chosen), unit)
        matched = torch.where(positive[:, :, None], _rows(gt.boxes, index.gather(1, chosen)), sampled)
        logits, deltas = self.box_head(self.box_pooler.forward_padded(feats, sampled))
        box_targets = self.box_coder.encode(sampled.reshape(-1, 4), matched.reshape(-1, 4))
        losses.update(box_losses(logits, deltas, positive.reshape(-1).long(), box_targets, valid.reshape(-1)))
        # DensePose RoIs: close foreground proposals of GT instances with dp data
        close = (iou.amax(dim=1) >= cfg.dp_fg_iou) & gt.has_dp.gather(1, index) & column_valid
        dp_chosen, dp_valid = sample_among(close, cfg.dp_max_rois_per_image)
        dp_boxes = torch.where(dp_valid[:, :, None], _rows(props, dp_chosen), unit)
        losses.update(self.dp_losses_padded(feats, gt, dp_boxes, index.gather(1, dp_chosen), dp_valid))
        weights = cfg.loss
        return {name: value * getattr(weights, name) for name, value in losses.items()}

    def dp_losses_padded(self, feats: dict[str, Tensor], gt: PaddedTargets, boxes: Tensor, instance: Tensor, valid: Tensor) -> dict[str, Tensor]:
        """:meth:`dp_losses` of ``D`` RoI slots per image: ``boxes (B, D, 4)`` matched to the
        instance rows ``instance (B, D)`` of ``gt``, ``valid (B, D)`` the slots in use; every
        (RoI, point of the batch's image) pair is scored, the pairs of other instances masked."""
        batch, slots = instance.shape
        output = self.dp_head(self.dp_pooler.forward_padded(feats, boxes))
        size = gt.masks.shape[-1]
        masks = gt.masks.gather(1, instance[:, :, None, None].expand(-1, -1, size, size))
        points = gt.point_inst.shape[1]
        pairs = valid[:, :, None] & (instance[:, :, None] == gt.point_inst[:, None, :])  # (B, D, P)

        def per_pair(values: Tensor) -> Tensor:  # (B, P, ...) -> (B * D * P, ...)
            return values[:, None].expand(batch, slots, *values.shape[1:]).reshape(batch * slots * points, *values.shape[2:])

        point_roi = torch.arange(batch * slots, device=boxes.device)[:, None].expand(-1, points).reshape(-1)
        return densepose_losses(
            output, boxes.reshape(-1, 4), _rows(gt.boxes, instance).reshape(-1, 4), masks.reshape(-1, size, size),
            point_roi, per_pair(gt.point_xy), per_pair(gt.point_i), per_pair(gt.point_u), per_pair(gt.point_v),
            roi_valid=valid.reshape(-1), point_valid=pairs.reshape(-1),
        )


def _rows(boxes: Tensor, index: Tensor) -> Tensor:
    """``boxes (B, N, 4)`` at ``index (B, K)``: ``(B, K, 4)``."""
    return boxes.gather(1, index[:, :, None].expand(-1, -1, 4))


def build_densepose_rcnn(arch: ArchSpec, config: RCNNConfig | None = None) -> DensePoseRCNN:
    """The full DensePose R-CNN for ``arch`` (backbone + neck + RPN + box and DensePose heads)."""
    return DensePoseRCNN(arch, config)
