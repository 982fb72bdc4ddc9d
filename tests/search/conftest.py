"""Fixtures of the search tests: the shipped tiny space, a synthetic latency table covering
it (:mod:`nas.latency.synthetic`: profiling takes minutes), tiny proxies."""

from __future__ import annotations

from pathlib import Path

import pytest

from nas.latency.synthetic import write_synthetic_table
from nas.search.config import SearchConfig
from nas.search.objective import Objective
from nas.shipped import TINY_SPACE as TINY_SPACE_PATH
from nas.shipped import shipped
from nas.train.budget import Budget
from nas.train.config import TrainConfig

TINY_SPACE = shipped(TINY_SPACE_PATH).resolve()
# no learned floor: a 2-step proxy leaves every tiny network near 0 GPS AP, and under the
# default floor none would be a front member (nothing kept, nothing to export)
TINY_OBJECTIVE = Objective(min_gps_ap=0.0)
TINY_PROXY = TrainConfig(budget=Budget(steps=2), input_size=(128, 96), batch_size=2, evals=1, val_images=2, device="cpu")


@pytest.fixture(scope="session")
def tiny_table(tmp_path_factory) -> Path:
    return write_synthetic_table(tmp_path_factory.mktemp("table") / "synthetic", TINY_SPACE)


def tiny_config(out: Path, data: Path, table: Path, **changes: object) -> SearchConfig:
    values: dict[str, object] = dict(space=str(TINY_SPACE), table=str(table), data=str(data), out=str(out), trials=3,
                                     sampler="tpe", objective=TINY_OBJECTIVE, baselines=(), proxy=TINY_PROXY, seed=0,
                                     max_failures=2, cpus_per_trial=1.0)
    values.update(changes)
    return SearchConfig(**values)  # type: ignore[arg-type]
