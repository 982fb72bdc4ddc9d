"""Pareto front and hypervolume against hand-computed small point sets."""

from __future__ import annotations

import math

import pytest

from nas.pareto.hypervolume import hypervolume
from nas.runs.front import dominates, front_indices


def test_front_by_hand():
    # (ap, latency ms)
    points = [(10.0, 5.0), (12.0, 8.0), (9.0, 6.0), (15.0, 20.0), (12.0, 9.0), (15.0, 20.0), (1.0, 1.0), (math.nan, 0.5)]
    # (9, 6) is dominated by (10, 5); (12, 9) by (12, 8); the duplicate (15, 20) stays; NaN ignored
    assert front_indices(points) == [6, 0, 1, 3, 5]
    assert dominates((10, 5), (9, 6)) and not dominates((10, 5), (10, 5)) and not dominates((10, 5), (12, 8))


def test_front_single_and_empty():
    assert front_indices([]) == []
    assert front_indices([(3.0, 3.0)]) == [0]


def test_hypervolume_by_hand():
    # reference (ap 0, 10 ms); staircase: (4, 2) covers 4*8 = 32; (6, 5) adds (6-4)*(10-5) = 10;
    # (5, 7) is dominated: adds nothing; (8, 12) lies beyond the reference: adds nothing
    assert hypervolume([(4, 2), (6, 5), (5, 7), (8, 12)], 0.0, 10.0) == pytest.approx(42.0)
    assert hypervolume([], 0.0, 10.0) == 0.0
    # order does not matter, and a dominated point never changes the volume
    assert hypervolume([(6, 5), (4, 2)], 0.0, 10.0) == hypervolume([(4, 2), (6, 5), (3, 3)], 0.0, 10.0)
    # a reference AP above 0 shifts every height
    assert hypervolume([(4, 2)], 1.0, 10.0) == pytest.approx(24.0)


def test_a_trial_under_the_learned_floor_is_never_on_the_front():
    from nas.runs.front import front_trials, learned_floor
    from nas.runs.rows import TrialRow

    def row(name: str, ap: float, ms: float, kind: str = "search") -> TrialRow:
        return TrialRow(name, 0, kind, "", "a", "id", "finished", progress=1.0, latency_ms=ms, gps_ap=ap)

    rows = [row("t0", 0.0, 1.0), row("t1", 0.9, 2.0), row("t2", 5.0, 3.0), row("t3", 4.0, 4.0), row("t4", 9.0, 9.0)]
    assert front_trials(rows) == {"t0", "t1", "t2", "t4"}  # without a floor the fastest non-learner leads the front
    assert front_trials(rows, floor=1.0) == {"t2", "t4"}  # 0.0 and 0.9 did not learn; t3 is dominated by t2
    assert learned_floor({"objective": {"min_gps_ap": 1.0}}) == 1.0
    assert learned_floor({"objective": {"kind": "pareto"}}) == 0.0  # a run recorded before the floor existed
