"""RoIAlign in plain torch, with torchvision's ``roi_align`` semantics.

Each output bin averages ``sampling_ratio x sampling_ratio`` bilinear samples. With
``aligned=True`` box corners are shifted by -0.5 pixel so that a box's pixel centres
land on feature-map sample centres (Detectron2's "ROIAlignV2"). Bilinear sampling
follows torchvision exactly: samples further than one pixel outside the map are zero,
the rest are clamped to the border.

Sampling is one ``grid_sample`` call per image (border padding clamps to the edge
exactly as torchvision does for samples within one pixel outside the map; samples
further out are masked to zero), then a mean over each bin's samples. Differentiable
with respect to the features.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["roi_align"]

def _sample_positions(start: Tensor, bin_size: Tensor, bins: int, samples: int) -> Tensor:
    """``(K, bins * samples)`` sample coordinates along one axis, in feature pixels."""
    steps = torch.arange(bins, device=start.device, dtype=start.dtype)[:, None] + (
        torch.arange(samples, device=start.device, dtype=start.dtype)[None, :] + 0.5
    ) / samples
    return start[:, None] + steps.reshape(1, -1) * bin_size[:, None]


def _normalise(pos: Tensor, size: int) -> Tensor:
    """Feature pixel -> grid_sample coordinate (align_corners=True: -1 is pixel 0)."""
    return pos * (2.0 / (size - 1)) - 1.0 if size > 1 else torch.zeros_like(pos)


def roi_align(
    features: Tensor,
    rois: Tensor,
    output_size: int | tuple[int, int],
    spatial_scale: float,
    sampling_ratio: int = 2,
    aligned: bool = True,
) -> Tensor:
    """Pool ``(K, C, oh, ow)`` features for ``rois``.

    Args:
        features: ``(N, C, H, W)`` feature map.
        rois: ``(K, 5)`` rows ``(batch_index, x1, y1, x2, y2)`` in input-image pixels.
        output_size: ``oh`` (square) or ``(oh, ow)``.
        spatial_scale: feature pixels per image pixel (1 / stride).
        sampling_ratio: samples per bin and axis (> 0; torchvision's adaptive 0 is not supported).
        aligned: shift by -0.5 pixel (torchvision ``aligned=True``).
    """
    if sampling_ratio <= 0:
        raise ValueError("sampling_ratio must be positive")
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    _, c, h, w = features.shape
    k = rois.shape[0]
    if k == 0:
        return features.new_zeros((0, c, oh, ow))
    offset = 0.5 if aligned else 0.0
    rois = rois.to(features.dtype)
    x1, y1 = rois[:, 1] * spatial_scale - offset, rois[:, 2] * spatial_scale - offset
    x2, y2 = rois[:, 3] * spatial_scale - offset, rois[:, 4] * spatial_scale - offset
    rw, rh = x2 - x1, y2 - y1
    if not aligned:  # legacy RoIAlign forces boxes to at least one pixel
        rw, rh = rw.clamp(min=1.0), rh.clamp(min=1.0)
    ys = _sample_positions(y1, rh / oh, oh, sampling_ratio)  # (K, sy)
    xs = _sample_positions(x1, rw / ow, ow, sampling_ratio)  # (K, sx)
    sy, sx = ys.shape[1], xs.shape[1]
    grid = torch.stack(
        [_normalise(xs, w)[:, None, :].expand(k, sy, sx), _normalise(ys, h)[:, :, None].expand(k, sy, sx)], dim=-1
    )  # (K, sy, sx, 2)
    batch = rois[:, 0].long()
    pieces, order = [], []
    for b in torch.unique(batch).tolist():
        rows = torch.nonzero(batch == b).flatten()
        g = grid[rows].reshape(1, len(rows) * sy, sx, 2)
        vals = F.grid_sample(features[b : b + 1], g, mode="bilinear", padding_mode="border", align_corners=True)
        pieces.append(vals.reshape(c, len(rows), sy, sx).transpose(0, 1))
        order.append(rows)
    samples = torch.cat(pieces) if len(pieces) > 1 else pieces[0]
    if len(pieces) > 1:
        samples = samples[torch.argsort(torch.cat(order))]  # back to the order of ``rois``
    outside_y = (ys < -1.0) | (ys > h)
    outside_x = (xs < -1.0) | (xs > w)
    if outside_y.any() or outside_x.any():  # samples more than a pixel off the map read 0
        inside = (~outside_y).to(features.dtype)[:, :, None] * (~outside_x).to(features.dtype)[:, None, :]
        samples = samples * inside[:, None]
    return samples.reshape(k, c, oh, sampling_ratio, ow, sampling_ratio).mean(dim=(3, 5))
