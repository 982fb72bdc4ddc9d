"""End-to-end validation of a latency table: predicted sums vs measured whole networks.

Architectures are sampled from the space (``numpy.random.default_rng(seed)``, one
``space.sample`` after another), built whole (:class:`~nas.latency.heads.DenseDeployment`:
feature network and heads, everything the keys cover) and timed on the table's runtime
and device. Reported: MAPE, share within ±5% and ±10%, Spearman and Kendall rank
correlation.

Summing separately timed ops misses what a whole program shares or fuses (one delegate
call instead of one per op, cache reuse between ops, int8 tensors that stay int8 between
ops), and by how much depends on the op kind, so a correction
``measured ≈ sum over kinds of (scale + kind_scales[kind]) * that kind's sum`` is fitted on
one half of the samples (a seeded random half) and scored on the other half only: least
squares on relative errors (the figures of merit are relative: a 12 ms network counts as
much as a 300 ms one), the kinds' deviations from the common scale shrunk by a ridge
(:data:`KIND_RIDGE`). It is kept (written to meta.json, then applied by ``predict``) only
when it lowers the held-out error (how it compares with the former
``scale * sum + per_op_ms * n_ops + offset_ms`` on absolute errors: docs/latency.md).
Tables validated before 2026-12-05 keep their stored correction of that older form, which
``predict`` still applies.

Every model is measured in ``passes`` separate passes over all samples (each interleaved
in its own order, one pass after the other); the value compared is the median of all its
samples (far-out slow ones dropped, :func:`~nas.latency.stats.summarize`; every row of the
report keeps each pass's samples), and the agreement of the passes with each other
(``repeatability``: the second pass's medians scored against the first's, same metrics) is
the ceiling any prediction can be shown to reach on this device: a table cannot be
validated as more accurate than the measurement repeats itself.

When the table has reference ops (:mod:`nas.latency.speed`), every chunk of models is
timed together with them and divided by its speed factor relative to the table's rows,
so a machine that runs slower today than when it was profiled is not mistaken for a
wrong table; the report keeps the factors, each row's raw median, and the metrics
against the raw medians (``raw_measured``). A speed factor cannot make one machine into
another, though: a table is validated only on the device its fingerprint names
(:mod:`nas.latency.fingerprint`).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats as sps
from tqdm import tqdm

from nas.errors import LatencyError
from nas.io import atomic_write_text
from nas.latency.fingerprint import describe, differences, fingerprint_id
from nas.latency.keys import op_keys
from nas.latency.heads import dense_program
from nas.latency.opkinds import key_kind
from nas.latency.runtimes.base import LatencyRuntime
from nas.latency.speed import SpeedReference
from nas.latency.stats import summarize
from nas.latency.table import LatencyTable, Prediction
from nas.latency.transports.base import MeasureSettings, Transport
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec

__all__ = ["Metrics", "metrics", "fit_correction", "kind_sums", "kind_sums_of", "measure_networks", "KIND_RIDGE", "sample_archs", "validate_table", "check_samples", "MIN_SAMPLES",
           "ValidationReport", "ValidationRow", "Correction", "HeldOut", "SpeedFactors"]

# Fewest architectures a validation takes: two per half, so that each half has an order.
MIN_SAMPLES = 4
# Shrinkage of an op kind's deviation from the correction's common scale (relative errors
# squared against deviations squared): on 2026-12-05's validations (an int8 table, a
# loaded fp32 --fill table, the shipped Xeon and zen1 tables) 1 held out best or as well
# as 0.3 and 3; no shrinkage overfits 25 networks with 10 kinds.
KIND_RIDGE = 1.0


@dataclass(frozen=True)
class Metrics:
    """Agreement of predictions with measurements.

    Attributes:
        n: architectures.
        mape: mean absolute percentage error, %.
        within_5, within_10: share of architectures within ±5% / ±10%, in [0, 1].
        spearman, kendall: rank correlations.
    """

    n: int
    mape: float
    within_5: float
    within_10: float
    spearman: float
    kendall: float

    def to_dict(self) -> dict[str, float]:
        return {"n": self.n, "mape": self.mape, "within_5": self.within_5, "within_10": self.within_10, "spearman": self.spearman, "kendall": self.kendall}


def metrics(predicted: list[float], measured: list[float]) -> Metrics:
    p, m = np.asarray(predicted, float), np.asarray(measured, float)
    err = np.abs(p - m) / m
    rank = len(p) > 2
    return Metrics(
        n=len(p),
        mape=float(100 * err.mean()),
        within_5=float((err <= 0.05).mean()),
        within_10=float((err <= 0.10).mean()),
        spearman=float(sps.spearmanr(p, m).statistic) if rank else float("nan"),
        kendall=float(sps.kendalltau(p, m).statistic) if rank else float("nan"),
    )


def fit_correction(kind_sums: Sequence[Mapping[str, float]], measured: Sequence[float], ridge: float = KIND_RIDGE) -> dict[str, Any]:
    """``measured ≈ sum over kinds of (scale + kind_scales[kind]) * kind_sums[kind]``, by
    least squares on relative errors, each kind's deviation from the common ``scale``
    shrunk towards 0 by ``ridge`` (0: a free scale per kind)."""
    kinds = sorted({k for sums in kind_sums for k in sums})
    m = np.asarray(measured, float)
    by_kind = np.array([[sums.get(k, 0.0) for k in kinds] for sums in kind_sums]) / m[:, None]  # each row / its measured ms
    design = np.column_stack([by_kind.sum(axis=1), by_kind])
    penalty = np.column_stack([np.zeros(len(kinds)), math.sqrt(ridge) * np.eye(len(kinds))])
    coef, *_ = np.linalg.lstsq(np.vstack([design, penalty]), np.concatenate([np.ones(len(m)), np.zeros(len(kinds))]), rcond=None)
    return {"scale": float(coef[0]), "kind_scales": {k: float(c) for k, c in zip(kinds, coef[1:])}}


def kind_sums(prediction: Prediction) -> dict[str, float]:
    """A prediction's plain sum split by op kind (ms)."""
    return kind_sums_of((op.key, ms) for op, ms in prediction.breakdown)


