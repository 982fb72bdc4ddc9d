"""Fixtures of the search tests: a tiny space, a latency table covering it, tiny proxies.

The latency table is written by the tests (profiling takes minutes): each op costs
0.01 ms plus its tensor volumes / 1e5, so bigger ops are slower as on a real device.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from nas.search.config import SearchConfig
from nas.search.objective import Objective
from nas.space.references import DENSEPOSE_BASELINES
from nas.train.budget import Budget
from nas.train.config import TrainConfig

HERE = Path(__file__).resolve().parent
TINY_SPACE = HERE / "tiny_space.yaml"
TINY_PROXY = TrainConfig(budget=Budget(steps=2), input_size=(128, 96), batch_size=2, evals=1, val_images=2, device="cpu")


def synthetic_ms(key: str) -> float:
    volumes = [math.prod(int(v) for v in g.split("x")) for g in re.findall(r"\d+x\d+x\d+", key)]
    return 0.01 + sum(volumes) / 1e5


def write_table(path: Path, space_path: Path, baselines: tuple[str, ...] = DENSEPOSE_BASELINES) -> Path:
    from dataclasses import replace

    from nas.latency.keys import op_keys, space_keys
    from nas.latency.stats import OpStats
    from nas.latency.table import FORMAT, VERSION, LatencyTable
    from nas.space.references import reference
    from nas.space.search_space import SearchSpace

    space = SearchSpace.from_yaml(space_path)
    keys = set(space_keys(space))
    for name in baselines:
        keys |= set(op_keys(replace(reference(name), input_size=space.deploy_input)))
    meta = {"format": FORMAT, "version": VERSION, "device": "synthetic-test", "runtime": "synthetic", "threads": 1,
            "space": {"path": str(space_path), "name": space.name, "hash": space.hash}}
    table = LatencyTable(path, meta)
    for key in keys:
        ms = synthetic_ms(key)
        table.add(key, OpStats(ms, ms * 0.9, ms * 1.1, ms * 0.05, 10))
    table.save()
    return path


@pytest.fixture(scope="session")
def tiny_table(tmp_path_factory) -> Path:
    return write_table(tmp_path_factory.mktemp("table") / "synthetic", TINY_SPACE)


def tiny_config(out: Path, data: Path, table: Path, **changes: object) -> SearchConfig:
    values: dict[str, object] = dict(space=str(TINY_SPACE), table=str(table), data=str(data), out=str(out), trials=3,
                                     sampler="tpe", objective=Objective(), baselines=(), proxy=TINY_PROXY, seed=0,
                                     max_failures=2, cpus_per_trial=1.0)
    values.update(changes)
    return SearchConfig(**values)  # type: ignore[arg-type]
