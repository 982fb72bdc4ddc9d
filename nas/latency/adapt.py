"""Adapted rows: a new device's table predicted from another device's complete table and
a few minutes of measurement on the new one (``nas profile --adapt-from``).

A table does not transfer between machines as it is (the EPYC table put 0 of 50
networks within ±10% on a first-generation EPYC), but it ranks ops almost as the new
machine does: what differs is a per-kind speed ratio that drifts with op size (large
convolutions gain more from wider vector units than small, memory-bound ops do). So
the new device builds and measures a small designed set of ops (:func:`adapt_design`:
every op kind, spread over each kind's sizes, interleaved with the ops that weigh most
in the space's networks (:func:`nas.latency.usage.op_usage`: one of the few DensePose
head ops weighs more in a network than hundreds of inverted residuals), in an order
whose every prefix is balanced too, so that a time budget can stop it anywhere), and one
model fitted on them maps each source row to the new device (:func:`fit_transform`)::

    log(new ms) = a + b log(source ms)            pooled over all kinds
                + a_kind + b_kind log(source ms)  the kind's own line (its slope only
                                                  from MIN_SLOPE_OPS measured ops on)
                + sum of the key's term effects   stride, kernel, expansion, activation,
                                                  resolution... (:func:`key_terms`), ridge

On the shipped tables (2026-12-05: the zen1 table's rows predicted from the Xeon's or
the EPYC's and a 30-150 op prefix of the design taken from the zen1's own rows, sums
scored against zen1's 50 measured networks) the key terms lowered the MAPE of the kind
lines alone from 11-15% to 6-9%. A few whole networks measured once in the budget
(:func:`calibration_archs`) calibrate the table's sums to whole networks, as a
validation's correction does (:func:`calibrate`). Adapted rows live in ``fitted.csv`` as
``--fill``'s fitted rows do (``fill.method`` in meta.json is ``adapt``, and predictions
say ``fitted_by: adapt``); a measured row always wins, and ``nas profile`` without
``--adapt-from`` on the table measures them.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from nas.errors import TableError
from nas.latency.heads import dense_program
from nas.latency.keys import DEFAULT_ROIS
from nas.latency.opkinds import key_kind
from nas.latency.profile import new_meta, open_table, profile_keys, space_and_baseline_keys, table_lock
from nas.latency.runtimes.base import LatencyRuntime
from nas.latency.speed import DEFAULT_REFERENCES, choose_references
from nas.latency.table import LatencyTable
from nas.latency.transports.base import MeasureSettings, Transport
from nas.latency.usage import USAGE_SEED, by_weight, op_usage
from nas.latency.validate import fit_correction, kind_sums, measure_networks, sample_archs
from nas.space.references import DENSEPOSE_BASELINES
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec

__all__ = ["ADAPT_METHOD", "ADAPT_NETWORKS", "calibrate", "MIN_SLOPE_OPS", "TERM_RIDGE", "adapt_design", "calibration_archs", "key_terms", "fit_transform", "AdaptFit", "check_budget", "check_source",
           "AdaptReport", "adapt_space"]

ADAPT_METHOD = "adapt"  # meta.json fill.method of an adapted table
MIN_SLOPE_OPS = 4  # measured ops a kind needs for a slope of its own (fewer: the pooled slope)
_FIRST_ROUND = 2  # ops of every kind measured before any kind gets a third
_FIRST_CHUNK = 4  # ops of a run's first chunk: it times what an op costs here before larger chunks are sized to the budget
TERM_RIDGE = 1.0  # shrinkage of a key term (log units): on 2026-12-05's shipped tables 0.3 and 1 did alike
_FREE_RIDGE = 1e-6  # a kind's own line: tiny, only so that the pooled line carries what kinds share
ADAPT_NETWORKS = 6  # whole networks measured to calibrate sums to networks (2026-12-05: 4, 6 and 8 calibrated alike; 6 cost ~1 min)
_BY_USE_EVERY = 3  # after the first round, every 3rd op comes from the spread order, the others by use


def _spread(n: int) -> list[int]:
    """0..n-1 in an order whose every prefix is spread over the range: both ends first,
    then the midpoints of the widest gaps (a kind's ops sorted by size)."""
    if n <= 2:
        return list(range(n))
    order, seen = [0, n - 1], {0, n - 1}
    gaps = [(0, n - 1)]
    while gaps:
        gaps.sort(key=lambda g: g[0] - g[1])  # widest first
        lo, hi = gaps.pop(0)
        if hi - lo < 2:
            continue
        mid = (lo + hi) // 2
        if mid not in seen:
            order.append(mid)
            seen.add(mid)
        gaps += [(lo, mid), (mid, hi)]
    return order


def calibration_archs(space: SearchSpace, networks: int = ADAPT_NETWORKS) -> list[ArchSpec]:
    """The networks an adaptation measures whole: the first ``networks`` of
    :func:`nas.latency.usage.op_usage`'s draws (not validation's, so that a validation scores others)."""
    return sample_archs(space, networks, USAGE_SEED)[:networks] if networks > 0 else []


def adapt_design(source: Mapping[str, float], usage: Mapping[str, float] | None = None) -> list[str]:
    """Every key of ``source`` (key -> ms on the source device) in the order the new device
    measures them.

    The spread order: each kind's first :data:`_FIRST_ROUND` ops (its smallest and
    largest) before any kind's third, then kinds in turn so that a kind of ``n`` ops holds
    about a ``sqrt(n)`` share of the measured ones (a network holds one stem but many
    blocks, and a kind's spread of sizes grows slower than its count); within a kind, ops
    spread over its sizes (:func:`_spread` of the ops sorted by source ms).

    With ``usage`` (:func:`nas.latency.usage.op_usage`), after the first round two of every
    :data:`_BY_USE_EVERY` ops are those of the largest expected share of a network's time
    (uses per network x source ms), the third the spread order's next: a network's sum is
    off by its heaviest ops' errors, and the model still sees every kind's sizes
    (docs/latency.md, "Adapting a table to a new device", compares both orders)."""
    spread = _spread_design(source)
    if usage is None:
        return spread
    first = _FIRST_ROUND * len({key_kind(k) for k in source})
    by_use = iter(by_weight(list(source), usage, source))
    rest = iter(spread[first:])
    order, seen = spread[:first], set(spread[:first])
    while len(order) < len(source):
        pick = by_use if (len(order) - first) % _BY_USE_EVERY else rest
        key = next(k for k in pick if k not in seen)
        order.append(key)
        seen.add(key)
    return order


def _spread_design(source: Mapping[str, float]) -> list[str]:
    """:func:`adapt_design`'s spread order."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for key in sorted(source, key=lambda k: (source[k], k)):
        by_kind[key_kind(key)].append(key)
    queues = {kind: [ops[i] for i in _spread(len(ops))] for kind, ops in by_kind.items()}
    order: list[str] = []
    taken = dict.fromkeys(queues, 0)
    for _ in range(_FIRST_ROUND):
        for kind in sorted(queues):
            if taken[kind] < len(queues[kind]):
                order.append(queues[kind][taken[kind]])
                taken[kind] += 1
    weight = {kind: math.sqrt(len(ops)) for kind, ops in queues.items()}
    while len(order) < len(source):
        kind = max((k for k in queues if taken[k] < len(queues[k])), key=lambda k: (weight[k] / (taken[k] + 1), k))
        order.append(queues[kind][taken[kind]])
        taken[kind] += 1
    return order


@dataclass(frozen=True)
class AdaptFit:
    """Adapted rows and each kind's transform.

    Attributes:
        rows: key -> predicted median ms on the new device, for every key of the source
            not measured on it.
        kinds: per kind: measured ops, adapted ops, its line (``a``, ``b``: new ms =
            exp(a) * source ms ** b before the key's own terms), whether the slope is its
            own (``own``: at least :data:`MIN_SLOPE_OPS` measured ops) or shrunk to the
            pooled one (``pooled``), and the median relative error of its measured ops
            under the fitted model (in-sample).
    """

    rows: dict[str, float]
    kinds: dict[str, dict[str, Any]]

    def summary(self, source: str, measured: int) -> dict[str, Any]:
        """What meta.json keeps under ``fill``."""
        return {"method": ADAPT_METHOD, "source": source, "measured": measured, "rows": len(self.rows), "kinds": self.kinds,
                "model": "log(new ms) = a + b log(source ms) per kind + per key-parameter terms, ridge on the measured ops (nas.latency.adapt)"}


_SHAPE = re.compile(r"^(in|out):(\d+)x(\d+)x\d+$")


def key_terms(key: str) -> list[str]:
    """The parameters of an op key a device's speed ratio may depend on, beyond its size:
    each field of the key after its kind (stride, expansion, kernel, activation, a neck
    unit's layers...), input and output resolutions without channels, and channel counts
    of unit layers dropped (``c128k1s1p0g1`` -> ``ck1s1p0g1``, groups as ``g1`` or
    ``gN``), each scoped by the kind."""
    kind = key_kind(key)
    terms: list[str] = []
    for part in key.split("-")[1:]:
        if (shape := _SHAPE.match(part)) is not None:
            terms.append(f"{kind}:{shape.group(1)}{shape.group(2)}x{shape.group(3)}")
            continue
        for piece in part.split("."):
            piece = re.sub(r"^c\d+", "c", piece)
            piece = re.sub(r"g(\d+)", lambda g: "g1" if g.group(1) == "1" else "gN", piece)
            terms.append(f"{kind}:{piece}")
    return terms


def fit_transform(source: Mapping[str, float], measured: Mapping[str, float], ridge: float = TERM_RIDGE) -> AdaptFit:
    """Fit the model of the module doc on the ``measured`` keys (key -> ms on the new
    device, all in ``source``) and predict every other key of ``source``.

    One least-squares problem over every measured op: a pooled line ``a + b log(source
    ms)`` (the centre of the kinds' lines: their deviations from it are kept small),
    each kind's offset and slope from it (free, but a kind with fewer than
    :data:`MIN_SLOPE_OPS` measured ops has its slope shrunk to the pooled one) and each
    :func:`key_terms` term, shrunk towards 0 by ``ridge`` (a term seen on few ops moves
    little). A kind no op of which is measured takes the pooled line."""
    keys = [k for k in measured if k in source]
    if not keys:
        raise TableError("no op is measured on the new device yet: adaptation needs at least one; give a larger --budget-minutes")
    counts: dict[str, int] = defaultdict(int)
    for key in keys:
        counts[key_kind(key)] += 1

    def columns(key: str) -> dict[str, float]:
        kind, x = key_kind(key), math.log(source[key])
        return {"1": 1.0, "x": x, f"{kind}|1": 1.0, f"{kind}|x": x, **dict.fromkeys(key_terms(key), 1.0)}

    rows_of = [columns(k) for k in keys]
    names: dict[str, int] = {}
    for cols in rows_of:
        for name in cols:
            names.setdefault(name, len(names))
    x = np.zeros((len(keys), len(names)))
    for i, cols in enumerate(rows_of):
        for name, value in cols.items():
            x[i, names[name]] = value
    y = np.array([math.log(measured[k]) for k in keys])
    penalty = np.zeros(len(names))
    for name, j in names.items():
        kind, _, what = name.partition("|")
        if name in ("1", "x"):
            continue
        if what == "1" or (what == "x" and counts[kind] >= MIN_SLOPE_OPS):
            penalty[j] = _FREE_RIDGE  # the kind's own line: practically free
        else:
            penalty[j] = ridge
    coef, *_ = np.linalg.lstsq(np.vstack([x, np.diag(np.sqrt(penalty))]), np.concatenate([y, np.zeros(len(names))]), rcond=None)

    def log_ms(cols: dict[str, float]) -> float:
        return float(sum(coef[names[n]] * v for n, v in cols.items() if n in names))

    rows = {k: math.exp(log_ms(columns(k))) for k in source if k not in measured}
    fitted = x @ coef
    kinds: dict[str, dict[str, Any]] = {}
    for kind in sorted({key_kind(k) for k in source}):
        mine = [i for i, k in enumerate(keys) if key_kind(k) == kind]
        errors = [abs(math.exp(fitted[i] - y[i]) - 1.0) for i in mine]
        a = coef[names["1"]] + (coef[names[f"{kind}|1"]] if f"{kind}|1" in names else 0.0)
        b = coef[names["x"]] + (coef[names[f"{kind}|x"]] if f"{kind}|x" in names else 0.0)
        kinds[kind] = {"measured": len(mine), "adapted": sum(key_kind(k) == kind for k in rows), "a": round(float(a), 6), "b": round(float(b), 6),
                       "slope": "own" if counts[kind] >= MIN_SLOPE_OPS else "pooled",
                       "median_error": round(float(np.median(errors)), 4) if errors else None}
    return AdaptFit(rows, kinds)


def check_budget(minutes: float) -> None:
    """Refuse a budget that measures nothing."""
    if not math.isfinite(minutes) or minutes <= 0:
        raise TableError(f"--budget-minutes must be a positive number of minutes (building and measuring ops on this device), got {minutes}; "
                         "5 is a good start")


def check_source(source: LatencyTable, space: SearchSpace, keys: list[str], dtype: str, out: Path) -> None:
    """Refuse a source table adaptation cannot start from: ``out`` itself, one of another
    dtype, one that lacks measured rows of ``keys`` (the space's), for which it names
    another space when it was profiled for one."""
    if source.path.resolve() == Path(out).resolve():
        raise TableError(f"--adapt-from and --out are the same table ({out}): adapt another device's complete table into a new --out")
    have = source.meta.get("dtype", "fp32")
    if have != dtype:
        raise TableError(f"source table {source.path} holds {have} latencies and this profile measures {dtype}: "
                         f"adapt from a table of --dtype {dtype}, or pass --dtype {have}")
    missing = [k for k in keys if k not in source]
    if not missing:
        return
    spaces = [source.meta.get("space", {}), *source.meta.get("other_spaces", [])]
    if not any(s.get("hash") == space.hash for s in spaces):
        names = ", ".join(f"{s.get('name')} ({s.get('hash')})" for s in spaces if s) or "no space"
        raise TableError(f"source table {source.path} was profiled for {names}, not for {space.name} ({space.hash}): it lacks {len(missing)} "
                         f"of this space's {len(keys)} ops; adapt from a complete table of this space")
    predicted = sum(k in source.fitted for k in missing)
    raise TableError(f"source table {source.path} is not complete: {len(missing)} of the space's {len(keys)} ops are not measured in it "
                     f"({predicted} of them fitted or adapted, not measured); complete it on its own device with "
                     f"`nas profile --space {source.meta.get('space', {}).get('path', 'SPACE.yaml')} --out {source.path}`, or adapt from a complete table")


@dataclass(frozen=True)
class AdaptReport:
    """What an adaptation run did.

    Attributes:
        total: keys the space needs.
        measured: keys measured on this device (by this run and earlier ones into ``out``).
        measured_now: keys this run measured.
        adapted: keys predicted from the source table (fitted.csv).
        build_s, measure_s: seconds this run spent building programs and measuring.
        spent_s: seconds of the budget spent by every run into ``out``.
        kinds: per kind, its transform (:class:`AdaptFit`).
    """

    total: int
    measured: int
    measured_now: int
    adapted: int
    build_s: float
    measure_s: float
    spent_s: float
    kinds: dict[str, dict[str, Any]] = field(default_factory=dict)


def adapt_space(
    space_path: str | Path,
    source_path: str | Path,
    out: str | Path,
    runtime: LatencyRuntime,
    transport: Transport,
    settings: MeasureSettings,
    budget_minutes: float,
    *,
    baselines: Sequence[str] = DENSEPOSE_BASELINES,
    rois: int = DEFAULT_ROIS,
    workers: int = 1,
    chunk: int = 16,
    extra_rounds: int | None = None,
    speed_refs: int = DEFAULT_REFERENCES,
    limit: int | None = None,
    networks: int | None = ADAPT_NETWORKS,
) -> AdaptReport:
    """Adapt the complete table at ``source_path`` to this device into ``out``: build and
    measure the ops of :func:`adapt_design` in order, ``chunk`` at a time (the table saved
    after each), until ``budget_minutes`` of building and measuring are spent (over all
    runs into ``out``: a killed run resumes with what is left) or ``limit`` ops are
    measured, then predict the others (:func:`fit_transform`) into fitted.csv.

    After the first chunk (the speed-reference ops), ``networks`` whole networks
    (:func:`calibration_archs`; None: :data:`ADAPT_NETWORKS`) are built and measured
    once, within the budget: the correction from a network's plain sum to the network
    (per op kind, as validation's, :func:`nas.latency.validate.fit_correction`) is fitted
    on them and stored in meta.json, refitted after every chunk. Isolated ops' sums miss
    whole networks by a share that differs per machine (a cold ``--fill`` table's too;
    docs/latency.md), which no op measurement can see. Other arguments as
    :func:`nas.latency.profile.profile_space`'s."""
    check_budget(budget_minutes)
    space = SearchSpace.from_yaml(space_path)
    keys = space_and_baseline_keys(space, baselines, rois)
    source = LatencyTable.load(source_path)
    check_source(source, space, keys, runtime.dtype, Path(out))
    meta = new_meta(space_path, space, keys, runtime, transport, settings, rois, baselines, chunk)
    with table_lock(Path(out)):
        table = open_table(Path(out), meta)
        if speed_refs > 0 and "speed_reference" not in table.meta:
            table.meta["speed_reference"] = {"keys": choose_references(keys, speed_refs), "factors": []}
        refs = [r for r in table.meta.get("speed_reference", {}).get("keys", []) if r in keys]
        source_ms = {k: source.rows[k].median_ms for k in keys}
        earlier = table.meta.get("fill", {}) if table.meta.get("fill", {}).get("method") == ADAPT_METHOD else {}
        log: list[dict[str, float]] = list(earlier.get("chunks", []))
        calibration: list[dict[str, Any]] = list(earlier.get("networks", []))
        pending = calibration_archs(space, ADAPT_NETWORKS if networks is None else networks) if not calibration else []
        spent = float(log[-1]["spent_s"]) if log else 0.0
        todo = [k for k in [*refs, *adapt_design(source_ms, op_usage(space, rois))] if k not in table]
        todo = list(dict.fromkeys(todo))
        if limit is not None:
            todo = todo[:limit]
        budget_s, done, build_s, measure_s = 60.0 * budget_minutes, 0, 0.0, 0.0
        with _Builders(runtime, workers) as builders:
            while todo and spent < budget_s:
                counted = log[-1].get("measured", 0) if log else 0  # ops the budget has paid for so far
                per_op = _last_per_op(log)
                size = min(chunk, _FIRST_CHUNK) if per_op is None else max(1, min(chunk, int((budget_s - spent) / per_op)))
                names, todo = todo[:size], todo[size:]
                built_s = builders.build([*names, *refs])
                run = profile_keys(names, table, runtime, transport, settings, workers, len(names), extra_rounds)
                done += run.measured
                chunk_build = built_s + run.build_s
                build_s, measure_s, spent = build_s + chunk_build, measure_s + run.measure_s, spent + chunk_build + run.measure_s
                log.append({"ops": len(table), "measured": counted + run.measured, "build_s": round(chunk_build, 3),
                            "measure_s": round(run.measure_s, 3), "spent_s": round(spent, 3)})
                if pending and spent < budget_s:
                    calibration, net_build, net_measure = _measure_calibration(pending, table, builders, runtime, transport, settings, rois)
                    pending, build_s, measure_s, spent = [], build_s + net_build, measure_s + net_measure, spent + net_build + net_measure
                    log.append({"ops": len(table), "measured": counted + run.measured, "networks": len(calibration), "build_s": round(net_build, 3),
                                "measure_s": round(net_measure, 3), "spent_s": round(spent, 3)})
                _save_fit(table, source_ms, str(source_path), log, calibration)  # a usable table after every chunk
        _save_fit(table, source_ms, str(source_path), log, calibration)
        kinds = table.meta.get("fill", {}).get("kinds", {})
        return AdaptReport(len(keys), len(table), done, len(table.fitted), build_s, measure_s, spent, kinds)


def _last_per_op(log: list[dict[str, float]]) -> float | None:
    """Seconds an op took in the last chunk of ``log`` (None before any): the first chunk
    of a run pays for starting the builders and building the reference ops, so the last
    chunk says better what the next will cost."""
    chunks = [i for i, entry in enumerate(log) if "networks" not in entry]  # not the calibration networks' entry
    if not chunks or not log[chunks[-1]].get("measured"):
        return None
    last = chunks[-1]
    ops = log[last]["measured"] - (log[last - 1].get("measured", 0) if last > 0 else 0)
    return (log[last]["build_s"] + log[last]["measure_s"]) / ops if ops > 0 else None


def _prepare_one(runtime: LatencyRuntime, name: str) -> str:
    """Build one program in a builder process, with the runtime's own one-process build."""
    runtime.prepare([name], workers=1)
    return name


class _Builders:
    """Processes that build the programs of every chunk of one run. The runtime's own
    parallel build starts a new pool per call (spawned processes importing torch and the
    lowering toolchain: 10-40 s on the shared 2-core VMs), which a run of 16-op chunks
    would pay every chunk; these start once, at the first program to build."""

    def __init__(self, runtime: LatencyRuntime, workers: int) -> None:
        self.runtime, self.workers = runtime, workers
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Builders:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def build(self, names: list[str]) -> float:
        """Build the programs of ``names`` not built yet; returns the seconds it took."""
        missing = self.runtime.unbuilt(list(dict.fromkeys(names)))
        if not missing:
            return 0.0
        start = time.perf_counter()
        if self.workers <= 1:
            self.runtime.prepare(missing, workers=1)
        else:
            with tqdm(total=len(missing), desc="building programs", unit="prog", dynamic_ncols=True) as bar:
                for future in as_completed(self._submit(missing)):
                    future.result()
                    bar.update()
        return time.perf_counter() - start

    def _submit(self, names: list[str]) -> list[Future[str]]:
        if self.pool is not None:
            return [self.pool.submit(_prepare_one, self.runtime, n) for n in names]
        # spawn: forked children of a process that ran torch can deadlock; the children
        # start with the submissions and inherit TQDM_DISABLE: this process's bar counts
        saved = os.environ.get("TQDM_DISABLE")
        os.environ["TQDM_DISABLE"] = "1"
        try:
            self.pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"))
            return [self.pool.submit(_prepare_one, self.runtime, n) for n in names]
        finally:
            if saved is None:
                os.environ.pop("TQDM_DISABLE", None)
            else:
                os.environ["TQDM_DISABLE"] = saved


def _measure_calibration(archs: list[ArchSpec], table: LatencyTable, builders: _Builders, runtime: LatencyRuntime, transport: Transport,
                         settings: MeasureSettings, rois: int) -> tuple[list[dict[str, Any]], float, float]:
    """Build and measure the calibration networks: their records (arch string, ms) and the
    seconds spent building and measuring."""
    names = [dense_program(a.to_string(), rois) for a in archs]
    refs = [r for r in table.meta.get("speed_reference", {}).get("keys", []) if r in table.rows]
    built_s = builders.build([*names, *refs])
    start = time.perf_counter()
    ms = measure_networks(table, names, runtime, transport, settings)
    return [{"arch": a.to_string(), "measured_ms": round(m, 5)} for a, m in zip(archs, ms)], built_s, time.perf_counter() - start


def calibrate(table: LatencyTable, calibration: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The correction (validation's form) fitted on measured networks (``arch``,
    ``measured_ms``) against ``table``'s plain per-kind sums; None without networks."""
    if not calibration:
        return None
    sums = [kind_sums(table.predict(ArchSpec.from_string(str(n["arch"])))) for n in calibration]
    return {**fit_correction(sums, [float(n["measured_ms"]) for n in calibration]), "fitted_on": len(calibration), "by": ADAPT_METHOD}


def _save_fit(table: LatencyTable, source_ms: dict[str, float], source: str, log: list[dict[str, float]],
              calibration: list[dict[str, Any]]) -> None:
    """Fit the transform on the table's measured rows, store the adapted rows, refit the
    calibration's correction (kept as it was without networks) and save."""
    measured = {k: table.rows[k].median_ms for k in source_ms if k in table}
    fit = fit_transform(source_ms, measured)
    table.set_fitted(fit.rows, {**fit.summary(source, len(measured)), "chunks": log, "networks": calibration})
    if (correction := calibrate(table, calibration)) is not None:
        table.meta["correction"] = correction
    table.save()
