"""Hypervolume of a front: the area its (accuracy up, cost down) points dominate.

Points are ``(ap, cost)`` pairs as in :mod:`nas.runs.front`: GPS AP in percent (higher
is better) and a cost, the latency in ms or the parameter count (lower is better).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["hypervolume"]


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
