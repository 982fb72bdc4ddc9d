"""The hypervolume curve of a search (nas.analysis.efficiency) against hand values."""

from __future__ import annotations

import pytest

from nas.analysis.efficiency import hypervolume_curve, proposal_order
from nas.pareto.analysis import Point


def _point(trial: str, gps_ap: float, ms: float) -> Point:
    return Point(trial=trial, kind="search", baseline="", arch="a", arch_id="a", gps_ap=gps_ap, gpsm_ap=0.0, latency_ms=ms,
                 params=0, macs=0, cost=ms)


def test_trials_are_taken_in_the_order_they_were_proposed() -> None:
    finished = [_point("t0010", 1.0, 10.0), _point("t0002", 2.0, 20.0), _point("t0009", 3.0, 30.0)]
    assert [p.trial for p in proposal_order(finished)] == ["t0002", "t0009", "t0010"]


def test_hypervolume_after_each_trial() -> None:
    ordered = [_point("t0000", 2.0, 50.0), _point("t0001", 1.0, 80.0), _point("t0002", 4.0, 60.0), _point("t0003", 1.0, 20.0)]
    # reference (0 AP, 100 ms): 2 x 50 = 100; the dominated second adds nothing; the third adds
    # (4 - 2) x 40 = 80; the fourth, fastest, adds 1 x 30 below the first
    assert hypervolume_curve(ordered, ref_cost=100.0) == pytest.approx([100.0, 100.0, 180.0, 210.0])
    # against AP 1: the first adds 1 x 50, the third (4 - 2) x 40, the fourth (AP 1) nothing
    assert hypervolume_curve(ordered, ref_cost=100.0, ref_ap=1.0) == pytest.approx([50.0, 50.0, 130.0, 130.0])
    assert hypervolume_curve([], ref_cost=100.0) == []
