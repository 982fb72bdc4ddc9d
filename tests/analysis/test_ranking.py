"""Rank agreement statistics (nas.analysis.ranking) against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nas.analysis.ranking import agreement, bootstrap_kendall_tau, defined, kendall_tau, pairs_ordered_alike, two_draws


def test_two_draws_against_hand_values() -> None:
    first, second, short = [60.0, 62.0, 64.0, 66.0], [61.0, 60.0, 65.0, 68.0], [1.0, 2.0, 4.0, 3.0]
    figures = two_draws(first, second, short, first_name="seed0")
    # |differences| 1, 2, 1, 2; one of the six pairs swapped between the draws (tau 4/6), one
    # by the proxy against the first draw and against the mean 60.5, 61, 64.5, 67
    assert figures["over"] == 4
    assert figures["median_abs_difference"] == pytest.approx(1.5)
    assert figures["max_abs_difference"] == pytest.approx(2.0)
    assert figures["kendall_tau_between_draws"] == pytest.approx(2 / 3)
    assert figures["proxy_kendall_tau_vs_seed0"] == pytest.approx(2 / 3)
    assert figures["proxy_kendall_tau_vs_draw_mean"] == pytest.approx(2 / 3)


def test_kendall_tau_and_undefined_figures() -> None:
    assert kendall_tau([1, 2, 3], [10, 30, 20]) == pytest.approx(1 / 3)  # 2 of 3 pairs alike
    assert kendall_tau([3, 2, 1], [1, 2, 3]) == pytest.approx(-1.0)
    assert math.isnan(kendall_tau([0, 0, 0], [1, 2, 3]))  # a scoring that ties every architecture
    assert defined(float("nan")) is None and defined(0.25) == 0.25


def test_pairs_ordered_alike_counts_only_pairs_the_truth_orders() -> None:
    short, truth = np.array([1.0, 5.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0, 20.0])
    single, multi = np.array([True, True, False, False]), np.array([False, False, True, True])
    # pairs (0,2) (0,3) (1,2) (1,3); (1,3) tied in the truth: left out; of the other three the
    # short scores order (0,2) and (0,3) alike, (1,2) the other way
    assert pairs_ordered_alike(short, truth, single, multi) == pytest.approx(2 / 3)
    assert math.isnan(pairs_ordered_alike(short, truth, single, np.zeros(4, dtype=bool)))


def test_bootstrap_interval_is_seeded_and_brackets_a_perfect_ranking() -> None:
    short, truth = np.arange(8.0), np.arange(8.0) * 2
    assert bootstrap_kendall_tau(short, truth, 50) == (1.0, 1.0)  # any resample keeps the order
    noisy = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 7.0, 6.0, 8.0])
    low, high = bootstrap_kendall_tau(noisy, truth, 200)
    assert (low, high) == bootstrap_kendall_tau(noisy, truth, 200)  # the same interval on a re-analysis
    assert low <= kendall_tau(noisy, truth) <= high <= 1.0


def test_agreement_between_two_scorings() -> None:
    figures = agreement([1.0, 2.0, 3.0, 4.0], [2.0, 1.0, 3.5, 4.0])
    # (1, 2) swapped: tau 4/6; ranks 1 2 3 4 against 2 1 3 4: Spearman 1 - 6 * 2 / 60; |diff| 1, 1, 0.5, 0
    assert figures == {"kendall_tau": pytest.approx(2 / 3), "spearman": pytest.approx(0.8), "over": 4,
                       "median_abs_difference": pytest.approx(0.75)}
