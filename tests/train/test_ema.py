"""The moving average of weights: its arithmetic, buffers and state round trip."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nas.train.ema import WeightAverage


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))


def test_average_follows_the_warm_up_rule_by_hand() -> None:
    net = _net()
    w0 = net[0].weight.detach().clone()
    average = WeightAverage(net, decay=0.5)
    with torch.no_grad():
        net[0].weight.fill_(1.0)
    average.update(net)  # first decay min(0.5, 1/10) = 0.1
    torch.testing.assert_close(average.model[0].weight, 0.1 * w0 + 0.9)
    with torch.no_grad():
        net[0].weight.fill_(3.0)
    average.update(net)  # min(0.5, 2/11)
    d = 2 / 11
    torch.testing.assert_close(average.model[0].weight, d * (0.1 * w0 + 0.9) + (1 - d) * 3.0)
    for _ in range(20):
        average.update(net)
    assert average.current_decay() == 0.5  # (1 + 22) / (10 + 22) > 0.5: the set decay rules


def test_batchnorm_statistics_are_averaged_and_counters_copied() -> None:
    net = _net().train()
    average = WeightAverage(net, decay=0.5)
    net(torch.randn(8, 3) * 4 + 2)  # moves the live running mean and counts one batch
    average.update(net)
    bn, avg_bn = net[1], average.model[1]
    torch.testing.assert_close(avg_bn.running_mean, 0.9 * bn.running_mean)  # the copy started at 0
    assert int(avg_bn.num_batches_tracked) == int(bn.num_batches_tracked) == 1
    assert not avg_bn.training and not any(p.requires_grad for p in average.model.parameters())


def test_state_round_trip_and_bad_decay() -> None:
    net = _net()
    average = WeightAverage(net, decay=0.9)
    with torch.no_grad():
        net[0].bias.add_(1.0)
    average.update(net)
    other = WeightAverage(_net(), decay=0.9)
    other.load_state_dict(average.state_dict())
    assert other.updates == 1
    torch.testing.assert_close(other.model[0].bias, average.model[0].bias)
    for bad in (0.0, 1.0, float("nan")):
        with pytest.raises(ValueError, match="EMA decay must be in"):
            WeightAverage(net, decay=bad)
