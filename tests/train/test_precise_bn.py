"""Precise BatchNorm statistics: the running averages become the average of the batch
statistics over the given batches, and nothing else about the model changes."""

from __future__ import annotations

import torch
from torch import nn

from nas.model.rcnn import build_densepose_rcnn
from tests.train.test_train import ARCH


def _first_bn(model: nn.Module) -> nn.BatchNorm2d:
    return next(m for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def test_running_stats_are_the_average_of_batch_stats() -> None:
    torch.manual_seed(0)
    model = build_densepose_rcnn(ARCH).eval()
    bn = _first_bn(model)
    batches = [torch.rand(2, 3, 128, 96) * (k + 1) / 3 for k in range(3)]  # different brightness: different stats
    seen: list[torch.Tensor] = []
    hook = bn.register_forward_hook(lambda m, inputs, out: seen.append(inputs[0].detach()))
    from nas.train.precise_bn import recompute_bn_stats

    weights = {k: v.clone() for k, v in model.state_dict().items() if "running" not in k and "num_batches" not in k}
    rng = torch.get_rng_state()
    assert recompute_bn_stats(model, batches) == 3
    hook.remove()
    means = torch.stack([x.mean(dim=(0, 2, 3)) for x in seen])
    variances = torch.stack([x.var(dim=(0, 2, 3), unbiased=True) for x in seen])
    torch.testing.assert_close(bn.running_mean, means.mean(0), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(bn.running_var, variances.mean(0), rtol=1e-4, atol=1e-5)
    assert bn.momentum == 0.1 and not model.training  # momentum and mode restored
    assert torch.equal(torch.get_rng_state(), rng)
    after = model.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in weights.items())  # weights untouched


def test_eval_outputs_follow_the_new_statistics() -> None:
    """Stale running averages (the initial 0 / 1) give other eval-mode features than
    statistics re-estimated on the data."""
    torch.manual_seed(0)
    model = build_densepose_rcnn(ARCH).eval()
    x = torch.rand(2, 3, 128, 96)
    before = model.features(model.normalise(x))
    from nas.train.precise_bn import recompute_bn_stats

    recompute_bn_stats(model, [x])
    after = model.features(model.normalise(x))
    assert any(not torch.allclose(before[k], after[k], atol=1e-3) for k in before)
