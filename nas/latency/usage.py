"""How much each op weighs in the space's networks: how often it occurs in a network
drawn from the space (as validation draws them), so that an op's expected share of a
network's time is its use times its ms. Measuring the heaviest ops first makes every
partial measurement (an adaptation's budget, a table completed in parts) count most."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from tqdm import tqdm

from nas.latency.keys import DEFAULT_ROIS, op_keys
from nas.latency.validate import sample_archs
from nas.space.search_space import SearchSpace

__all__ = ["USAGE_DRAWS", "USAGE_SEED", "op_usage", "by_weight"]

USAGE_DRAWS = 300  # networks drawn: on the shipped tables 100, 300 and 1,000 ordered an adaptation alike
USAGE_SEED = 7919  # not validation's default seed 0: the order is not drawn from the networks a validation scores


def op_usage(space: SearchSpace, rois: int = DEFAULT_ROIS, draws: int = USAGE_DRAWS, seed: int = USAGE_SEED) -> dict[str, float]:
    """How many times each key occurs in a network of ``space``, on average over ``draws``
    architectures sampled as validation samples them (keys no draw holds are absent)."""
    counts: dict[str, float] = defaultdict(float)
    for arch in tqdm(sample_archs(space, draws, seed), desc="weighing ops by use", unit="net", dynamic_ncols=True, leave=False):
        for key in op_keys(arch, rois):
            counts[key] += 1.0 / draws
    return dict(counts)


def by_weight(keys: list[str], usage: Mapping[str, float], ms: Mapping[str, float]) -> list[str]:
    """``keys`` heaviest first: by expected ms per network (use x ``ms``; a key without
    a use or an ms weighs 0), ties by key."""
    return sorted(keys, key=lambda k: (-usage.get(k, 0.0) * ms.get(k, 0.0), k))
