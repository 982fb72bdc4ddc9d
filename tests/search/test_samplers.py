"""Sampler construction: the samplers a search can name, seeded, quiet."""

from __future__ import annotations

import warnings
from pathlib import Path

import optuna
import pytest

from nas.errors import SearchError
from nas.search.samplers import make_sampler, session_seed
from nas.space.search_space import SearchSpace

SPACE = Path(__file__).resolve().parents[2] / "search_spaces" / "densepose_mobile.yaml"


def _objective(space: SearchSpace):
    """A cheap two-objective stand-in for a trial, suggesting from ``space`` define-by-run."""

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        text = space.suggest(trial).to_string()
        return float(text.count("_dw")), float(-text.count("_hs"))

    return objective


def _run(sampler: optuna.samplers.BaseSampler, trials: int) -> optuna.Study:
    study = optuna.create_study(directions=["maximize", "maximize"], sampler=sampler)
    study.optimize(_objective(SearchSpace.from_yaml(SPACE)), n_trials=trials)
    return study


@pytest.mark.parametrize("name", ["tpe", "nsga2", "random"])
def test_samplers_run_the_conditional_space_silently(name: str) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. Optuna's warnings about experimental or defaulted options
        study = _run(make_sampler(name, seed=0, trials=40), trials=16)  # past TPE's 10 start-up trials
    assert len(study.trials) == 16 and all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert len({tuple(sorted(t.params.items())) for t in study.trials}) == 16  # 16 distinct architectures


def test_tpe_is_univariate() -> None:
    # the multivariate, grouped TPE measured no better on this space (see nas/search/samplers.py)
    assert make_sampler("tpe", seed=0, trials=40)._multivariate is False


@pytest.mark.parametrize("trials, startup", [(40, 10), (12, 4), (6, 3)])
def test_tpe_start_up_trials_scale_with_small_runs(trials: int, startup: int) -> None:
    assert make_sampler("tpe", seed=0, trials=trials)._n_startup_trials == startup


def test_same_seed_same_suggestions() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    first = [t.params for t in _run(make_sampler("tpe", seed=3, trials=20), trials=12).trials]
    second = [t.params for t in _run(make_sampler("tpe", seed=3, trials=20), trials=12).trials]
    assert first == second


def test_unknown_sampler_lists_the_known_ones() -> None:
    with pytest.raises(SearchError, match="unknown sampler 'cmaes'; known: tpe, nsga2, random"):
        make_sampler("cmaes", seed=0, trials=10)


@pytest.mark.parametrize("name", ["random", "tpe", "nsga2"])
def test_a_resumed_driver_does_not_replay_the_first_architectures(name: str) -> None:
    """Each driver session builds a new sampler on the same study; session 1 must not
    start the seed's random stream over (it proposed the run's first trials again)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    objective = _objective(SearchSpace.from_yaml(SPACE))

    def proposals(session: int, study: optuna.Study) -> list[tuple]:
        resumed = optuna.load_study(study_name=study.study_name, storage=storage, sampler=make_sampler(name, 0, 40, session))
        resumed.optimize(objective, n_trials=5)
        return [tuple(sorted(t.params.items())) for t in resumed.trials[-5:]]

    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(directions=["maximize", "maximize"], storage=storage)
    first = proposals(0, study)
    second = proposals(1, study)
    assert not set(first) & set(second)


def test_session_seeds_differ_and_keep_the_first() -> None:
    assert session_seed(7, 0) == 7
    assert len({session_seed(7, s) for s in range(50)}) == 50
    assert session_seed(7, 3) == session_seed(7, 3)


@pytest.mark.parametrize("name", ["tpe", "nsga2", "random"])
def test_samplers_survive_pickling_and_still_suggest(name: str) -> None:
    """Ray Tune pickles the searcher with its sampler when a run starts; Optuna 5.1's
    NSGA-II holds a thread lock, and every nsga2 search failed there before its first trial."""
    import pickle

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = make_sampler(name, seed=0, trials=40)
    copy = pickle.loads(pickle.dumps(sampler))
    assert type(copy) is type(sampler)
    locks = [k for k, v in vars(sampler).items() if "lock" in type(v).__name__.lower()]
    assert all(type(getattr(copy, k)) is type(getattr(sampler, k)) for k in locks)  # fresh, working locks
    study = _run(copy, trials=6)
    assert len(study.trials) == 6 and all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
