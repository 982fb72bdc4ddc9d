"""Precise BatchNorm statistics before an evaluation (detectron2's PreciseBN idea).

A proxy trains from scratch for a few hundred steps with a handful of images per step:
the BatchNorm running averages (momentum 0.1) then trail weights that keep moving, and
evaluation-mode outputs are off by however far they trail. Re-estimating every
BatchNorm layer's mean and variance over a fixed set of training batches with the
current weights removes that lag. On the default proxy it did not make two trainings of
one architecture (two seeds) agree better, so it is an option
(``TrainConfig.precise_bn_batches``), off by default.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from nas.model.rcnn import DensePoseRCNN

__all__ = ["recompute_bn_stats"]


@torch.no_grad()
def recompute_bn_stats(model: DensePoseRCNN, batches: Iterable[Tensor]) -> int:
    """Replace the running statistics of every BatchNorm layer of ``model`` by their
    average over ``batches`` (images ``(B, 3, H, W)`` in [0, 1], on the model's device).

    Only the feature network runs (the heads carry no BatchNorm). Weights, the torch RNG
    and the model's train/eval mode are left as they were.

    Returns:
        The number of batches used (0: the model has no BatchNorm layer, nothing done).
    """
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    if not layers:
        return 0
    momenta = [m.momentum for m in layers]
    was_training = model.training
    used = 0
    try:
        for m in layers:
            m.reset_running_stats()
            m.momentum = None  # cumulative moving average: every batch weighs the same
        model.train()
        with torch.random.fork_rng(devices=[]):
            for images in batches:
                model.features(model.normalise(images))
                used += 1
    finally:
        for m, momentum in zip(layers, momenta):
            m.momentum = momentum
        model.train(was_training)
    return used
