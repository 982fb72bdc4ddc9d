"""Summary statistics of repeated timings, robust to the odd preempted run."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["OpStats", "summarize", "is_stable", "FAR_OUT"]

FAR_OUT = 3.0  # Tukey's "far out" fence: samples above Q3 + 3 IQR are interrupts, not the op


@dataclass(frozen=True)
class OpStats:
    """Latency of one op, ms, batch 1.

    Attributes:
        median_ms: median of the kept samples (the value tables sum).
        p10_ms, p90_ms: 10th and 90th percentiles of the kept samples.
        std_ms: standard deviation of the kept samples.
        count: samples kept after dropping far-out slow ones.
    """

    median_ms: float
    p10_ms: float
    p90_ms: float
    std_ms: float
    count: int


def summarize(samples: list[float]) -> OpStats:
    """Statistics of ``samples`` (ms) after dropping far-out slow samples (only slow ones:
    a run cannot be faster than the op, but a context switch can make it slower)."""
    if not samples:
        raise ValueError("no samples to summarize")
    values = np.asarray(samples, dtype=float)
    q1, q3 = np.percentile(values, [25, 75])
    kept = values[values <= q3 + FAR_OUT * (q3 - q1)]
    p10, median, p90 = np.percentile(kept, [10, 50, 90])
    std = float(kept.std(ddof=1)) if kept.size > 1 else 0.0
    return OpStats(float(median), float(p10), float(p90), std, int(kept.size))


def is_stable(stats: OpStats, tolerance: float = 0.01) -> bool:
    """Whether the median is known to ``tolerance`` (relative): its standard error,
    ~1.253 std / sqrt(n) for near-normal samples, is below ``tolerance * median``."""
    if stats.count < 2 or stats.median_ms <= 0:
        return False
    return 1.253 * stats.std_ms / math.sqrt(stats.count) <= tolerance * stats.median_ms
