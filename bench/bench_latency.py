"""Benchmark: latency-table lookups per second, and the table's validation figures.

    python bench/bench_latency.py [--table latency_tables/cpu-executorch-xnnpack-t1] [--archs 2000] [--repeats 5]

Lookups: ``LatencyTable.predict_ms`` (what a search calls) and ``predict`` (with the
per-op breakdown) over distinct architectures sampled from the table's space, first
with cold key caches, then warm; medians of ``--repeats`` passes. Architectures with
ops the table lacks are counted; when the table is partial, the throughput is measured on
an in-memory copy whose missing rows hold a placeholder value (lookup speed does not
depend on the values; the copy is never saved). Validation: the figures ``nas latency
validate`` stored in the table folder (validation.json), plain sums and corrected, and how
well the end-to-end measurement repeats itself between two passes (the ceiling).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from nas.latency.keys import clear_key_caches, op_keys
from nas.latency.table import LatencyTable
from nas.space.search_space import SearchSpace

ROOT = Path(__file__).resolve().parent.parent


def _rate(fn, archs) -> float:
    start = time.perf_counter()
    for arch in archs:
        fn(arch)
    return len(archs) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", default=str(ROOT / "latency_tables" / "cpu-executorch-xnnpack-t1"))
    parser.add_argument("--archs", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    table = LatencyTable.load(args.table)
    space = SearchSpace.from_yaml(ROOT / table.meta["space"]["path"])
    rng = np.random.default_rng(args.seed)
    sampled = list({a.to_string(): a for a in (space.sample(rng) for _ in range(args.archs))}.values())
    covered = [a for a in sampled if not table.missing(op_keys(a, table.rois))]
    placeholder = 0
    if len(covered) < len(sampled):
        filler = table.rows[next(iter(table.rows))]
        lookup = LatencyTable(table.path, dict(table.meta), table.rows)
        for arch in sampled:
            for key in lookup.missing(op_keys(arch, lookup.rois)):
                lookup.add(key, filler)
                placeholder += 1
    else:
        lookup = table
    clear_key_caches()  # cold: shape runs and key strings again
    cold = _rate(lookup.predict_ms, sampled)
    fast = [_rate(lookup.predict_ms, sampled) for _ in range(args.repeats)]
    full = [_rate(lookup.predict, sampled) for _ in range(args.repeats)]
    print(f"table {args.table}: {len(table)} ops; {len(covered)} of {len(sampled)} distinct sampled architectures fully covered")
    if placeholder:
        print(f"(lookups timed on an in-memory copy with {placeholder} placeholder rows for the uncovered keys)")
    print(f"{'lookup':<34}{'archs/s (median of ' + str(args.repeats) + ')':>28}")
    print(f"{'predict_ms, cold key caches (1 pass)':<34}{cold:>28,.0f}")
    print(f"{'predict_ms, warm':<34}{statistics.median(fast):>28,.0f}")
    print(f"{'predict (with breakdown), warm':<34}{statistics.median(full):>28,.0f}")

    report_path = Path(args.table) / "validation.json"
    if not report_path.is_file():
        print(f"no validation report in {args.table}; run `nas latency validate --table {args.table}`")
        return
    report = json.loads(report_path.read_text())
    rows = [("plain sum, all", report["plain_sum"]), ("plain sum, held-out half", report["heldout"]["plain_sum"]), ("corrected, held-out half", report["heldout"]["corrected"])]
    if report.get("repeatability"):  # the measurement against itself: the ceiling of the rows above
        rows.append(("measured pass 2 vs pass 1", report["repeatability"]))
    if report.get("speed_reference"):  # predictions against the medians as timed, drift left in
        rows.append(("predicted vs raw medians", report["raw_measured"]))
    print(f"\nvalidation: {report['samples']} architectures end to end, correction {'kept' if report['correction']['kept'] else 'not kept'}")
    print(f"{'':<27}{'n':>4}{'MAPE %':>9}{'±5 %':>7}{'±10 %':>7}{'Spearman':>10}{'Kendall':>9}")
    for name, m in rows:
        print(f"{name:<27}{m['n']:>4}{m['mape']:>9.2f}{100 * m['within_5']:>7.0f}{100 * m['within_10']:>7.0f}{m['spearman']:>10.3f}{m['kendall']:>9.3f}")
    if report.get("speed_reference"):
        factors = [f for per in report["speed_reference"]["factors"] for f in per]
        print(f"machine speed during validation: x{min(factors):.3f}-{max(factors):.3f} of the table's (divided out in all rows but the last)")


if __name__ == "__main__":
    main()
