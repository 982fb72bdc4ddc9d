"""RoIAlign in plain torch, with torchvision's ``roi_align`` semantics.

Each output bin averages ``sampling_ratio x sampling_ratio`` bilinear samples. With
``aligned=True`` box corners are shifted by -0.5 pixel so that a box's pixel centres
land on feature-map sample centres (Detectron2's "ROIAlignV2"). Bilinear sampling
follows torchvision exactly: samples further than one pixel outside the map are zero,
the rest are clamped to the border.

The samples of a RoI form a grid (rows x columns) and bilinear weights factor into a row
weight times a column weight, and so does the bin average. So each RoI is two small
matrices, ``Wy`` (bins x H) and ``Wx`` (bins x W), and its output is ``Wy @ F @ Wx^T``
per channel: two matrix products. Their backward passes are matrix products too, where
``grid_sample``'s backward scatters sample by sample (it took ~40% of a proxy training
step's RoI work on CPU). Differentiable with respect to the features, not the boxes (as
torchvision).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["roi_align", "roi_align_padded"]


def _axis_weights(start: Tensor, bin_size: Tensor, bins: int, samples: int, size: int) -> Tensor:
    """``(K, bins, size)``: the weight of every map row (or column) in every bin's average.

    A sample at ``p`` reads pixels ``floor(p)`` and ``floor(p) + 1`` with the hat weights
    ``max(0, 1 - |p - i|)`` after clamping ``p`` to ``[0, size - 1]`` (torchvision's border
    rule); samples further than one pixel outside the map read 0.
    """
    steps = torch.arange(bins, device=start.device, dtype=start.dtype)[:, None] + (
        torch.arange(samples, device=start.device, dtype=start.dtype)[None, :] + 0.5
    ) / samples
    pos = start[:, None] + steps.reshape(1, -1) * bin_size[:, None]  # (K, bins * samples), map pixels
    inside = ((pos >= -1.0) & (pos <= size)).to(start.dtype)
    pixel = torch.arange(size, device=start.device, dtype=start.dtype)
    hat = (1.0 - (pos.clamp(0.0, size - 1.0)[..., None] - pixel).abs()).clamp(min=0.0) * inside[..., None]
    return hat.reshape(start.shape[0], bins, samples, size).mean(dim=2)


def _box_weights(
    boxes: Tensor, oh: int, ow: int, h: int, w: int, spatial_scale: float, sampling_ratio: int, aligned: bool, dtype: torch.dtype
) -> tuple[Tensor, Tensor]:
    """``Wy (K, oh, H)`` and ``Wx (K, ow, W)`` of ``boxes (K, 4)`` (input-image pixels)."""
    if sampling_ratio <= 0:
        raise ValueError("sampling_ratio must be positive")
    offset = 0.5 if aligned else 0.0
    boxes = boxes.detach().to(dtype)
    x1, y1 = boxes[:, 0] * spatial_scale - offset, boxes[:, 1] * spatial_scale - offset
    x2, y2 = boxes[:, 2] * spatial_scale - offset, boxes[:, 3] * spatial_scale - offset
    rw, rh = x2 - x1, y2 - y1
    if not aligned:  # legacy RoIAlign forces boxes to at least one pixel
        rw, rh = rw.clamp(min=1.0), rh.clamp(min=1.0)
    return _axis_weights(y1, rh / oh, oh, sampling_ratio, h), _axis_weights(x1, rw / ow, ow, sampling_ratio, w)


def _output_size(output_size: int | tuple[int, int]) -> tuple[int, int]:
    return (output_size, output_size) if isinstance(output_size, int) else output_size


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
    oh, ow = _output_size(output_size)
    _, c, h, w = features.shape
    if sampling_ratio <= 0:
        raise ValueError("sampling_ratio must be positive")
    if rois.shape[0] == 0:
        return features.new_zeros((0, c, oh, ow))
    wy, wx = _box_weights(rois[:, 1:], oh, ow, h, w, spatial_scale, sampling_ratio, aligned, features.dtype)
    batch = rois[:, 0].long()
    pieces, order = [], []
    for b in torch.unique(batch).tolist():
        rows = torch.nonzero(batch == b).flatten()
        by_rows = torch.einsum("kph,chw->kcpw", wy[rows], features[b])  # (k, C, oh, W)
        pieces.append(torch.einsum("kcpw,kqw->kcpq", by_rows, wx[rows]))
        order.append(rows)
    if len(pieces) == 1:
        return pieces[0]
    return torch.cat(pieces)[torch.argsort(torch.cat(order))]  # back to the order of ``rois``


def roi_align_padded(
    features: Tensor,
    boxes: Tensor,
    output_size: int | tuple[int, int],
    spatial_scale: float,
    sampling_ratio: int = 2,
    aligned: bool = True,
    weight: Tensor | None = None,
) -> Tensor:
    """:func:`roi_align` of the same number ``R`` of boxes in every image: ``boxes (B, R, 4)``
    of the images of ``features (B, C, H, W)`` give ``(B * R, C, oh, ow)``, image-major,
    from two batched matrix products (no per-image step, no data-dependent shape).
    ``weight (B, R)`` scales each box's output (0 or 1: which boxes this level pools).
    """
    oh, ow = _output_size(output_size)
    n, c, h, w = features.shape
    r = boxes.shape[1]
    wy, wx = _box_weights(boxes.reshape(-1, 4), oh, ow, h, w, spatial_scale, sampling_ratio, aligned, features.dtype)
    if weight is not None:
        wy = wy * weight.reshape(-1, 1, 1).to(wy.dtype)
    by_rows = torch.einsum("brph,bchw->brcpw", wy.reshape(n, r, oh, h), features)  # (B, R, C, oh, W)
    return torch.einsum("brcpw,brqw->brcpq", by_rows, wx.reshape(n, r, ow, w)).reshape(n * r, c, oh, ow)
