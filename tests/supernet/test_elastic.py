"""Sliceable layers: each slice is the stand-alone layer its slice_state describes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nas.layers import MixedDepthwiseConv
from nas.supernet.elastic import ElasticBatchNorm2d, ElasticConv2d, ElasticMixedDepthwise, centre


def test_centre_is_the_middle_window_and_refuses_off_centre_sizes() -> None:
    weight = torch.arange(49.0).reshape(1, 1, 7, 7)
    assert torch.equal(centre(weight, 3), weight[..., 2:5, 2:5])
    assert torch.equal(centre(weight, 7), weight)
    with pytest.raises(ValueError, match="centred window"):
        centre(weight, 4)


@pytest.mark.parametrize(("in_ch", "out_ch", "kernel", "stride"), [(3, 5, 3, 1), (8, 8, 7, 2), (1, 2, 1, 1), (6, 3, 5, 2)])
def test_conv_slice_equals_the_stand_alone_conv(in_ch: int, out_ch: int, kernel: int, stride: int) -> None:
    torch.manual_seed(0)
    elastic = ElasticConv2d(8, 8, 7, bias=True)
    conv = nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2)
    conv.load_state_dict(elastic.slice_state(in_ch, out_ch, kernel))
    x = torch.randn(2, in_ch, 11, 9)
    torch.testing.assert_close(elastic(x, out_ch, kernel, stride), conv(x))


def test_depthwise_conv_slice_follows_the_input_width() -> None:
    torch.manual_seed(0)
    elastic = ElasticConv2d(12, 12, 5, depthwise=True)
    conv = nn.Conv2d(7, 7, 3, 2, 1, groups=7, bias=False)
    conv.load_state_dict(elastic.slice_state(7, 7, 3))
    x = torch.randn(1, 7, 10, 10)
    torch.testing.assert_close(elastic(x, kernel=3, stride=2), conv(x))


def test_batch_norm_slice_trains_only_its_own_channels() -> None:
    torch.manual_seed(0)
    elastic = ElasticBatchNorm2d(10).train()
    plain = nn.BatchNorm2d(4).train()
    plain.load_state_dict(elastic.slice_state(4))
    before = elastic.running_mean.clone()
    x = torch.randn(3, 4, 5, 5) * 2 + 1
    torch.testing.assert_close(elastic(x), plain(x))
    torch.testing.assert_close(elastic.running_mean[:4], plain.running_mean)
    torch.testing.assert_close(elastic.running_var[:4], plain.running_var)
    assert torch.equal(elastic.running_mean[4:], before[4:])  # the other channels are untouched
    assert not torch.equal(elastic.running_mean[:4], before[:4])
    elastic.eval(), plain.eval()
    torch.testing.assert_close(elastic(x), plain(x))


def test_batch_norm_slice_keeps_a_cumulative_average_as_batch_norm_does() -> None:
    elastic, plain = ElasticBatchNorm2d(6, momentum=None).train(), nn.BatchNorm2d(3, momentum=None).train()
    plain.load_state_dict(elastic.slice_state(3))
    for step in range(3):
        x = torch.randn(4, 3, 3, 3) * (step + 1)
        elastic(x), plain(x)
    torch.testing.assert_close(elastic.running_var[:3], plain.running_var)
    torch.testing.assert_close(elastic.running_mean[:3], plain.running_mean)


@pytest.mark.parametrize(("channels", "kernels"), [(12, (3, 5, 7)), (7, (3, 5)), (9, (5,))])
def test_mixed_depthwise_slice_equals_mixconv(channels: int, kernels: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    elastic = ElasticMixedDepthwise(16, 7)
    conv = MixedDepthwiseConv(channels, kernels, stride=2)
    conv.load_state_dict(elastic.slice_state(channels, kernels))
    x = torch.randn(2, channels, 9, 9)
    torch.testing.assert_close(elastic(x, kernels, 2), conv(x))
