"""A synthetic latency table: every op key of a search space priced from its tensor
volumes, so that a search runs before any device is profiled (tests, ``--quick``
benchmarks, a first try of the pipeline). Its figures are not measurements: the table's
device and runtime are ``synthetic``.

An op costs 0.01 ms plus the sum of its ``HxWxC`` tensor volumes / 1e5, so bigger ops are
slower, as on a real device.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

from nas.latency.keys import op_keys, space_keys
from nas.latency.quantize import dtype_scheme
from nas.latency.stats import OpStats
from nas.latency.table import FORMAT, VERSION, LatencyTable
from nas.space.references import DENSEPOSE_BASELINES, reference
from nas.space.search_space import SearchSpace

__all__ = ["synthetic_ms", "write_synthetic_table"]

_BASE_MS = 0.01  # ms, every op
_ELEMENTS_PER_MS = 1e5  # tensor elements (summed over the key's shapes) per further ms
_SAMPLES = 10  # the rows' count of timed samples


def synthetic_ms(key: str) -> float:
    """The synthetic median (ms) of an op key."""
    volumes = [math.prod(int(v) for v in g.split("x")) for g in re.findall(r"\d+x\d+x\d+", key)]
    return _BASE_MS + sum(volumes) / _ELEMENTS_PER_MS


def write_synthetic_table(path: str | Path, space_path: str | Path, baselines: tuple[str, ...] = DENSEPOSE_BASELINES,
                          dtype: str = "fp32") -> Path:
    """Write a synthetic table at ``path`` covering every key of the space at ``space_path``
    and of the reference architectures ``baselines`` at the space's deploy input; returns ``path``.
    The spread columns are fixed fractions of the median (p10 0.9x, p90 1.1x, std 0.05x).
    ``dtype`` is what meta.json says the latencies stand for (with int8's quantization
    scheme), as a profile of that dtype would; the figures are the same."""
    path = Path(path)
    space = SearchSpace.from_yaml(space_path)
    keys = set(space_keys(space))
    for name in baselines:
        keys |= set(op_keys(replace(reference(name), input_size=space.deploy_input)))
    meta = {"format": FORMAT, "version": VERSION, "device": "synthetic", "runtime": "synthetic", "threads": 1, "dtype": dtype,
            "space": {"path": str(space_path), "name": space.name, "hash": space.hash}}
    if dtype_scheme(dtype):
        meta["quantization"] = dtype_scheme(dtype)
    table = LatencyTable(path, meta)
    for key in keys:
        ms = synthetic_ms(key)
        table.add(key, OpStats(ms, ms * 0.9, ms * 1.1, ms * 0.05, _SAMPLES))
    table.save()
    return path
