"""Benchmark: latency-table lookups per second, and the table's validation figures.

    python bench/bench_latency.py [--table latency_tables/cpu-executorch-xnnpack-t1] [--archs 2000] [--repeats 5]

Lookups: ``LatencyTable.predict_ms`` (what a search calls) and ``predict`` (with the
per-op breakdown) over distinct architectures sampled from the table's space, first
with cold key caches, then warm; medians of ``--repeats`` passes. Architectures with
ops the table lacks are skipped (counted). Validation: the figures ``nas latency
validate`` stored in the table folder (validation.json), plain sums and corrected.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from nas.errors import MissingKeysError
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
    start = time.perf_counter()
    covered = []
    for arch in sampled:  # first pass: cold key caches (meta-device shape runs)
        try:
            table.predict_ms(arch)
            covered.append(arch)
        except MissingKeysError:
            pass
    cold = len(sampled) / (time.perf_counter() - start)
    if not covered:
        raise SystemExit(f"{args.table} covers none of {len(sampled)} sampled architectures; profile the space first")
    fast = [_rate(table.predict_ms, covered) for _ in range(args.repeats)]
    full = [_rate(table.predict, covered) for _ in range(args.repeats)]
    print(f"table {args.table}: {len(table)} ops; {len(covered)} of {len(sampled)} distinct sampled architectures covered")
    print(f"{'lookup':<34}{'archs/s (median of ' + str(args.repeats) + ')':>28}")
    print(f"{'predict_ms, cold key caches':<34}{cold:>28,.0f}")
    print(f"{'predict_ms, warm':<34}{statistics.median(fast):>28,.0f}")
    print(f"{'predict (with breakdown), warm':<34}{statistics.median(full):>28,.0f}")

    report_path = Path(args.table) / "validation.json"
    if not report_path.is_file():
        print(f"no validation report in {args.table}; run `nas latency validate --table {args.table}`")
        return
    report = json.loads(report_path.read_text())
    rows = [("plain sum, all", report["plain_sum"]), ("plain sum, held-out half", report["heldout"]["plain_sum"]), ("corrected, held-out half", report["heldout"]["corrected"])]
    print(f"\nvalidation: {report['samples']} architectures end to end, correction {'kept' if report['correction']['kept'] else 'not kept'}")
    print(f"{'':<27}{'n':>4}{'MAPE %':>9}{'±5 %':>7}{'±10 %':>7}{'Spearman':>10}{'Kendall':>9}")
    for name, m in rows:
        print(f"{name:<27}{m['n']:>4}{m['mape']:>9.2f}{100 * m['within_5']:>7.0f}{100 * m['within_10']:>7.0f}{m['spearman']:>10.3f}{m['kendall']:>9.3f}")


if __name__ == "__main__":
    main()
