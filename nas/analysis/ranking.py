"""Rank agreement between two scorings of the same architectures.

A proxy is judged by how well its scores order architectures as a longer training does:
Kendall tau over every pair (1: the same order, 0: no relation, -1: reversed). Scores are
GPS AP in percent unless said otherwise; lists run over the same architectures in the same
order.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["kendall_tau", "defined", "agreement", "two_draws", "bootstrap_kendall_tau", "pairs_ordered_alike"]


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall tau (tau-b: ties counted as scipy does) between two scorings; NaN when
    undefined (a scoring that gives every architecture the same score)."""
    return stats.kendalltau(a, b).statistic


def defined(value: float) -> float | None:
    """``value``, or None for NaN: JSON has no NaN, an undefined figure is written null."""
    return None if math.isnan(value) else value


def agreement(first: Sequence[float], second: Sequence[float]) -> dict[str, Any]:
    """How two scorings of the same architectures (e.g. the proxy at two seeds) agree: Kendall
    tau, Spearman, over how many, and the median |difference| (GPS AP points)."""
    return {"kendall_tau": kendall_tau(first, second), "spearman": stats.spearmanr(first, second).statistic, "over": len(first),
            "median_abs_difference": statistics.median(abs(x - y) for x, y in zip(first, second))}


def two_draws(first: Sequence[float], second: Sequence[float], short: Sequence[float], first_name: str) -> dict[str, Any]:
    """How far two draws of the same long trainings lie apart (GPS AP points), how well one
    ranks the other (the ceiling for any proxy judged against one draw), and how the proxy
    (``short``) ranks the first draw and the mean of both (a reference with half the draw
    noise). ``first_name`` names the first draw in the proxy's key
    (``proxy_kendall_tau_vs_<first_name>``)."""
    diffs = [abs(x - y) for x, y in zip(first, second)]
    mean = [(x + y) / 2 for x, y in zip(first, second)]
    return {"over": len(first), "median_abs_difference": statistics.median(diffs), "max_abs_difference": max(diffs),
            "kendall_tau_between_draws": kendall_tau(first, second),
            f"proxy_kendall_tau_vs_{first_name}": kendall_tau(short, first),
            "proxy_kendall_tau_vs_draw_mean": kendall_tau(short, mean)}


def bootstrap_kendall_tau(short: np.ndarray, truth: np.ndarray, resamples: int, seed: int = 0) -> tuple[float, float]:
    """95% interval (2.5th and 97.5th percentile) of the Kendall tau between ``short`` and
    ``truth`` over ``resamples`` resamplings of the architectures with replacement (seeded:
    a report re-analysed gives the same interval); undefined resamples are left out."""
    rng = np.random.default_rng(seed)
    draws = [kendall_tau(short[i], truth[i]) for i in (rng.integers(0, len(short), len(short)) for _ in range(resamples))]
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return float(low), float(high)


def pairs_ordered_alike(short: np.ndarray, truth: np.ndarray, first: np.ndarray, second: np.ndarray) -> float:
    """Of the pairs (one architecture of the boolean mask ``first``, one of ``second``)
    that ``truth`` orders one way (not tied), the share ``short`` orders alike; NaN when
    there is no such pair."""
    pairs = [(i, j) for i in np.flatnonzero(first) for j in np.flatnonzero(second) if truth[i] != truth[j]]
    return sum((short[i] < short[j]) == (truth[i] < truth[j]) for i, j in pairs) / len(pairs) if pairs else float("nan")
