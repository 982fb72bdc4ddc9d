"""DensePose head: stacked convs on RoI features, deconv predictors upsampled to the
output size, its losses at the annotated points, and IUV inference.

Outputs per RoI (DensePose R-CNN's chart predictor): coarse segmentation (15 channels:
background + 14 coarse parts), fine part index (25: background + 24 parts), and U, V
(25 each, one chart per part).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nas.space.spec import HeadSpec

__all__ = ["DensePoseHead", "DensePoseOutput", "densepose_losses", "iuv_from_output", "predict"]

COARSE, FINE = 15, 25
DP_BOX = 256.0  # DensePose-COCO point coordinates live in a 256 x 256 box frame


class DensePoseOutput(dict):
    """``{"coarse", "fine", "u", "v"}`` tensors ``(K, C, out, out)``."""


class DensePoseHead(nn.Module):
    """``convs`` x (kxk conv + ReLU) -> four 4x4/2 deconv predictors -> bilinear to ``out``."""

    def __init__(self, in_channels: int, spec: HeadSpec) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        ch = in_channels
        for _ in range(spec.convs):
            layers += [nn.Conv2d(ch, spec.channels, spec.kernel, padding=spec.kernel // 2), nn.ReLU(inplace=True)]
            ch = spec.channels
        self.body = nn.Sequential(*layers)
        self.predictors = nn.ModuleDict(
            {name: nn.ConvTranspose2d(ch, n, 4, stride=2, padding=1) for name, n in (("coarse", COARSE), ("fine", FINE), ("u", FINE), ("v", FINE))}
        )
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
        self.out = spec.out

    def forward(self, pooled: Tensor) -> DensePoseOutput:
        return predict(self.predictors, self.body(pooled), self.out)


def predict(predictors: nn.ModuleDict, x: Tensor, out: int) -> DensePoseOutput:
    """Each predictor's map of the head features ``x``, bilinearly resized to ``out x out``
    (shared with the supernet's elastic head)."""
    output = DensePoseOutput()
    for name, layer in predictors.items():
        y = layer(x)
        if y.shape[-1] != out:
            y = F.interpolate(y, size=(out, out), mode="bilinear", align_corners=False)
        output[name] = y
    return output


def _points_in_rois(boxes: Tensor, gt_boxes: Tensor, dp_xy: Tensor) -> Tensor:
    """Points given in their GT box's 256-frame, expressed in [0, 1] of each RoI ``(P, 2)``."""
    gw = (gt_boxes[:, 2] - gt_boxes[:, 0]).clamp(min=1e-6)
    gh = (gt_boxes[:, 3] - gt_boxes[:, 1]).clamp(min=1e-6)
    x = gt_boxes[:, 0] + dp_xy[:, 0] / DP_BOX * gw
    y = gt_boxes[:, 1] + dp_xy[:, 1] / DP_BOX * gh
    rw = (boxes[:, 2] - boxes[:, 0]).clamp(min=1e-6)
    rh = (boxes[:, 3] - boxes[:, 1]).clamp(min=1e-6)
    return torch.stack([(x - boxes[:, 0]) / rw, (y - boxes[:, 1]) / rh], dim=1)


def _coarse_targets(boxes: Tensor, gt_boxes: Tensor, masks: Tensor, size: int) -> Tensor:
    """Coarse labels ``(K, size, size)`` of each RoI, read from its GT's box-frame label map
    (nearest cell; 0 outside the GT box)."""
    k, s = masks.shape[0], masks.shape[-1]
    steps = (torch.arange(size, device=boxes.device, dtype=torch.float32) + 0.5) / size
    xs = boxes[:, 0, None] + steps[None] * (boxes[:, 2] - boxes[:, 0])[:, None]  # (K, size) image px
    ys = boxes[:, 1, None] + steps[None] * (boxes[:, 3] - boxes[:, 1])[:, None]
    gx = (xs - gt_boxes[:, 0, None]) / (gt_boxes[:, 2] - gt_boxes[:, 0]).clamp(min=1e-6)[:, None]
    gy = (ys - gt_boxes[:, 1, None]) / (gt_boxes[:, 3] - gt_boxes[:, 1]).clamp(min=1e-6)[:, None]
    ix = (gx * s).floor().long()
    iy = (gy * s).floor().long()
    inside = (ix >= 0) & (ix < s)
    inside_y = (iy >= 0) & (iy < s)
    ix, iy = ix.clamp(0, s - 1), iy.clamp(0, s - 1)
    rows = torch.arange(k, device=boxes.device)[:, None, None]
    labels = masks[rows, iy[:, :, None], ix[:, None, :]].long()
    return labels * (inside_y[:, :, None] & inside[:, None, :])


def densepose_losses(
    output: DensePoseOutput, boxes: Tensor, gt_boxes: Tensor, gt_masks: Tensor,
    point_roi: Tensor, point_xy: Tensor, point_i: Tensor, point_u: Tensor, point_v: Tensor,
    roi_valid: Tensor | None = None, point_valid: Tensor | None = None,
) -> dict[str, Tensor]:
    """DensePose R-CNN losses for ``K`` RoIs matched to GT instances.

    Args:
        output: head output for the K RoIs.
        boxes: ``(K, 4)`` RoI boxes; ``gt_boxes`` ``(K, 4)`` their matched GT boxes.
        gt_masks: ``(K, S, S)`` coarse labels 0..14 of the matched GTs (box frame).
        point_roi: ``(P,)`` RoI index of each annotated point; ``point_xy`` ``(P, 2)`` in
            the GT's 256 frame; ``point_i`` fine part 1..24; ``point_u``, ``point_v`` in [0, 1].
        roi_valid, point_valid: ``(K,)`` and ``(P,)``, which RoIs and points are real (None:
            all; the others are padding of a fixed-size batch and count for nothing).
    """
    size = output["coarse"].shape[-1]
    segm_target = _coarse_targets(boxes, gt_boxes, gt_masks, size)
    if roi_valid is None:
        losses = {"dp_segm": F.cross_entropy(output["coarse"], segm_target)}
    else:
        per_pixel = F.cross_entropy(output["coarse"], segm_target, reduction="none")
        pixels = (roi_valid.sum() * size * size).clamp(min=1)
        losses = {"dp_segm": torch.where(roi_valid[:, None, None], per_pixel, torch.zeros_like(per_pixel)).sum() / pixels}
    uv = _points_in_rois(boxes[point_roi], gt_boxes[point_roi], point_xy)
    # points outside their RoI are masked out rather than dropped: no data-dependent shape
    inside = (uv >= 0).all(1) & (uv <= 1).all(1)
    if point_valid is not None:
        inside = inside & point_valid
    count = inside.sum().clamp(min=1.0)
    sampled = {name: sample_points(output[name], point_roi, uv.clamp(0.0, 1.0)) for name in ("fine", "u", "v")}
    part = F.cross_entropy(sampled["fine"], point_i, reduction="none")
    losses["dp_part"] = torch.where(inside, part, torch.zeros_like(part)).sum() / count
    rows = torch.arange(len(point_roi), device=point_roi.device)
    uv_loss = (F.smooth_l1_loss(sampled["u"][rows, point_i], point_u, beta=0.05, reduction="none")
               + F.smooth_l1_loss(sampled["v"][rows, point_i], point_v, beta=0.05, reduction="none"))
    losses["dp_uv"] = torch.where(inside, uv_loss, torch.zeros_like(uv_loss)).sum() / count
    return losses


def sample_points(maps: Tensor, roi: Tensor, uv: Tensor) -> Tensor:
    """Bilinear values ``(P, C)`` of ``maps (K, C, S, S)`` at points ``uv`` in [0, 1] of RoI
    ``roi``: ``grid_sample``'s rule (``align_corners=False``, zero outside the map), read with
    four gathers, whatever the number of points per RoI.
    """
    size = maps.shape[-1]
    pixel = uv * size - 0.5  # (P, 2) x, y in map pixels, centres at integers
    low = pixel.floor()
    frac = pixel - low
    low = low.long()
    out = maps.new_zeros((len(roi), maps.shape[1]))
    for dy in (0, 1):
        for dx in (0, 1):
            x, y = low[:, 0] + dx, low[:, 1] + dy
            weight = (frac[:, 0] if dx else 1 - frac[:, 0]) * (frac[:, 1] if dy else 1 - frac[:, 1])
            weight = weight * ((x >= 0) & (x < size) & (y >= 0) & (y < size)).to(maps.dtype)
            out = out + weight[:, None] * maps[roi, :, y.clamp(0, size - 1), x.clamp(0, size - 1)]
    return out


def iuv_from_output(output: DensePoseOutput) -> Tensor:
    """``(K, 3, out, out)`` float: part index (0 = background) where the coarse
    segmentation says person, and U, V of that part's chart clamped to [0, 1].

    A pixel is person where the coarse segmentation gives the 14 body parts together
    more probability than background (DensePose takes the argmax over all 15 classes,
    which calls a pixel background whenever no single part beats it).
    """
    fg = output["coarse"].softmax(1)[:, 0] < 0.5
    part = output["fine"][:, 1:].argmax(1) + 1
    part = torch.where(fg, part, torch.zeros_like(part))
    index = part[:, None]
    u = output["u"].gather(1, index).squeeze(1).clamp(0, 1)
    v = output["v"].gather(1, index).squeeze(1).clamp(0, 1)
    return torch.stack([part.float(), u * fg, v * fg], dim=1)