def kind_sums_of(ops_ms: Iterable[tuple[str, float]]) -> dict[str, float]:
    """The plain sum of ops' (key, ms) split by op kind (ms)."""
    out: dict[str, float] = {}
    for key, ms in ops_ms:
        kind = key_kind(key)
        out[kind] = out.get(kind, 0.0) + ms
    return out


def check_samples(samples: int) -> None:
    """Refuse fewer than :data:`MIN_SAMPLES` architectures."""
    if samples < MIN_SAMPLES:
        raise LatencyError(f"--samples must be at least {MIN_SAMPLES} (one half fits the correction, the other scores it), "
                           f"got {samples}; docs/results.md quotes figures for 50")


def sample_archs(space: SearchSpace, n: int, seed: int = 0) -> list[ArchSpec]:
    """``n`` architectures drawn in sequence from ``default_rng(seed)``, duplicates dropped."""
    rng = np.random.default_rng(seed)
    archs = [space.sample(rng) for _ in range(n)]
    return list({a.to_string(): a for a in archs}.values())


@dataclass(frozen=True)
class Correction:
    """``measured ≈ sum over kinds of (scale + kind_scales[kind]) * that kind's sum``,
    fitted on one half; ``kept`` when it beat the plain sums on the other."""

    scale: float
    kind_scales: dict[str, float]
    kept: bool

    def apply(self, sums: Mapping[str, float]) -> float:
        """The corrected prediction of a network from its per-kind sums, ms."""
        return math.fsum((self.scale + self.kind_scales.get(kind, 0.0)) * ms for kind, ms in sums.items())

    def to_dict(self) -> dict[str, Any]:
        return {"scale": self.scale, "kind_scales": self.kind_scales, "kept": self.kept}


@dataclass(frozen=True)
class HeldOut:
    """The half the correction was not fitted on: plain sums and corrected, scored there."""

    n: int
    plain_sum: Metrics
    corrected: Metrics

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "plain_sum": self.plain_sum.to_dict(), "corrected": self.corrected.to_dict()}


@dataclass(frozen=True)
class SpeedFactors:
    """The table's reference ops, and per pass the distinct speed factors of its chunks
    (the machine's speed during the measurement relative to the table's; 1: same)."""

    keys: list[str]
    factors: list[list[float]]

    @property
    def span(self) -> tuple[float, float]:
        """Lowest and highest factor over all passes."""
        return min(min(f) for f in self.factors), max(max(f) for f in self.factors)

    def to_dict(self) -> dict[str, Any]:
        return {"keys": self.keys, "factors": self.factors}


