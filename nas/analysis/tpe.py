"""The trials multi-objective TPE counts as "good": the ones it samples around next.

Optuna's TPE splits the trials it has seen into a few good ones and the rest, and
proposes networks that look like the good ones. With two objectives (GPS AP up, latency
down) and the search's "learned" floor told as a constraint (see
:meth:`nas.search.objective.Objective.learned_violation`), the split of ``n`` finished
trials (Optuna 4-5's ``TPESampler`` with its default multi-objective gamma) is:

1. the good set holds ``ceil(n / 10)`` trials (:func:`tpe_good_count`);
2. feasible trials (AP at or above the floor) first: whole non-domination ranks (the
   Pareto front, then the front of the rest, ...) while they fit; the first rank that
   does not fit is cut by greedy hypervolume subset selection: repeatedly the point that
   adds the most hypervolume to those already chosen from that rank, against a reference
   point 10% beyond the rank's worst AP and latency;
3. then infeasible trials, the smallest violation (the highest AP) first.

On a short run the good set is a few trials, chosen by non-domination, so the fast end of
the front can crowd the best learners out of it: bench/bench_search.py reports it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from nas.pareto.hypervolume import hypervolume
from nas.runs.front import dominates

__all__ = ["tpe_good_count", "tpe_good_set", "told_ap"]

_EPS = 1e-12  # Optuna's stand-in for a zero coordinate of the reference point


def tpe_good_count(n: int) -> int:
    """How many of ``n`` trials multi-objective TPE counts as good (its default gamma)."""
    return math.ceil(0.1 * n)


def told_ap(ap: float) -> float:
    """The GPS AP a search tells the sampler: an undefined one (NaN, or -1: nothing
    detected) counts as 0 (see :meth:`nas.search.objective.Objective.values`)."""
    return 0.0 if not math.isfinite(ap) or ap < 0 else ap


def tpe_good_set(points: Sequence[tuple[float, float]], floor: float = 0.0) -> list[int]:
    """Indices (ascending) of the good trials among finished ones, ``points`` being their
    (GPS AP in percent, latency in ms) in trial order, under the "learned" ``floor`` (GPS
    AP points; 0: none), each AP as the search tells it (:func:`told_ap`)."""
    aps = [told_ap(ap) for ap, _ in points]
    told = [(ap, cost) for ap, (_, cost) in zip(aps, points)]
    wanted = tpe_good_count(len(told))
    infeasible = [i for i, ap in enumerate(aps) if floor > 0 and floor - ap > 0]
    feasible = [i for i in range(len(told)) if i not in set(infeasible)]
    good = _best_complete([told[i] for i in feasible], min(wanted, len(feasible)))
    chosen = [feasible[i] for i in good]
    chosen += sorted(infeasible, key=lambda i: floor - aps[i])[: wanted - len(chosen)]
    return sorted(chosen)


def _best_complete(points: list[tuple[float, float]], wanted: int) -> list[int]:
    """The ``wanted`` best of mutually comparable feasible ``points``: whole non-domination
    ranks, the last one cut by greedy hypervolume subset selection."""
    if wanted in (0, len(points)):
        return list(range(wanted))
    ranks = _non_domination_ranks(points)
    chosen: list[int] = []
    for rank in range(max(ranks) + 1):
        members = [i for i, r in enumerate(ranks) if r == rank]
        if len(chosen) + len(members) > wanted:
            chosen += _hypervolume_subset([points[i] for i in members], wanted - len(chosen), members)
            break
        chosen += members
    return chosen


def _non_domination_ranks(points: list[tuple[float, float]]) -> list[int]:
    """0 for the Pareto front, 1 for the front of the rest, ...; equal points share a rank."""
    ranks = [-1] * len(points)
    rank, left = 0, set(range(len(points)))
    while left:
        front = {i for i in left if not any(dominates(points[j], points[i]) for j in left)}
        for i in front:
            ranks[i] = rank
        left -= front
        rank += 1
    return ranks


def _hypervolume_subset(points: list[tuple[float, float]], size: int, indices: list[int]) -> list[int]:
    """``size`` of ``indices`` (one per point of a non-domination rank) chosen greedily by
    hypervolume contribution, as Optuna cuts a rank: distinct points in order of AP
    descending then latency ascending, ties going to the first; when fewer distinct points
    than ``size`` exist, every distinct one and then the first repeats."""
    losses = np.array([(-ap, cost) for ap, cost in points])
    unique, first_of = np.unique(losses, return_index=True, axis=0)  # sorted: AP down, then latency up
    if len(first_of) < size:
        repeats = [i for i in range(len(points)) if i not in set(first_of.tolist())]
        return [indices[i] for i in sorted([*first_of.tolist(), *repeats[: size - len(first_of)]])]
    worst = losses.max(axis=0)
    reference = np.maximum(1.1 * worst, 0.9 * worst)  # 10% beyond the worst, whatever its sign
    reference[reference == 0] = _EPS
    ref_ap, ref_cost = -reference[0], reference[1]
    candidates = [(-float(loss), float(cost)) for loss, cost in unique]
    selected: list[int] = []
    for _ in range(size):
        base = hypervolume([candidates[k] for k in selected], ref_ap, ref_cost)
        gains = [-1.0 if k in selected else hypervolume([*(candidates[s] for s in selected), candidates[k]], ref_ap, ref_cost) - base
                 for k in range(len(candidates))]
        selected.append(int(np.argmax(gains)))
    return [indices[int(first_of[k])] for k in selected]
