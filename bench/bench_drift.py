"""Benchmark: how much this machine's speed drifts between two measurements of the same
ops, and how much of it the speed reference (nas.latency.speed) divides out.

    python bench/bench_drift.py [--space search_spaces/densepose_mobile.yaml] [--ops 48] [--passes 4] [--pause 30] [--json bench/reports/drift.json]

A seeded sample of the space's op keys plus its reference ops (chosen as ``nas profile``
chooses them) is measured ``--passes`` times, ``--pause`` seconds apart, each pass
interleaved like a profiling chunk (5 warm-up + 15 rounds). The first pass stands for the
table: every later pass is compared with it op by op, as timed (raw) and divided by its
speed factor against the first pass's references (normalised). Printed per later pass:
its speed factor, the median ratio later/first over the sampled ops and the share of ops
within ±5% and ±10% of the first pass, raw and normalised, side by side. Programs are
lowered into the default program cache first (cached programs are reused).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _shares(ratios: list[float]) -> tuple[float, float, float]:
    return statistics.median(ratios), sum(abs(r - 1) <= 0.05 for r in ratios) / len(ratios), sum(abs(r - 1) <= 0.10 for r in ratios) / len(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--space", default=str(ROOT / "search_spaces" / "densepose_mobile.yaml"))
    parser.add_argument("--ops", type=int, default=48, help="sampled op keys besides the references")
    parser.add_argument("--passes", type=int, default=4)
    parser.add_argument("--pause", type=float, default=30.0, help="seconds between passes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    if args.passes < 2:
        parser.error("--passes must be at least 2 (the first stands for the table)")

    from nas.latency.keys import space_keys
    from nas.latency.runtimes import get_runtime
    from nas.latency.speed import SpeedReference, choose_references
    from nas.latency.stats import summarize
    from nas.latency.transports import MeasureSettings, make_transport
    from nas.space.search_space import SearchSpace

    keys = space_keys(SearchSpace.from_yaml(args.space))
    refs = choose_references(keys)
    sample = random.Random(args.seed).sample([k for k in keys if k not in refs], min(args.ops, len(keys) - len(refs)))
    runtime = get_runtime("executorch", device="cpu", threads=1, dtype="fp32")
    runtime.prepare([*sample, *refs], workers=args.workers)
    transport = make_transport(None, None, None, None, "python3", "f0")

    first: dict[str, float] = {}
    report: dict[str, object] = {"ops": len(sample), "references": refs, "passes": []}
    print(f"{len(sample)} ops + {len(refs)} references, {args.passes} passes {args.pause:.0f} s apart")
    print(f"{'pass':>4}{'factor':>8}{'raw: median':>13}{'±5%':>6}{'±10%':>6}{'normalised: median':>20}{'±5%':>6}{'±10%':>6}")
    for index in range(args.passes):
        if index:
            time.sleep(args.pause)
        speed = SpeedReference(refs, {r: first[r] for r in refs} if first else {})
        measured = speed.measure(transport, runtime, [*sample, *refs] if not first else sample, MeasureSettings(5, 15, args.seed + index))
        medians = {n: summarize(v).median_ms for n, v in measured.samples.items()}
        if not first:
            first = medians
            continue
        raw = [summarize(measured.raw[n]).median_ms / first[n] for n in sample]
        norm = [medians[n] / first[n] for n in sample]
        (rm, r5, r10), (nm, n5, n10) = _shares(raw), _shares(norm)
        print(f"{index + 1:>4}{measured.factor:>8.3f}{rm:>13.3f}{100 * r5:>6.0f}{100 * r10:>6.0f}{nm:>20.3f}{100 * n5:>6.0f}{100 * n10:>6.0f}")
        report["passes"].append({"pass": index + 1, "factor": measured.factor, "raw": {"median_ratio": rm, "within_5": r5, "within_10": r10},
                                 "normalised": {"median_ratio": nm, "within_5": n5, "within_10": n10}})
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
