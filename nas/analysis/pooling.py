"""Several fidelity reports ranked together: the architectures of other samples, trained
on the same data under the same proxy and long settings, pooled into one ranking.

Each report's architectures are ranked against its own :func:`long_reference`. The pooled
figures add a bootstrap interval over architectures and a split by neck: single-level
(``none``) against multi-level necks (FPN, PANet, BiFPN), which is what the long runs
separate most.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from nas.analysis.fidelity import as_now, long_reference
from nas.analysis.ranking import bootstrap_kendall_tau, defined, kendall_tau, pairs_ordered_alike
from nas.errors import NasError
from nas.space.spec import ArchSpec

__all__ = ["ReportError", "read_fidelity_reports", "check_poolable", "pool_fidelity", "pooled_report_name"]

# the settings every pooled report must share (compared as recorded now: see as_now)
_SHARED = ("data", "proxy_config", "long_config")


class ReportError(NasError, ValueError):
    """A benchmark report that is missing, of another kind, or not comparable; ``report``
    names the report at fault (None: the set of reports)."""

    def __init__(self, message: str, report: str | None = None) -> None:
        super().__init__(message)
        self.report = report


def read_fidelity_reports(folder: Path, names: Sequence[str]) -> list[dict[str, Any]]:
    """The fidelity reports ``folder/NAME.json`` of ``names``, checked by
    :func:`check_poolable`; a missing one is a :class:`ReportError` naming its path."""
    reports = {}
    for name in names:
        path = folder / f"{name}.json"
        if not path.is_file():
            raise ReportError(f"{name}: no {path}; run the fidelity benchmark for it or name another report", name)
        reports[name] = json.loads(path.read_text())
    check_poolable(reports)
    return list(reports.values())


def check_poolable(reports: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuse (:class:`ReportError`) a report that is not a fidelity report (no ``archs``,
    ``proxy`` and ``long`` scores), or reports that differ in data, proxy or long settings."""
    for name, report in reports.items():
        if not all(key in report for key in ("archs", "proxy", "long")):
            raise ReportError(f"{name}: not a fidelity report (no archs, proxy and long scores); name proxy_fidelity* reports",
                              name)
    first = next(iter(reports.values()), {})
    for key in _SHARED:
        if any(as_now(r.get(key)) != as_now(first.get(key)) for r in reports.values()):
            raise ReportError(f"the reports differ in {key}: pool only reports of the same data and settings")


def pool_fidelity(reports: Sequence[Mapping[str, Any]], resamples: int) -> dict[str, Any]:
    """Proxy GPS AP against the long one over the architectures of ``reports`` at once:
    Kendall tau, Spearman, the tau's 95% bootstrap interval over ``resamples`` resamplings
    of the architectures, and the split by neck (counts, the tau among multi-level necks,
    the share of single/multi-level pairs ordered as the long runs order them, the long
    GPS AP range of each family; null where undefined). At least four architectures with
    both scores, else a :class:`ReportError`."""
    proxy, long = {}, {}
    references = set()
    for report in reports:
        _, reference, meaning = long_reference(report)
        references.add(meaning)
        for arch in (a for a in report["archs"] if a in report["proxy"] and a in reference):
            proxy[arch], long[arch] = report["proxy"][arch], reference[arch]
    archs = sorted(proxy)
    if len(archs) < 4:
        raise ReportError(f"only {len(archs)} architectures have both a proxy and a long score: nothing to rank")
    short, truth = np.array([proxy[a] for a in archs]), np.array([long[a] for a in archs])
    tau = float(kendall_tau(short, truth))
    low, high = bootstrap_kendall_tau(short, truth, resamples)
    single = np.array([ArchSpec.from_string(a).neck.variant == "none" for a in archs])
    multi = ~single
    multi_tau = float(kendall_tau(short[multi], truth[multi])) if multi.sum() >= 2 else float("nan")
    agree = pairs_ordered_alike(short, truth, single, multi)

    def long_range(group: np.ndarray) -> list[float] | None:
        return [float(truth[group].min()), float(truth[group].max())] if group.any() else None

    return {"reference": sorted(references), "over": len(archs),
            "kendall_tau": tau, "spearman": float(stats.spearmanr(short, truth).statistic),
            "kendall_tau_95": [low, high], "resamples": resamples,
            "single_level_necks": int(single.sum()), "multi_level_kendall_tau": defined(multi_tau),
            "multi_level_over": int(multi.sum()), "neck_pairs_ordered_alike": defined(agree),
            "long_single_level": long_range(single), "long_multi_level": long_range(multi)}


def pooled_report_name(names: Sequence[str], default: Sequence[str]) -> str:
    """``proxy_fidelity_pooled`` for the ``default`` set of reports; another set gets its
    own name, from the reports' names (``proxy_fidelity_a`` + ``proxy_fidelity_b`` ->
    ``proxy_fidelity_pooled_a+b``; the unsuffixed ``proxy_fidelity``: ``default``), so
    that it never overwrites the default's."""
    name = "proxy_fidelity_pooled"
    if tuple(names) != tuple(default):
        name += "_" + "+".join(r.removeprefix("proxy_fidelity").strip("_") or "default" for r in names)
    return name