@dataclass(frozen=True)
class ValidationRow:
    """One sampled architecture: its keys' plain sum and the prediction reported (ms), the
    value measured (median of all samples, speed divided out) and as timed, each pass's
    median, factor and samples, and the half it belongs to (``fit`` or ``heldout``)."""

    arch: str
    id: str
    n_ops: int
    sum_ms: float
    predicted_ms: float
    measured_ms: float
    raw_measured_ms: float
    pass_ms: list[float]
    pass_factor: list[float]
    samples_ms: list[list[float]]
    half: str

    def to_dict(self) -> dict[str, Any]:
        return {"arch": self.arch, "id": self.id, "n_ops": self.n_ops, "sum_ms": self.sum_ms, "predicted_ms": self.predicted_ms,
                "measured_ms": self.measured_ms, "raw_measured_ms": self.raw_measured_ms, "pass_ms": self.pass_ms,
                "pass_factor": self.pass_factor, "samples_ms": self.samples_ms, "half": self.half}


@dataclass(frozen=True)
class ValidationReport:
    """What :func:`validate_table` found; :meth:`to_dict` is ``validation.json``.

    Attributes:
        table, runtime, device, threads, dtype: the table validated and its measurement
            settings (an int8 table's networks are timed int8, quantized as its ops were).
        space_name, space_hash: the space the architectures were drawn from.
        samples: distinct architectures measured; ``seed`` drew them and split the halves.
        report_dir: where validation.json and validation.png were written.
        fitted_ops, measured_ops: the table's fitted (``nas profile --fill``) and measured rows.
        table_device: the fingerprint the table was timed on (None: from before fingerprints).
        measured_on: this device's fingerprint.
        other_device: how the two differ (empty: the table's own device).
        plain_sum: the plain sums against the measurements, all architectures.
        heldout: the held-out half, plain and corrected.
        correction: the fitted correction, and whether it was kept.
        predicted: the predictions reported (corrected when kept) against the measurements.
        passes: separate measuring passes; ``repeatability`` scores pass 2 against pass 1
            (None for one pass): the ceiling any prediction can be shown to reach.
        speed_reference: the speed factors divided out (None: the table has no reference ops).
        raw_measured: the predictions against the medians as timed (speed left in).
        rows: one per architecture.
    """

    table: str
    runtime: Any
    device: Any
    threads: Any
    space_name: str
    space_hash: str
    samples: int
    seed: int
    report_dir: str
    fitted_ops: int
    measured_ops: int
    table_device: dict[str, Any] | None
    measured_on: dict[str, Any]
    other_device: list[str]
    plain_sum: Metrics
    heldout: HeldOut
    correction: Correction
    predicted: Metrics
    passes: int
    repeatability: Metrics | None
    speed_reference: SpeedFactors | None
    raw_measured: Metrics
    rows: list[ValidationRow]
    dtype: str = "fp32"  # the table's, which the whole networks were quantized to as its ops were

    def to_dict(self, rows: bool = True) -> dict[str, Any]:
        """The report as validation.json holds it (``rows=False``: without the rows, as
        ``nas latency validate --json`` prints it)."""
        data: dict[str, Any] = {
            "table": self.table,
            "runtime": self.runtime,
            "device": self.device,
            "threads": self.threads,
            "dtype": self.dtype,
            "space": {"name": self.space_name, "hash": self.space_hash},
            "samples": self.samples,
            "seed": self.seed,
            "report_dir": self.report_dir,
            "fitted_ops": self.fitted_ops,
            "measured_ops": self.measured_ops,
            "table_device": self.table_device,
            "measured_on": self.measured_on,
            "other_device": self.other_device,
            "plain_sum": self.plain_sum.to_dict(),
            "heldout": self.heldout.to_dict(),
            "correction": self.correction.to_dict(),
            "predicted": self.predicted.to_dict(),
            "passes": self.passes,
            "repeatability": self.repeatability.to_dict() if self.repeatability else None,
            "speed_reference": self.speed_reference.to_dict() if self.speed_reference else None,
            "raw_measured": self.raw_measured.to_dict(),
        }
        if rows:
            data["rows"] = [row.to_dict() for row in self.rows]
        return data


@dataclass(frozen=True)
class _Measured:
    """Every sampled network's values, ms: the summary of all its samples with the speed
    divided out, the same as timed, and each pass's own summary; plus the raw samples and
    the speed factors, per pass."""

    values: list[float]
    raw: list[float]
    per_pass: list[list[float]]
    samples: list[dict[str, list[float]]]
    factors: list[dict[str, float]]


