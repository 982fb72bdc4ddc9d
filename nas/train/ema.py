"""An exponential moving average of a model's weights, evaluated in place of the last
weights (the Polyak averaging of timm's ModelEma and TF's ExponentialMovingAverage).

A proxy of a few hundred small batches ends wherever its last noisy steps left it: two
trainings that differ only in the order of float sums (another thread count) ended 11.6
GPS AP points apart on one machine (bench/reports/proxy_repeat_2000img.json). The average
of the last ~1/(1 - decay) steps' weights sits nearer the middle of that wandering. Over
12 architectures it narrowed the change between thread counts only a little (median 2.3
-> 1.7 points, bench/reports/proxy_variants_2000img.json), so it is an option
(``TrainConfig.ema_decay``), off by default.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["WeightAverage"]


class WeightAverage:
    """The running average of ``model``'s parameters and float buffers (BatchNorm statistics
    included), kept in a copy of the model.

    Args:
        model: the model being trained (its copy is made now, on its device).
        decay: weight of the old average at each update, in (0, 1). Early updates use
            ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates, so the average is not
            held back by the random initial weights (TF's ``num_updates`` rule).
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.updates = 0
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def current_decay(self) -> float:
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards ``model``'s present weights (call after each optimiser step)."""
        d = self.current_decay()
        live = model.state_dict()
        for name, avg in self.model.state_dict().items():
            value = live[name]
            if avg.dtype.is_floating_point:
                avg.mul_(d).add_(value.detach(), alpha=1 - d)
            else:  # counters such as BatchNorm's num_batches_tracked
                avg.copy_(value)
        self.updates += 1

    def state_dict(self) -> dict[str, object]:
        return {"model": self.model.state_dict(), "updates": self.updates, "decay": self.decay}

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.model.load_state_dict(state["model"])  # type: ignore[arg-type]
        self.updates = int(state["updates"])  # type: ignore[call-overload]
