"""RoIAlign and NMS against straightforward reference implementations of torchvision's
semantics, and hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from nas.model.rcnn.boxes import BoxCoder, batched_nms, box_iou, nms
from nas.model.rcnn.roi_align import roi_align


def _bilinear(fmap: torch.Tensor, y: float, x: float) -> torch.Tensor:
    """torchvision's roi_align bilinear_interpolate, one sample, written out."""
    h, w = fmap.shape[-2:]
    if y < -1.0 or y > h or x < -1.0 or x > w:
        return torch.zeros(fmap.shape[0])
    y, x = max(y, 0.0), max(x, 0.0)
    y_low, x_low = int(y), int(x)
    if y_low >= h - 1:
        y_high = y_low = h - 1
        y = float(y_low)
    else:
        y_high = y_low + 1
    if x_low >= w - 1:
        x_high = x_low = w - 1
        x = float(x_low)
    else:
        x_high = x_low + 1
    ly, lx = y - y_low, x - x_low
    hy, hx = 1 - ly, 1 - lx
    return hy * hx * fmap[:, y_low, x_low] + hy * lx * fmap[:, y_low, x_high] + ly * hx * fmap[:, y_high, x_low] + ly * lx * fmap[:, y_high, x_high]


def reference_roi_align(features, rois, out, scale, sr, aligned):
    result = torch.zeros(len(rois), features.shape[1], out, out)
    offset = 0.5 if aligned else 0.0
    for k, (b, x1, y1, x2, y2) in enumerate(rois.tolist()):
        x1, y1, x2, y2 = x1 * scale - offset, y1 * scale - offset, x2 * scale - offset, y2 * scale - offset
        rw, rh = x2 - x1, y2 - y1
        if not aligned:
            rw, rh = max(rw, 1.0), max(rh, 1.0)
        bw, bh = rw / out, rh / out
        for i in range(out):
            for j in range(out):
                acc = torch.zeros(features.shape[1])
                for iy in range(sr):
                    for ix in range(sr):
                        y = y1 + i * bh + (iy + 0.5) * bh / sr
                        x = x1 + j * bw + (ix + 0.5) * bw / sr
                        acc += _bilinear(features[int(b)], y, x)
                result[k, :, i, j] = acc / (sr * sr)
    return result


def test_hand_computed_bin_average() -> None:
    f = torch.arange(16.0).reshape(1, 1, 4, 4)
    # whole map, 1 bin, 2x2 samples at (0.5, 0.5), (0.5, 2.5), (2.5, 0.5), (2.5, 2.5):
    # bilinear means 2.5, 4.5, 10.5, 12.5 -> 7.5
    assert roi_align(f, torch.tensor([[0, 0, 0, 4, 4.0]]), 1, 1.0, 2).item() == pytest.approx(7.5)
    # the aligned box [1, 2] x [1, 2] has its single sample on pixel centre (1, 1): value 5
    assert roi_align(f, torch.tensor([[0, 1, 1, 2, 2.0]]), 1, 1.0, 1).item() == pytest.approx(5.0)


@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("sr", [1, 2])
def test_matches_reference_on_random_boxes(aligned: bool, sr: int) -> None:
    gen = torch.Generator().manual_seed(0)
    features = torch.randn(2, 3, 9, 7, generator=gen)
    xy = torch.rand(12, 2, generator=gen) * torch.tensor([40.0, 50.0]) - 8  # some corners outside the image
    wh = torch.rand(12, 2, generator=gen) * 30 + 0.2
    rois = torch.cat([torch.randint(0, 2, (12, 1), generator=gen).float(), xy, xy + wh], dim=1)
    got = roi_align(features, rois, 3, 0.25, sr, aligned)
    torch.testing.assert_close(got, reference_roi_align(features, rois, 3, 0.25, sr, aligned), atol=1e-5, rtol=1e-5)


def test_gradient_flows_to_features() -> None:
    features = torch.randn(1, 2, 6, 6, requires_grad=True)
    roi_align(features, torch.tensor([[0, 1.0, 1.0, 5.0, 4.0]]), 2, 1.0, 2).sum().backward()
    assert features.grad is not None and features.grad.abs().sum() > 0
    # the four bins' samples are bilinear, so the gradient sums to the number of outputs
    assert features.grad.sum().item() == pytest.approx(2 * 2 * 2)


def test_gradient_matches_reference() -> None:
    """The matrix-product backward equals autograd through the sample-by-sample reference,
    boxes partly off the map included."""
    gen = torch.Generator().manual_seed(1)
    rois = torch.tensor([[0, -6.0, -3.0, 20.0, 14.0], [1, 4.0, 2.0, 30.0, 36.0], [0, 10.0, 12.0, 13.0, 40.0]])
    weights = torch.randn(3, 2, 3, 3, generator=gen)
    grads = []
    for fn in (roi_align, reference_roi_align):
        features = torch.randn(2, 2, 8, 7, generator=torch.Generator().manual_seed(2)).requires_grad_()
        (fn(features, rois, 3, 0.25, 2, True) * weights).sum().backward()
        grads.append(features.grad)
    torch.testing.assert_close(grads[0], grads[1], atol=1e-5, rtol=1e-5)


def _greedy_nms(boxes, scores, thr):
    order = sorted(range(len(boxes)), key=lambda i: -float(scores[i]))
    keep = []
    for i in order:
        if all(box_iou(boxes[i : i + 1], boxes[j : j + 1]).item() <= thr for j in keep):
            keep.append(i)
    return keep


@pytest.mark.parametrize("seed", range(5))
def test_nms_equals_greedy_reference(seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    xy = torch.rand(60, 2, generator=gen) * 50
    boxes = torch.cat([xy, xy + torch.rand(60, 2, generator=gen) * 30 + 1], 1)
    scores = torch.rand(60, generator=gen)
    assert nms(boxes, scores, 0.5).tolist() == _greedy_nms(boxes, scores, 0.5)


def test_nms_hand_case_and_batched_categories() -> None:
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30.0]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    # IoU(0, 1) = 81 / 119 = 0.68 > 0.5: box 1 is suppressed
    assert nms(boxes, scores, 0.5).tolist() == [0, 2]
    assert nms(boxes, scores, 0.7).tolist() == [0, 1, 2]
    # in different categories nothing is suppressed
    assert batched_nms(boxes, scores, torch.tensor([0, 1, 0]), 0.5).tolist() == [0, 1, 2]
    assert nms(torch.zeros(0, 4), torch.zeros(0), 0.5).numel() == 0


def test_box_iou_by_hand() -> None:
    a = torch.tensor([[0, 0, 2, 2.0]])
    b = torch.tensor([[1, 1, 3, 3.0], [5, 5, 6, 6.0]])
    torch.testing.assert_close(box_iou(a, b), torch.tensor([[1 / 7, 0.0]]))


def test_box_coder_round_trip() -> None:
    coder = BoxCoder((10.0, 10.0, 5.0, 5.0))
    ref = torch.tensor([[0, 0, 10, 20.0], [5, 5, 7, 9.0]])
    tgt = torch.tensor([[1, 2, 12, 18.0], [4, 6, 9, 8.0]])
    deltas = coder.encode(ref, tgt)
    torch.testing.assert_close(coder.decode(deltas, ref), tgt)
    # same centre, same size: zero deltas; doubled width: dw = 5 * log 2
    d = coder.encode(ref[:1], torch.tensor([[-5, 0, 15, 20.0]]))
    torch.testing.assert_close(d, torch.tensor([[0.0, 0.0, 5 * math.log(2), 0.0]]))