def validate_table(
    table: LatencyTable,
    space: SearchSpace,
    runtime: LatencyRuntime,
    transport: Transport,
    settings: MeasureSettings,
    samples: int = 50,
    seed: int = 0,
    workers: int = 1,
    chunk: int = 10,
    report_dir: Path | None = None,
    passes: int = 2,
    other_device: bool = False,
) -> ValidationReport:
    """Validate ``table``; writes ``validation.json`` and ``validation.png`` into
    ``report_dir`` (default: the table folder) and stores a useful correction in meta.json.

    A table whose recorded device fingerprint differs from the measuring device's is
    refused, unless ``other_device``: then the report measures how well the table
    transfers to this device, goes to ``<table>/other-devices/<fingerprint id>/`` by
    default, and meta.json is left as it was."""
    check_samples(samples)
    dtype = table.meta.get("dtype", "fp32")
    if runtime.dtype != dtype:
        raise LatencyError(f"latency table {table.path} holds {dtype} latencies but the runtime measures {runtime.dtype}: "
                           f"validate it with a runtime of dtype {dtype} (nas latency validate takes the table's)")
    recorded, current, foreign = _devices(table, runtime, transport, other_device)
    if report_dir is None and foreign:
        report_dir = table.path / "other-devices" / fingerprint_id(current)
    archs = sample_archs(space, samples, seed)
    if len(archs) < MIN_SAMPLES:
        raise LatencyError(f"{space.name} gave only {len(archs)} distinct architectures in {samples} draws; "
                           f"validation needs {MIN_SAMPLES}: use a larger space or --seed")
    predictions = [table.predict(a) for a in archs]  # raises on missing keys
    sums = [p.sum_ms for p in predictions]  # the plain sums
    by_kind = [kind_sums(p) for p in predictions]
    n_ops = [len(op_keys(a, table.rois)) for a in archs]
    names = [dense_program(a.to_string(), table.rois) for a in archs]
    runtime.prepare(names, workers=workers)
    refs = list(table.meta.get("speed_reference", {}).get("keys", []))
    runtime.prepare(refs, workers=workers)
    speed = SpeedReference(refs, {r: table.rows[r].median_ms for r in refs if r in table})
    measured = _measure(runtime, transport, settings, names, chunk, passes, speed)
    meas = measured.values
    fit_idx, test_idx = _halves(len(archs), seed)
    coef = fit_correction([by_kind[i] for i in fit_idx], [meas[i] for i in fit_idx])
    raw_test = metrics([sums[i] for i in test_idx], [meas[i] for i in test_idx])
    fitted = Correction(**coef, kept=False)
    cor_test = metrics([fitted.apply(by_kind[i]) for i in test_idx], [meas[i] for i in test_idx])
    correction = replace(fitted, kept=cor_test.mape < raw_test.mape)
    final = [correction.apply(by_kind[i]) if correction.kept else sums[i] for i in range(len(archs))]
    raw_all = metrics(sums, meas)
    held = set(test_idx)
    report = ValidationReport(
        table=str(table.path), runtime=table.meta.get("runtime"), device=table.meta.get("device"), threads=table.meta.get("threads"),
        space_name=space.name, space_hash=space.hash, samples=len(archs), seed=seed,
        report_dir=str(Path(report_dir) if report_dir is not None else table.path),
        fitted_ops=len(table.fitted), measured_ops=len(table.rows), table_device=recorded, measured_on=current, other_device=foreign,
        plain_sum=raw_all, heldout=HeldOut(len(test_idx), raw_test, cor_test), correction=correction,
        predicted=metrics(final, meas) if correction.kept else raw_all, passes=passes,
        repeatability=metrics(measured.per_pass[1], measured.per_pass[0]) if passes > 1 else None,
        speed_reference=SpeedFactors(refs, [sorted({round(f[n], 4) for n in names}) for f in measured.factors]) if speed.nominal else None,
        raw_measured=metrics(final, measured.raw),
        rows=[ValidationRow(a.to_string(), a.id, n_ops[i], sums[i], final[i], meas[i], measured.raw[i], [r[i] for r in measured.per_pass],
                            [f[names[i]] for f in measured.factors], [s[names[i]] for s in measured.samples], "heldout" if i in held else "fit")
              for i, a in enumerate(archs)],
        dtype=dtype,
    )
    _write(report, table, final, held, measured.factors)
    if not foreign:  # a correction fitted on another device must not reach the table's predictions
        table.meta.pop("correction", None)  # decided afresh: kept only where it beat the plain sums
        if correction.kept:
            table.meta["correction"] = {**coef, "fitted_on": len(fit_idx), "seed": seed, "heldout_mape": cor_test.mape}
        table.save()
    return report


def measure_networks(table: LatencyTable, names: list[str], runtime: LatencyRuntime, transport: Transport, settings: MeasureSettings,
                     chunk: int = 10) -> list[float]:
    """Median ms of each built network program of ``names`` (:func:`dense_program`), one
    pass, the machine's speed relative to ``table``'s divided out by its reference ops."""
    refs = list(table.meta.get("speed_reference", {}).get("keys", []))
    speed = SpeedReference(refs, {r: table.rows[r].median_ms for r in refs if r in table.rows})
    return _measure(runtime, transport, settings, names, chunk, 1, speed).values


