"""One training under two thread counts (nas.analysis.repeatability): hand values and the committed report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nas.analysis.repeatability import repeat_summary

REPO = Path(__file__).resolve().parents[2]


def test_repeat_summary_against_hand_values() -> None:
    runs = {"a": {"1": {"proxy_val": 10.0, "all_val": 12.0, "slices": [1.0, 3.0]},
                  "2": {"proxy_val": 14.0, "all_val": 13.0, "slices": [2.0, 2.0]}},
            "b": {"1": {"proxy_val": 5.0, "all_val": 6.0, "slices": [0.0, 4.0]},
                  "2": {"proxy_val": 3.0, "all_val": 9.0, "slices": [5.0, 5.0]}},
            "c": {"1": {"proxy_val": 1.0, "all_val": 1.0, "slices": [1.0, 1.0]}}}  # one setting only: left out
    summary = repeat_summary(runs, "1", "2")
    # |changes| 4 and 2 (median 3) on the proxy's images, 1 and 3 (median 2) on all; slice stds 1, 0, 2, 0 (median 0.5)
    assert summary == {"median_abs_change": {"proxy_val": pytest.approx(3.0), "all_val": pytest.approx(2.0)},
                       "median_slice_std": pytest.approx(0.5), "over": 2}


@pytest.mark.parametrize("name", ["proxy_repeat_2000img", "proxy_repeat_2000img_ema0.98"])
def test_repeat_summary_reproduces_the_committed_reports(name: str) -> None:
    report = json.loads((REPO / "bench" / "reports" / f"{name}.json").read_text())
    first, second = (str(t) for t in report["threads"][:2])
    summary = repeat_summary(report["runs"], first, second)
    assert summary["median_abs_change"] == report["median_abs_change"]
    assert summary["median_slice_std"] == report["median_slice_std"]
