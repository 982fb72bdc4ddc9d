"""Pareto front and hypervolume of (accuracy up, cost down) points.

Points are ``(ap, cost)`` pairs: GPS AP in percent (higher is better) and a cost, the
latency in ms or the parameter count (lower is better). A point is on the front when no
other point is at least as good in both and strictly better in one; duplicates of a
front point are all kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["front_indices", "hypervolume", "dominates"]


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


def hypervolume(points: Sequence[tuple[float, float]], ref_ap: float, ref_cost: float) -> float:
    """Area dominated by ``points`` and bounded by the reference point (``ref_ap``, ``ref_cost``).

    The reference is the worst corner: AP ``ref_ap`` (e.g. 0) and cost ``ref_cost`` (e.g.
    the largest latency allowed). Points not better than it in both coordinates add nothing.
    Units: AP points x cost units (e.g. AP x ms).
    """
    inside = [(ap, cost) for ap, cost in points if math.isfinite(ap) and math.isfinite(cost) and ap > ref_ap and cost < ref_cost]
    area = 0.0
    best_ap = ref_ap
    # sweep from cheap to expensive: each front point adds the strip from its cost to
    # the reference cost, above the best AP reached by cheaper points
    for ap, cost in sorted(inside, key=lambda p: (p[1], -p[0])):
        if ap > best_ap:
            area += (ap - best_ap) * (ref_cost - cost)
            best_ap = ap
    return area
