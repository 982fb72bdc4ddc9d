"""The Pareto front of a run: which (accuracy up, cost down) points, and which trials, are on it.

Points are ``(ap, cost)`` pairs: GPS AP in percent (higher is better) and a cost, the
latency in ms or the parameter count (lower is better). A point is on the front when no
other point is at least as good in both and strictly better in one; duplicates of a
front point are all kept. A finished trial whose GPS AP is under the run's learned floor
(``--min-gps-ap``: it did not learn within its scoring) is never a front member, however
fast. The definition lives with the run's data model because the
search keeps the weights of front trials and export picks them; :mod:`nas.pareto` builds
its reports, hypervolume and plots on it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from nas.runs.rows import FINISHED, TrialRow

__all__ = ["dominates", "front_indices", "front_trials", "learned_floor"]


def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether ``a`` (ap, cost) dominates ``b``."""
    return a[0] >= b[0] and a[1] <= b[1] and (a[0] > b[0] or a[1] < b[1])


def front_indices(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the non-dominated points, sorted by cost (then AP descending).

    Points with a non-finite coordinate are ignored. O(n log n): sweep by cost, keep a
    point when its AP beats every cheaper point's.
    """
    valid = [i for i, (ap, cost) in enumerate(points) if math.isfinite(ap) and math.isfinite(cost)]
    order = sorted(valid, key=lambda i: (points[i][1], -points[i][0]))
    front: list[int] = []
    best_ap = -math.inf
    best_cost = math.nan
    for i in order:
        ap, cost = points[i]
        if ap > best_ap:
            front.append(i)
            best_ap, best_cost = ap, cost
        elif ap == best_ap and cost == best_cost:  # an exact duplicate of a front point
            front.append(i)
    return front


def learned_floor(config: Mapping[str, Any]) -> float:
    """The GPS AP (points) under which a run's finished trial did not learn: its objective's
    ``min_gps_ap`` (0 for runs recorded before the floor existed)."""
    return float(config.get("objective", {}).get("min_gps_ap", 0.0) or 0.0)


def front_trials(rows: list[TrialRow], floor: float = 0.0) -> set[str]:
    """Trials on the (GPS AP, latency) front of finished search trials, or of all finished
    trials baselines included (a baseline the search does not beat keeps its weights too);
    trials under ``floor`` GPS AP take no part."""
    keep: set[str] = set()
    finished = [r for r in rows if r.status == FINISHED and not r.gps_ap < floor]
    for group in ([r for r in finished if r.kind == "search"], finished):
        for i in front_indices([(r.gps_ap, r.latency_ms) for r in group]):
            keep.add(group[i].trial)
    return keep
