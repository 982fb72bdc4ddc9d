"""The trials multi-objective TPE counts as good (nas.analysis.tpe), on a hand example."""

from __future__ import annotations

import pytest

from nas.analysis.tpe import told_ap, tpe_good_count, tpe_good_set

# (GPS AP, latency ms) of 13 finished trials: a fast front end that learned little
# (0-2), one slow learner (3), slow learners off the front (4-6), dominated ones (7-11),
# an undefined AP (12: told as 0, dominated by 0)
POINTS = [(0.0, 5.0), (0.5, 8.0), (1.0, 10.0), (12.0, 150.0), (3.0, 200.0), (2.5, 300.0), (2.0, 250.0), (0.0, 50.0),
          (0.2, 60.0), (0.4, 70.0), (0.9, 100.0), (0.1, 400.0), (float("nan"), 20.0)]


def test_good_count_is_a_tenth_rounded_up() -> None:
    assert [tpe_good_count(n) for n in (1, 10, 11, 13, 30, 40)] == [1, 1, 2, 2, 3, 4]


def test_the_front_is_cut_by_hypervolume_contribution() -> None:
    # 2 good of 13; the front (0-3) has 4: against the reference (AP 0, 165 ms: 10% beyond the
    # front's worst) 3 adds 12 x 15 = 180 alone, most; then 2 adds 1 x 155 - 1 x 15 = 140,
    # against 71 for 1 and nothing for 0 (AP 0)
    assert tpe_good_set(POINTS) == [2, 3]


def test_the_learned_floor_puts_feasible_trials_first() -> None:
    # floor 2: feasible 3-6; 3 dominates them all (rank 0), then 4 dominates 5 and 6 (rank 1):
    # two whole ranks fill the good set, the fast front end is out of it
    assert tpe_good_set(POINTS, floor=2.0) == [3, 4]
    # floor 5: only 3 is feasible; the other place goes to the smallest violation, the highest AP
    assert tpe_good_set(POINTS, floor=5.0) == [3, 4]
    # nothing feasible: by AP alone
    assert tpe_good_set(POINTS, floor=50.0) == [3, 4]


def test_few_trials_are_all_good() -> None:
    assert tpe_good_set([(1.0, 10.0)]) == [0]
    assert tpe_good_set([]) == []


@pytest.mark.parametrize("duplicate", [(12.0, 150.0), (1.0, 10.0)])
def test_repeated_points_share_a_rank(duplicate: tuple[float, float]) -> None:
    # an exact repeat of a front point is on the front too, but adds no hypervolume: 14
    # trials, still 2 good, the first of the repeats
    assert tpe_good_set([*POINTS, duplicate]) == [2, 3]


def test_undefined_aps_are_told_as_zero() -> None:
    assert [told_ap(ap) for ap in (float("nan"), -1.0, 0.0, 7.5)] == [0.0, 0.0, 0.0, 7.5]
