"""End-to-end validation of a latency table: predicted sums vs measured whole networks.

Architectures are sampled from the space (``numpy.random.default_rng(seed)``, one
``space.sample`` after another), built whole (:class:`~nas.latency.heads.DenseDeployment`:
feature network and heads, everything the keys cover) and timed on the table's runtime
and device. Reported: MAPE, share within ±5% and ±10%, Spearman and Kendall rank
correlation.

Summing separately timed ops misses what a whole program shares or fuses (one delegate
call instead of one per op, cache reuse between ops), so a correction
``measured ≈ scale * sum + per_op_ms * n_ops + offset_ms`` is fitted by least squares on
one half of the samples (a seeded random half) and scored on the other half only. It is
kept (written to meta.json, then applied by ``predict``) only when it lowers the held-out
error.

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
import random
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
from nas.latency.runtimes.base import LatencyRuntime
from nas.latency.speed import SpeedReference
from nas.latency.stats import summarize
from nas.latency.table import LatencyTable
from nas.latency.transports.base import MeasureSettings, Transport
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec

__all__ = ["Metrics", "metrics", "fit_correction", "sample_archs", "validate_table", "check_samples", "MIN_SAMPLES"]

# Fewest architectures a validation takes: two per half, so that each half has an order.
MIN_SAMPLES = 4


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


def fit_correction(sums: list[float], n_ops: list[int], measured: list[float]) -> dict[str, float]:
    """Least squares ``measured ≈ scale * sum + per_op_ms * n_ops + offset_ms``."""
    design = np.column_stack([sums, n_ops, np.ones(len(sums))])
    coef, *_ = np.linalg.lstsq(design, np.asarray(measured, float), rcond=None)
    return {"scale": float(coef[0]), "per_op_ms": float(coef[1]), "offset_ms": float(coef[2])}


def check_samples(samples: int) -> None:
    """Refuse fewer than :data:`MIN_SAMPLES` architectures."""
    if samples < MIN_SAMPLES:
        raise LatencyError(f"--samples must be at least {MIN_SAMPLES} (one half fits the correction, the other scores it), "
                           f"got {samples}; 50 gives the figures the README quotes")


def sample_archs(space: SearchSpace, n: int, seed: int = 0) -> list[ArchSpec]:
    """``n`` architectures drawn in sequence from ``default_rng(seed)``, duplicates dropped."""
    rng = np.random.default_rng(seed)
    archs = [space.sample(rng) for _ in range(n)]
    return list({a.to_string(): a for a in archs}.values())


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
) -> dict[str, Any]:
    """Validate ``table``; writes ``validation.json`` and ``validation.png`` into
    ``report_dir`` (default: the table folder) and stores a useful correction in meta.json.

    A table whose recorded device fingerprint differs from the measuring device's is
    refused, unless ``other_device``: then the report measures how well the table
    transfers to this device, goes to ``<table>/other-devices/<fingerprint id>/`` by
    default, and meta.json is left as it was."""
    check_samples(samples)
    recorded, current = table.meta.get("device_fingerprint"), transport.fingerprint(runtime)
    foreign = differences(recorded, current) if recorded else []
    if foreign and not other_device:
        raise LatencyError(
            f"{table.path} was profiled on {describe(recorded)}, but this device is {describe(current)} ({'; '.join(foreign)}): "
            "validating it here would measure the difference between the two machines, not the table. Validate on the table's device, "
            "profile this one into a new table (nas profile --out ...), or pass --other-device to measure how well the table transfers "
            "(reported apart, no correction stored)"
        )
    if report_dir is None and foreign:
        report_dir = table.path / "other-devices" / fingerprint_id(current)
    archs = sample_archs(space, samples, seed)
    if len(archs) < MIN_SAMPLES:
        raise LatencyError(f"{space.name} gave only {len(archs)} distinct architectures in {samples} draws; "
                           f"validation needs {MIN_SAMPLES}: use a larger space or --seed")
    sums = [table.predict(a).sum_ms for a in archs]  # the plain sums; raises on missing keys
    n_ops = [len(op_keys(a, table.rois)) for a in archs]
    names = [dense_program(a.to_string(), table.rois) for a in archs]
    runtime.prepare(names, workers=workers)
    refs = list(table.meta.get("speed_reference", {}).get("keys", []))
    runtime.prepare(refs, workers=workers)
    speed = SpeedReference(refs, {r: table.rows[r].median_ms for r in refs if r in table})
    per_pass, factors = _measure_passes(runtime, transport, settings, names, chunk, passes, speed)
    meas = [summarize([t for samples in per_pass for t in samples[n]]).median_ms for n in names]
    raw = [summarize([t * f[n] for samples, f in zip(per_pass, factors) for t in samples[n]]).median_ms for n in names]
    repeat = [[summarize(samples[n]).median_ms for n in names] for samples in per_pass]
    repeatability = metrics(repeat[1], repeat[0]) if passes > 1 else None
    order = list(range(len(archs)))
    random.Random(seed).shuffle(order)
    fit_idx, test_idx = sorted(order[: len(order) // 2]), sorted(order[len(order) // 2 :])
    correction = fit_correction([sums[i] for i in fit_idx], [n_ops[i] for i in fit_idx], [meas[i] for i in fit_idx])

    def corrected(i: int) -> float:
        return correction["scale"] * sums[i] + correction["per_op_ms"] * n_ops[i] + correction["offset_ms"]

    raw_all = metrics(sums, meas)
    raw_test = metrics([sums[i] for i in test_idx], [meas[i] for i in test_idx])
    cor_test = metrics([corrected(i) for i in test_idx], [meas[i] for i in test_idx])
    keep = cor_test.mape < raw_test.mape
    final = [corrected(i) if keep else sums[i] for i in range(len(archs))]
    out = Path(report_dir) if report_dir is not None else table.path
    held = set(test_idx)
    report: dict[str, Any] = {
        "table": str(table.path),
        "runtime": table.meta.get("runtime"),
        "device": table.meta.get("device"),
        "threads": table.meta.get("threads"),
        "space": {"name": space.name, "hash": space.hash},
        "samples": len(archs),
        "seed": seed,
        "report_dir": str(out),
        # ops of the table fitted rather than measured (nas profile --fill): 0 for a complete one
        "fitted_ops": len(table.fitted),
        "measured_ops": len(table.rows),
        # the device the table was timed on (None: the table predates fingerprints) and this one
        "table_device": recorded,
        "measured_on": current,
        "other_device": foreign,
        "plain_sum": raw_all.to_dict(),
        "heldout": {"n": len(test_idx), "plain_sum": raw_test.to_dict(), "corrected": cor_test.to_dict()},
        "correction": {**correction, "kept": keep},
        "predicted": metrics(final, meas).to_dict() if keep else raw_all.to_dict(),
        "passes": passes,
        "repeatability": repeatability.to_dict() if repeatability else None,
        # the machine's speed during the measurement, relative to the table's (1: same)
        "speed_reference": {"keys": refs, "factors": [sorted({round(f[n], 4) for n in names}) for f in factors]} if speed.nominal else None,
        "raw_measured": metrics(final, raw).to_dict(),
        "rows": [
            {"arch": a.to_string(), "id": a.id, "n_ops": n_ops[i], "sum_ms": sums[i], "predicted_ms": final[i], "measured_ms": meas[i], "raw_measured_ms": raw[i],
             "pass_ms": [r[i] for r in repeat], "pass_factor": [f[names[i]] for f in factors], "samples_ms": [samples[names[i]] for samples in per_pass], "half": "heldout" if i in held else "fit"}
            for i, a in enumerate(archs)
        ],
    }
    out.mkdir(parents=True, exist_ok=True)
    from nas.latency.plots import scatter_plot

    shown = cor_test if keep else raw_test
    all_factors = [f for per in factors for f in per.values()]
    scatter_plot(
        out / "validation.png",
        meas,
        final,
        [i in held for i in range(len(archs))],
        ("ON ANOTHER DEVICE: " if foreign else "") + f"{table.path.name}: {len(archs)} archs, held-out MAPE {shown.mape:.1f}%, "
        f"±10% {100 * shown.within_10:.0f}%\nSpearman {raw_all.spearman:.3f}, Kendall {raw_all.kendall:.3f} (all, plain sums)"
        + (" · corrected" if keep else " · plain sums")
        + (f"\nmeasurement repeats itself within ±10% for {100 * repeatability.within_10:.0f}% (pass 2 vs 1)" if repeatability else "")
        + (f"; machine speed x{min(all_factors):.2f}-{max(all_factors):.2f} of the table's, divided out" if speed.nominal else ""),
    )
    # The plot, then the report, then the table: a failure on the way leaves the table and
    # its report as they were.
    atomic_write_text(out / "validation.json", json.dumps(report, indent=2) + "\n")
    if not foreign:  # a correction fitted on another device must not reach the table's predictions
        table.meta.pop("correction", None)  # decided afresh: kept only where it beat the plain sums
        if keep:
            table.meta["correction"] = {**correction, "fitted_on": len(fit_idx), "seed": seed, "heldout_mape": cor_test.mape}
        table.save()
    return report


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
