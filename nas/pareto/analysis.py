"""The Pareto front of a search run: finished trials only, baselines alongside.

Only ``finished`` search trials compete: stopped (partial metrics), rejected (never
trained) and failed trials are counted but never placed. Baselines are shown against
the front, each marked as dominated by it or not, but do not change it, so that the
front and its hypervolume measure what the search found.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nas.errors import ResultsError
from nas.io import excerpt
from nas.pareto.hypervolume import hypervolume
from nas.runs.front import dominates, front_indices, learned_floor
from nas.runs.rows import FINISHED, TrialRow
from nas.runs.store import ResultsStore

__all__ = ["AXES", "Point", "ParetoReport", "analyse", "cost_of"]

# axis name -> (row attribute, label with units, scale applied to the attribute)
AXES: dict[str, tuple[str, str, float]] = {
    "latency": ("latency_ms", "latency (ms)", 1.0),
    "params": ("params", "parameters (M)", 1e-6),
}
# default hypervolume reference: AP 0 and this factor times the costliest point shown
REF_MARGIN = 1.1


@dataclass(frozen=True)
class Point:
    """One finished trial as plotted: AP (percent) against the axis' cost."""

    trial: str
    kind: str
    baseline: str
    arch: str
    arch_id: str
    gps_ap: float
    gpsm_ap: float
    latency_ms: float
    params: int
    macs: int
    cost: float
    dominated_by_front: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ParetoReport:
    """The front of a run and what surrounds it."""

    run: str
    axis: str
    cost_label: str
    front: list[Point]
    points: list[Point]
    baselines: list[Point]
    hypervolume: float
    reference: tuple[float, float]  # (AP, cost)
    excluded: dict[str, int] = field(default_factory=dict)  # status -> count of search trials not placed
    device: str = ""
    nodes: list[str] = field(default_factory=list)  # the nodes finished trials and baselines ran on
    # finished trials and baselines not placed for want of a GPS AP (missing, or undefined:
    # negative, as the evaluator writes it with no person to score) or of a cost on the axis
    no_score: list[str] = field(default_factory=list)
    no_cost: list[str] = field(default_factory=list)
    latency_dtype: str = "fp32"  # the numeric flavour the run's latencies were timed in (its table's dtype)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run, "axis": self.axis, "cost": self.cost_label, "hypervolume": self.hypervolume,
            "reference": {"gps_ap": self.reference[0], "cost": self.reference[1]}, "device": self.device,
            "latency_dtype": self.latency_dtype,
            "front": [p.to_dict() for p in self.front], "baselines": [p.to_dict() for p in self.baselines],
            "finished": len(self.points), "excluded": self.excluded, "nodes": self.nodes,
            "left_out": {"no_score": self.no_score, "no_cost": self.no_cost},
        }


def cost_of(row: TrialRow, axis: str) -> float:
    attr, _, scale = AXES[axis]
    value = float(getattr(row, attr))
    return value * scale if math.isfinite(value) and value >= 0 else math.nan


def _point(row: TrialRow, axis: str) -> Point:
    return Point(row.trial, row.kind, row.baseline, row.arch, row.arch_id, row.gps_ap, row.gpsm_ap, row.latency_ms,
                 row.params, row.macs, cost_of(row, axis))


def analyse(run: str | Path, axis: str = "latency", ref_cost: float | None = None) -> ParetoReport:
    """Front, hypervolume and baselines of the run folder ``run``.

    Args:
        run: the results folder.
        axis: ``latency`` (ms) or ``params`` (millions).
        ref_cost: hypervolume reference cost (default: ``--max-latency-ms`` of the run for
            latency, else 1.1 x the costliest finished trial or baseline). Compare
            hypervolumes of runs only at one reference.
    """
    if axis not in AXES:
        raise ResultsError(f"unknown axis {excerpt(axis)} (--axis); known: {', '.join(AXES)}")
    if ref_cost is not None and not 0 < ref_cost < math.inf:
        raise ResultsError(f"--ref must be a positive, finite cost (ms, or M params with --axis params), got {ref_cost}")
    store = ResultsStore(run)
    config = store.load_config()
    rows = list(store.rows().values())
    if not rows:
        raise ResultsError(f"{store.root} has no trials yet (no trials.parquet or trials.csv, or they are empty)")
    search = [r for r in rows if r.kind == "search"]
    points = [_point(r, axis) for r in search if r.status == FINISHED]
    # an undefined AP (negative) is no score, and one under the learned floor did not learn: never on the front
    floor = learned_floor(config)
    indices = front_indices([(p.gps_ap if p.gps_ap >= 0 and not p.gps_ap < floor else math.nan, p.cost) for p in points])
    front = [points[i] for i in indices]
    baselines = []
    for row in rows:
        if row.kind == "baseline" and row.status == FINISHED:
            p = _point(row, axis)
            beaten = any(dominates((f.gps_ap, f.cost), (p.gps_ap, p.cost)) for f in front)
            baselines.append(Point(**{**p.to_dict(), "dominated_by_front": beaten}))
    if ref_cost is None:
        limit = config.get("max_latency_ms") if axis == "latency" else None
        costs = [p.cost for p in points + baselines if math.isfinite(p.cost)]
        ref_cost = float(limit) if limit else (REF_MARGIN * max(costs) if costs else 1.0)
    excluded: dict[str, int] = {}
    for r in search:
        if r.status != FINISHED:
            excluded[r.status] = excluded.get(r.status, 0) + 1
    device = ""
    # the table's dtype; rows name it too (a table moved or deleted since leaves only them)
    dtype = next((r.latency_dtype for r in rows if r.latency_dtype), "fp32")
    try:
        import json

        meta = json.loads((Path(config["table"]) / "meta.json").read_text())
        dtype = meta.get("dtype", "fp32")
        device = f"{meta.get('device', '?')} ({meta.get('runtime', '?')}, {meta.get('threads', '?')} thread(s), {dtype})"
    except (OSError, ValueError, KeyError):
        device = str(config.get("table", ""))
    label = AXES[axis][1] if axis != "latency" or dtype == "fp32" else f"{dtype} {AXES[axis][1]}"
    nodes = sorted({r.node for r in rows if r.status == FINISHED and r.node})
    placed = points + baselines
    no_score = [p.trial for p in placed if not (math.isfinite(p.gps_ap) and p.gps_ap >= 0)]
    no_cost = [p.trial for p in placed if p.trial not in no_score and not math.isfinite(p.cost)]
    return ParetoReport(str(store.root), axis, label, front, points, baselines,
                        hypervolume([(p.gps_ap, p.cost) for p in points], 0.0, ref_cost), (0.0, ref_cost), excluded, device, nodes, no_score, no_cost, dtype)
