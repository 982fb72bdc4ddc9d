"""Benchmark: the timing budget of ``nas profile`` (``--budget-ms``): how much timing it
saves on a whole space, and whether the table it gives predicts as well.

    python bench/bench_profile_budget.py --reference latency_tables/cpu-epyc-zen1-executorch-xnnpack-t1 \
        --out .cache/zen1-budget [--budget-ms 150] [--samples 50]

Steps, on the machine the reference table was profiled on (its fingerprint is enforced),
with the programs already cached (the cold lowering is not what the budget changes):

1. profile the reference table's space into ``--out`` with the budget, exactly as
   ``nas profile`` does (chunks, reference ops, extra rounds for unstable ops); resumable;
2. validate the new table as ``nas latency validate --samples N --rounds 21`` does
   (end-to-end measurements of N sampled networks, two passes) -- the accuracy target
   of issue 4 (95% within +-10%) applied to the budgeted table;
3. compare with the reference table, measured with every op at 5 warm-ups + 15 rounds:
   this run's timing per op (the reference's own is in its NOTES.md), for both settings
   the time spent running the ops, computed from the reference rows' medians (sum of
   runs x median), and the per-op ratio new / reference after dividing out the machine's
   overall speed difference (median ratio).

Run it on an otherwise idle machine; it prints the report and writes
bench/reports/profile_budget.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _timing_minutes(medians: list[float], warmup: int, rounds: int, budget_ms: float | None, min_rounds: int) -> float:
    """Minutes the settings spend running ops of these medians (ms): (warm-ups + rounds)
    x median, the warm-ups and rounds of each as the runner sizes them."""
    from nas.latency.runner import budgeted_rounds, budgeted_warmups

    runs = (budgeted_warmups(warmup, ms, budget_ms, rounds) + budgeted_rounds(rounds, ms, budget_ms, min_rounds) for ms in medians)
    return sum(n * ms for n, ms in zip(runs, medians)) / 60_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path, required=True, help="a complete table measured without a budget, on this machine")
    parser.add_argument("--out", type=Path, default=ROOT / ".cache" / "profile-budget", help="the budgeted table (resumed if present)")
    parser.add_argument("--budget-ms", type=float, default=None, help="default: nas profile's")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--validate-rounds", type=int, default=21)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "reports" / "profile_budget.json")
    args = parser.parse_args()

    from nas.latency.profile import KeySelection, profile_space
    from nas.latency.runner import DEFAULT_BUDGET_MS, MIN_ROUNDS
    from nas.latency.runtimes import get_runtime
    from nas.latency.table import LatencyTable
    from nas.latency.transports import MeasureSettings, make_transport
    from nas.latency.validate import validate_table
    from nas.space.search_space import SearchSpace

    from nas.errors import TableError

    budget = DEFAULT_BUDGET_MS if args.budget_ms is None else args.budget_ms
    if not budget > 0 or args.samples < 2 or args.validate_rounds < 1:
        parser.error("--budget-ms must be positive, --samples at least 2 and --validate-rounds at least 1")
    try:
        reference = LatencyTable.load(args.reference)
    except TableError as exc:
        parser.error(f"--reference: {exc}")
    meta = reference.meta
    space_path = meta["space"]["path"]
    space_path = space_path if Path(space_path).is_file() else str(ROOT / "search_spaces" / Path(space_path).name)
    runtime = get_runtime(meta["runtime"], device=meta["device"], threads=int(meta["threads"]), dtype=meta["dtype"])
    transport = make_transport(None, None, None, None, "python3", "f0")
    settings = MeasureSettings(5, 15, budget_ms=budget, min_rounds=MIN_ROUNDS)
    started = time.perf_counter()
    run = profile_space(space_path, args.out, runtime, transport, settings, KeySelection(build=False), workers=2, baselines=meta.get("baselines", ()))
    profile_s = time.perf_counter() - started
    table = LatencyTable.load(args.out)
    missing = [k for k in reference.rows if k not in table]
    if missing:
        raise SystemExit(f"{len(missing)} ops of the reference have no cached program here (e.g. {missing[0]}): build them first with nas profile")

    validation = validate_table(table, SearchSpace.from_yaml(space_path), runtime, transport, MeasureSettings(3, args.validate_rounds, 0),
                                args.samples, 0, workers=2)
    ratios = {k: table.rows[k].median_ms / reference.rows[k].median_ms for k in reference.rows}
    speed = statistics.median(ratios.values())  # the machine's overall speed today vs then
    spread = sorted(abs(r / speed - 1) for r in ratios.values())
    medians = [row.median_ms for row in reference.rows.values()]
    report = {
        "reference": str(args.reference),
        "budgeted_table": str(args.out),
        "budget_ms": budget,
        "ops": len(reference.rows),
        "measured_now": run.measured,
        "timing_s_this_run": round(run.measure_s, 1) if run.measured == len(reference.rows) else None,
        "timing_s_per_op_this_run": round(run.measure_s / run.measured, 3) if run.measured else None,
        "profile_wall_s_this_run": round(profile_s, 1),
        "op_running_min_full_rounds": round(_timing_minutes(medians, 5, 15, None, MIN_ROUNDS), 1),
        "op_running_min_budget": round(_timing_minutes(medians, 5, 15, budget, MIN_ROUNDS), 1),
        "rows_reduced": sum(row.count < 15 for row in table.rows.values()),
        "machine_speed_vs_reference": round(speed, 4),
        "op_ratio_abs_dev_median": round(spread[len(spread) // 2], 4),
        "op_ratio_abs_dev_p90": round(spread[int(0.9 * len(spread))], 4),
        "validation": {k: validation.to_dict()[k] for k in ("samples", "plain_sum", "heldout", "raw_measured")},
        "reference_validation": json.loads((args.reference / "validation.json").read_text())["plain_sum"]
        if (args.reference / "validation.json").is_file() else None,
    }
    print(json.dumps(report, indent=2))
    args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
