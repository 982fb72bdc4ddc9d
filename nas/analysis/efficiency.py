"""How fast a search's sampler finds good networks: the hypervolume of the (GPS AP up,
latency down) front after each finished trial, in the order the sampler proposed them.

Samplers are compared at equal trial counts against one common reference, so a curve is
only meaningful beside others drawn with the same ``ref_cost``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from nas.pareto.hypervolume import hypervolume

if TYPE_CHECKING:
    from nas.pareto.analysis import Point

__all__ = ["proposal_order", "hypervolume_curve"]


def proposal_order(points: Sequence[Point]) -> list[Point]:
    """Finished trials in the order the sampler proposed them (the number in the trial id
    ``tNNNN``), not the order they finished in."""
    return sorted(points, key=lambda p: int(p.trial[1:]))


def hypervolume_curve(ordered: Sequence[Point], ref_cost: float, ref_ap: float = 0.0) -> list[float]:
    """Hypervolume (GPS AP x ms) of the first 1, 2, ... points of ``ordered`` against the
    reference (``ref_ap``, ``ref_cost`` ms): one value per finished trial."""
    return [hypervolume([(p.gps_ap, p.cost) for p in ordered[:n]], ref_ap, ref_cost) for n in range(1, len(ordered) + 1)]