def _devices(table: LatencyTable, runtime: LatencyRuntime, transport: Transport, other_device: bool
             ) -> tuple[dict[str, Any] | None, dict[str, Any], list[str]]:
    """The table's recorded device fingerprint, this device's, and how they differ; a
    difference is refused unless ``other_device``."""
    recorded, current = table.meta.get("device_fingerprint"), transport.fingerprint(runtime)
    foreign = differences(recorded, current) if recorded else []
    if foreign and not other_device:
        raise LatencyError(
            f"{table.path} was profiled on {describe(recorded)}, but this device is {describe(current)} ({'; '.join(foreign)}): "
            "validating it here would measure the difference between the two machines, not the table. Validate on the table's device, "
            "profile this one into a new table (nas profile --out ...), or pass --other-device to measure how well the table transfers "
            "(reported apart, no correction stored)"
        )
    return recorded, current, foreign


def _halves(n: int, seed: int) -> tuple[list[int], list[int]]:
    """A seeded random half of ``range(n)`` to fit the correction on, and the rest."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return sorted(order[: n // 2]), sorted(order[n // 2 :])


def _measure(runtime: LatencyRuntime, transport: Transport, settings: MeasureSettings, names: list[str], chunk: int, passes: int,
             speed: SpeedReference) -> _Measured:
    per_pass, factors = _measure_passes(runtime, transport, settings, names, chunk, passes, speed)
    values = [summarize([t for samples in per_pass for t in samples[n]]).median_ms for n in names]
    raw = [summarize([t * f[n] for samples, f in zip(per_pass, factors) for t in samples[n]]).median_ms for n in names]
    repeat = [[summarize(samples[n]).median_ms for n in names] for samples in per_pass]
    return _Measured(values, raw, repeat, per_pass, factors)


def _write(report: ValidationReport, table: LatencyTable, final: list[float], held: set[int], factors: list[dict[str, float]]) -> None:
    """validation.png, then validation.json: a failure on the way leaves the table and its
    report as they were (the table is saved after)."""
    out = Path(report.report_dir)
    out.mkdir(parents=True, exist_ok=True)
    from nas.latency.plots import scatter_plot

    shown = report.heldout.corrected if report.correction.kept else report.heldout.plain_sum
    all_factors = [f for per in factors for f in per.values()]
    repeatability, raw_all = report.repeatability, report.plain_sum
    scatter_plot(
        out / "validation.png",
        [row.measured_ms for row in report.rows],
        final,
        [i in held for i in range(len(report.rows))],
        ("ON ANOTHER DEVICE: " if report.other_device else "") + f"{table.path.name}: {report.samples} archs, held-out MAPE {shown.mape:.1f}%, "
        f"±10% {100 * shown.within_10:.0f}%\nSpearman {raw_all.spearman:.3f}, Kendall {raw_all.kendall:.3f} (all, plain sums)"
        + (" · corrected" if report.correction.kept else " · plain sums")
        + (f"\nmeasurement repeats itself within ±10% for {100 * repeatability.within_10:.0f}% (pass 2 vs 1)" if repeatability else "")
        + (f"; machine speed x{min(all_factors):.2f}-{max(all_factors):.2f} of the table's, divided out" if report.speed_reference else ""),
    )
    atomic_write_text(out / "validation.json", json.dumps(report.to_dict(), indent=2) + "\n")


def _measure_passes(
    runtime: LatencyRuntime, transport: Transport, settings: MeasureSettings, names: list[str], chunk: int, passes: int, speed: SpeedReference
) -> tuple[list[dict[str, list[float]]], list[dict[str, float]]]:
    """Samples (ms, divided by their chunk's speed factor) of every program, one dict per
    pass, and each program's factor, one dict per pass; each pass goes over all programs
    in chunks, with its own interleaving seed."""
    if passes < 1:
        raise ValueError(f"passes must be at least 1, got {passes}")
    results: list[dict[str, list[float]]] = [{} for _ in range(passes)]
    factors: list[dict[str, float]] = [{} for _ in range(passes)]
    steps = [(p, begin) for p in range(passes) for begin in range(0, len(names), chunk)]
    for p, begin in tqdm(steps, desc="measuring models", unit="chunk", dynamic_ncols=True):
        pass_settings = replace(settings, seed=settings.seed + p)
        measured = speed.measure(transport, runtime, names[begin : begin + chunk], pass_settings)
        results[p].update(measured.samples)
        factors[p].update(dict.fromkeys(measured.samples, measured.factor))
    return results, factors
