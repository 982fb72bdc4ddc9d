"""The proxy's :class:`~nas.train.config.TrainConfig` built from command options.

``nas train``, ``nas search`` and ``nas demo`` all take proxy settings on the command
line; :func:`build_proxy_config` is the one place that turns them into a config, so a
setting means the same whatever command is given it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from nas.train.budget import Budget
from nas.train.config import TrainConfig, TrainConfigError

__all__ = ["ProxyOptions", "build_proxy_config"]


@dataclass(frozen=True)
class ProxyOptions:
    """Proxy settings as given by a user; None keeps the base config's value.

    Attributes:
        budget_steps, budget_epochs, budget_seconds: the budget (at most one: a
            :class:`~nas.train.budget.Budget` refuses two).
        input_size: ``(H, W)`` proxy input, pixels.
        batch_size, lr, evals, val_images, seed, device, threads, ema_decay: the
            :class:`~nas.train.config.TrainConfig` fields of the same names.
    """

    budget_steps: int | None = None
    budget_epochs: float | None = None
    budget_seconds: float | None = None
    input_size: tuple[int, int] | None = None
    batch_size: int | None = None
    lr: float | None = None
    evals: int | None = None
    val_images: int | None = None
    seed: int | None = None
    device: str | None = None
    threads: int | None = None
    ema_decay: float | None = None


_BUDGET = ("budget_steps", "budget_epochs", "budget_seconds")


def build_proxy_config(options: ProxyOptions, base: TrainConfig) -> TrainConfig:
    """``base`` with every setting ``options`` gives (ranges checked once, together, by
    :class:`TrainConfig`; a budget that is not positive and finite here, naming its option;
    two budgets by :class:`Budget`)."""
    for name in _BUDGET:
        value = getattr(options, name)
        if value is not None and not 0 < value < math.inf:
            raise TrainConfigError(f"--{name.replace('_', '-')} must be positive and finite, got {value}")
    changes: dict[str, object] = {f.name: getattr(options, f.name) for f in fields(options)
                                  if f.name not in _BUDGET and getattr(options, f.name) is not None}
    if "input_size" in changes:
        changes["input_size"] = tuple(changes["input_size"])  # type: ignore[arg-type]
    if any(getattr(options, name) is not None for name in _BUDGET):
        changes["budget"] = Budget(steps=options.budget_steps, epochs=options.budget_epochs, seconds=options.budget_seconds)
    return replace(base, **changes)  # type: ignore[arg-type]
