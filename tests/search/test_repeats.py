"""A suggestion that repeats a finished architecture is answered from the earlier trial,
never trained again (the proxy is deterministic, a second training gives the same AP)."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from nas.latency.table import LatencyTable
from nas.runs.store import ResultsStore
from nas.search.objective import Objective
from nas.search.searcher import MAX_CONSECUTIVE_REPEATS, REPEAT_ATTR, NasSearch
from nas.space.search_space import SearchSpace
from tests.search.conftest import TINY_SPACE

RESULT = {"final": True, "gps_ap": 12.5, "gps_ap50": 30.0, "gps_ap75": 10.0, "gpsm_ap": 14.0, "gpsm_ap50": 33.0,
          "gpsm_ap75": 11.0, "steps": 2, "progress": 1.0, "params": 1000, "macs": 2000, "wall_seconds": 1.0, "node": "n"}


def _searcher(tmp_path, tiny_table) -> NasSearch:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return NasSearch(SearchSpace.from_yaml(TINY_SPACE), LatencyTable.load(tiny_table), Objective(), ResultsStore(tmp_path / "run"),
                     optuna.samplers.RandomSampler(seed=1), optuna.storages.InMemoryStorage(), baselines=[])


def test_a_repeat_is_told_from_the_earlier_trial_and_not_trained(tmp_path, tiny_table):
    searcher = _searcher(tmp_path, tiny_table)
    first = searcher.suggest("ray-1")
    searcher.on_trial_complete("ray-1", result=RESULT)
    earlier = searcher.study.trials[0]
    searcher.study.enqueue_trial(earlier.params)  # the sampler proposes the same architecture again
    second = searcher.suggest("ray-2")
    assert second["arch"] != first["arch"]  # what Ray gets to train is a new architecture
    repeat = searcher.study.trials[1]
    assert repeat.state == TrialState.COMPLETE and repeat.user_attrs[REPEAT_ATTR] == "t0000"
    assert earlier.values == pytest.approx([12.5, earlier.user_attrs["latency_ms"]])
    assert repeat.values == pytest.approx(earlier.values)
    assert second["trial"] == "t0002"
    assert list(searcher.store.rows()) == ["t0000"]  # no row for the repeat: it does not use one of --trials


def test_a_resumed_searcher_knows_the_finished_architectures(tmp_path, tiny_table):
    searcher = _searcher(tmp_path, tiny_table)
    searcher.suggest("ray-1")
    searcher.on_trial_complete("ray-1", result=RESULT)
    params = searcher.study.trials[0].params
    resumed = _searcher(tmp_path, tiny_table)  # a new driver: it reads the store
    resumed.study.enqueue_trial(params)
    resumed.suggest("ray-2")
    assert resumed.study.trials[0].user_attrs[REPEAT_ATTR] == "t0000"


def test_a_converged_sampler_still_gets_its_repeat_trained(tmp_path, tiny_table):
    searcher = _searcher(tmp_path, tiny_table)
    first = searcher.suggest("ray-1")
    searcher.on_trial_complete("ray-1", result=RESULT)
    params = searcher.study.trials[0].params
    for _ in range(MAX_CONSECUTIVE_REPEATS + 1):
        searcher.study.enqueue_trial(params)
    again = searcher.suggest("ray-2")
    assert again["arch"] == first["arch"]  # after the limit the search goes on rather than stall
    assert sum(REPEAT_ATTR in t.user_attrs for t in searcher.study.trials) == MAX_CONSECUTIVE_REPEATS


def test_the_searcher_pickles_with_every_sampler(tmp_path, tiny_table):
    """Ray Tune's Tuner pickles the searcher (cloudpickle) before the first trial."""
    from ray import cloudpickle

    from nas.search.samplers import SAMPLERS, make_sampler

    for name in SAMPLERS:
        searcher = NasSearch(SearchSpace.from_yaml(TINY_SPACE), LatencyTable.load(tiny_table), Objective(),
                             ResultsStore(tmp_path / name), make_sampler(name, 0, 12), optuna.storages.InMemoryStorage(), baselines=[])
        assert cloudpickle.loads(cloudpickle.dumps(searcher)).study.study_name == searcher.study.study_name
