"""Optuna samplers by name.

TPE and NSGA-II read the latency constraint each trial carries (``Trial.set_constraint``,
set by the searcher when ``--max-latency-ms`` is given), so rejected architectures teach
them which regions to avoid; random search ignores it.
"""

from __future__ import annotations

from collections.abc import Callable

import optuna

from nas.errors import SearchError

__all__ = ["SAMPLERS", "make_sampler", "LATENCY_ATTR", "CONSTRAINT"]

LATENCY_ATTR = "latency_ms"  # user attribute set on every Optuna trial at suggestion time
CONSTRAINT = "max_latency_ms"  # constraint name: latency - limit (ms), feasible when <= 0


def _tpe(seed: int, trials: int) -> optuna.samplers.BaseSampler:
    # 10 random start-up trials (Optuna's default) but never more than a third of a small run.
    # Univariate, said explicitly: on this conditional space (each stage's block type brings
    # its own options) the multivariate, grouped TPE did worse in the efficiency benchmark:
    # hypervolume 11,133 against 14,590 after 40 trials, 12 against 19 trials that learned
    # (GPS AP >= 5); bench/reports/search_efficiency.json, run tpe-grouped.
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(3, min(10, trials // 3)), multivariate=False)


def _nsga2(seed: int, trials: int) -> optuna.samplers.BaseSampler:
    # a population of a quarter of the run (4..50) so that a 40-trial run sees 4 generations
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, min(50, trials // 4)))


def _random(seed: int, trials: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)


SAMPLERS: dict[str, Callable[[int, int], optuna.samplers.BaseSampler]] = {
    "tpe": _tpe,
    "nsga2": _nsga2,
    "random": _random,
}


def make_sampler(name: str, seed: int, trials: int) -> optuna.samplers.BaseSampler:
    """The sampler ``name`` seeded with ``seed`` for a run of ``trials`` trials."""
    if name not in SAMPLERS:
        raise SearchError(f"unknown sampler {name!r}; known: {', '.join(SAMPLERS)}")
    return SAMPLERS[name](seed, trials)
