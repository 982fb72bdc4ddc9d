"""Optuna samplers by name. Each gets the latency constraint so that rejected
architectures (over ``--max-latency-ms``) teach it which regions to avoid."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import optuna
from optuna.trial import FrozenTrial

from nas.errors import SearchError

__all__ = ["SAMPLERS", "make_sampler", "latency_constraint", "LATENCY_ATTR"]

LATENCY_ATTR = "latency_ms"  # user attribute set on every Optuna trial at suggestion time

Constraint = Callable[[FrozenTrial], Sequence[float]]


def latency_constraint(max_latency_ms: float | None) -> Constraint | None:
    """Optuna constraint ``latency - max <= 0`` (feasible), read from the trial's user attrs."""
    if max_latency_ms is None:
        return None

    def constraint(trial: FrozenTrial) -> Sequence[float]:
        latency = trial.user_attrs.get(LATENCY_ATTR)
        return [float(latency) - max_latency_ms] if latency is not None else [0.0]

    return constraint


def _tpe(seed: int, trials: int, constraint: Constraint | None) -> optuna.samplers.BaseSampler:
    # 10 random start-up trials (Optuna's default) but never more than a third of a small run
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(3, min(10, trials // 3)), constraints_func=constraint)


def _nsga2(seed: int, trials: int, constraint: Constraint | None) -> optuna.samplers.BaseSampler:
    # a population of a quarter of the run (4..50) so that a 40-trial run sees 4 generations
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, min(50, trials // 4)), constraints_func=constraint)


def _random(seed: int, trials: int, constraint: Constraint | None) -> optuna.samplers.BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)


SAMPLERS: dict[str, Callable[[int, int, Constraint | None], optuna.samplers.BaseSampler]] = {
    "tpe": _tpe,
    "nsga2": _nsga2,
    "random": _random,
}


def make_sampler(name: str, seed: int, trials: int, max_latency_ms: float | None) -> optuna.samplers.BaseSampler:
    """The sampler ``name`` seeded with ``seed`` for a run of ``trials`` trials."""
    if name not in SAMPLERS:
        raise SearchError(f"unknown sampler {name!r}; known: {', '.join(SAMPLERS)}")
    return SAMPLERS[name](seed, trials, latency_constraint(max_latency_ms))
