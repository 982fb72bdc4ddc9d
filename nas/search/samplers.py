"""Optuna samplers by name.

TPE and NSGA-II read the constraints each trial carries (``Trial.set_constraint``): the
latency one, set by the searcher when ``--max-latency-ms`` is given, so rejected
architectures teach them which regions to avoid, and the "learned" one under the Pareto
objective (``--min-gps-ap``), so fast networks that learned nothing within the proxy do not
count among the good trials. Random search ignores both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import optuna

from nas.errors import SearchError
from nas.registry import Registry, callable_with

__all__ = ["SAMPLERS", "make_sampler", "session_seed", "LATENCY_ATTR", "CONSTRAINT", "LEARNED_CONSTRAINT"]

LATENCY_ATTR = "latency_ms"  # user attribute set on every Optuna trial at suggestion time
CONSTRAINT = "max_latency_ms"  # constraint name: latency - limit (ms), feasible when <= 0
LEARNED_CONSTRAINT = "min_gps_ap"  # constraint name: floor - GPS AP (points), feasible when <= 0


_RLOCK_TYPE = type(threading.RLock())
_LOCK_TYPES = (type(threading.Lock()), _RLOCK_TYPE)


class _PicklableLocks:
    """Pickles a sampler that holds thread locks, with fresh locks on unpickling.

    Ray Tune pickles the searcher, and with it the sampler, when a run starts. Optuna 5.1's
    NSGA-II sampler holds a ``threading.Lock`` (``_thread_lock``), which cannot be pickled:
    every ``--sampler nsga2`` search failed before its first trial.
    """

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        locks = {name: isinstance(value, _RLOCK_TYPE) for name, value in state.items()
                 if isinstance(value, _LOCK_TYPES)}
        for name in locks:
            del state[name]
        state["_picklable_locks"] = locks  # name -> re-entrant
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        locks = state.pop("_picklable_locks", {})
        self.__dict__.update(state)
        for name, reentrant in locks.items():
            setattr(self, name, threading.RLock() if reentrant else threading.Lock())


class _TPESampler(_PicklableLocks, optuna.samplers.TPESampler):
    pass


class _NSGAIISampler(_PicklableLocks, optuna.samplers.NSGAIISampler):
    pass


class _RandomSampler(_PicklableLocks, optuna.samplers.RandomSampler):
    pass


def _tpe(seed: int, trials: int) -> optuna.samplers.BaseSampler:
    # 10 random start-up trials (Optuna's default) but never more than a third of a small run.
    # Univariate, said explicitly: on this conditional space (each stage's block type brings
    # its own options) the multivariate, grouped TPE was no better in the efficiency
    # benchmark: hypervolume 11,133 after 40 trials against 14,590 and 10,516 for two
    # univariate draws (bench/reports/search_efficiency.json, runs tpe-grouped, tpe,
    # tpe-with-repeats).
    return _TPESampler(seed=seed, n_startup_trials=max(3, min(10, trials // 3)), multivariate=False)


def _nsga2(seed: int, trials: int) -> optuna.samplers.BaseSampler:
    # a population of a quarter of the run (4..50) so that a 40-trial run sees 4 generations
    return _NSGAIISampler(seed=seed, population_size=max(4, min(50, trials // 4)))


def _random(seed: int, trials: int) -> optuna.samplers.BaseSampler:
    return _RandomSampler(seed=seed)


SamplerFactory = Callable[[int, int], optuna.samplers.BaseSampler]
SAMPLERS: Registry[SamplerFactory] = Registry("sampler", callable_with("seed", "trials"), plural="", error=SearchError)
SAMPLERS.register("tpe", _tpe)
SAMPLERS.register("nsga2", _nsga2)
SAMPLERS.register("random", _random)


def session_seed(seed: int, session: int) -> int:
    """The sampler seed of a run's ``session`` (0: the first driver, then one per resume).

    A resumed driver builds a new sampler; with the run's seed again its random stream
    would start over and propose the run's first architectures a second time (random
    search, TPE's start-up trials and NSGA-II's first generation). Later sessions
    therefore draw from their own stream, still determined by the seed and the session.
    """
    return seed if session == 0 else (seed * 1_000_003 + session * 7_919) % 2**31


def make_sampler(name: str, seed: int, trials: int, session: int = 0) -> optuna.samplers.BaseSampler:
    """The sampler ``name`` for a run of ``trials`` trials seeded with ``seed``, as built by
    the driver of the run's ``session`` (see :func:`session_seed`)."""
    return SAMPLERS.get(name)(session_seed(seed, session), trials)
