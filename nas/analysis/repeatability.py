"""How far one proxy training lands from itself: the same architecture, seed and data
trained under two settings that should not matter (e.g. thread counts: float sums in
another order, as on another machine), each final model scored on the proxy's validation
images, on all of them, and on disjoint slices of the proxy's size.

A repeat report (``bench/bench_proxy.py repeat``) holds, per architecture string, one
record per setting: ``proxy_val`` and ``all_val`` (GPS AP, percent) and ``slices`` (GPS
AP on each slice).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["repeat_summary"]


def repeat_summary(runs: Mapping[str, Mapping[str, Any]], first: str, second: str) -> dict[str, Any]:
    """Over the architectures of ``runs`` trained under both settings ``first`` and
    ``second``: the median |change| of the GPS AP on the proxy's validation images and on
    all of them (points), and the median spread (std) of one model's score over the
    slices: if scoring more images does not bring the two settings together, the change
    is the training's own, not the evaluation's."""
    pairs = [r for r in runs.values() if first in r and second in r]
    return {"median_abs_change": {where: statistics.median(abs(r[first][where] - r[second][where]) for r in pairs)
                                  for where in ("proxy_val", "all_val")},
            "median_slice_std": statistics.median(float(np.std(r[t]["slices"])) for r in pairs for t in (first, second)),
            "over": len(pairs)}
