"""Benchmark: a search that scores its candidates from a trained supernet (issue 37's search target).

    python bench/bench_supernet_search.py --supernet .cache/supernets/proxy2000_uniform8000_s0
        [--trials 500] [--data .cache/bench_proxy_data_2000] [--table latency_tables/cpu-epyc-executorch-xnnpack-t1]
        [--cpus-per-trial 1] [--out results/bench-supernet-search] [--json bench/reports/supernet_search.json]

Runs ``nas search --supernet DIR --trials N --no-baselines`` as a user would (a local Ray
instance over every core of the machine, one trial per ``--cpus-per-trial``), wall-clocks
the whole command, Ray's start-up included, and prints: candidates scored, search minutes,
median seconds per candidate inside its trial, candidates per minute, the minutes 500
would take at that rate, the front's size and the GPS AP range. Target (issue 37): 500
candidates on 2 cores within 90 minutes.

A run folder already in ``--out`` is searched again from scratch (the figure is one run's
wall time); ``--analyse-only`` reports on it as it is, with the wall time recorded then.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_CANDIDATES, TARGET_MINUTES = 500, 90.0
WALL_FILE = "bench_wall.json"  # beside the run: the wall time of the command that made it


def run_search(args: argparse.Namespace) -> None:
    """Search afresh into ``--out``, its wall time in :data:`WALL_FILE` there."""
    if args.out.exists():
        shutil.rmtree(args.out)
    argv = [sys.executable, "-m", "nas", "search", "--space", str(args.space), "--table", str(args.table), "--data", str(args.data),
            "--supernet", str(args.supernet), "--trials", str(args.trials), "--no-baselines", "--cpus-per-trial", str(args.cpus_per_trial),
            "--seed", str(args.seed), "--out", str(args.out)]
    print("$", " ".join(argv[2:]), flush=True)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"nas search failed ({done.returncode}); see its output above")
    # the 1-minute load average at the end tells whether other work shared the cores (Ray's
    # workers run at nice 15 and lose to any busy neighbour)
    (args.out / WALL_FILE).write_text(json.dumps({"seconds": seconds, "cores": os.cpu_count(), "load_before": load_before,
                                                  "load_after": os.getloadavg()[0]}) + "\n")


def summarise(args: argparse.Namespace, wall: dict[str, float]) -> dict[str, object]:
    """The report of the run in ``--out``, as its :data:`WALL_FILE` recorded it."""
    import math

    from nas.runs.front import front_trials, learned_floor
    from nas.runs.store import ResultsStore

    store = ResultsStore(args.out)
    rows = [r for r in store.rows().values() if r.kind == "search"]
    finished = [r for r in rows if r.status == "finished"]
    if not finished:
        raise SystemExit(f"{args.out}: no finished candidate to report on")
    scorers = sorted({r.scorer for r in finished})
    per_candidate = statistics.median(r.wall_seconds for r in finished)
    seconds = wall["seconds"]
    per_minute = len(finished) / (seconds / 60)
    minutes_500 = TARGET_CANDIDATES / per_minute
    aps = [r.gps_ap for r in finished if math.isfinite(r.gps_ap)]
    front = front_trials(finished, learned_floor(store.load_config()))
    return {
        "command": "python bench/bench_supernet_search.py " + " ".join(sys.argv[1:]),
        "supernet": str(args.supernet), "data": str(args.data), "table": str(args.table), "cores": os.cpu_count(),
        "load_average": {"before": wall.get("load_before"), "after": wall.get("load_after")}, "cpus_per_trial": args.cpus_per_trial, "trials_requested": args.trials, "candidates_scored": len(finished),
        "failed_or_rejected": len(rows) - len(finished), "scorers": scorers, "search_minutes": seconds / 60,
        "median_seconds_per_candidate": per_candidate, "candidates_per_minute": per_minute, "minutes_for_500": minutes_500,
        "gps_ap_range": [min(aps), max(aps)] if aps else None, "front_size": len(front),
        "target": {"candidates": TARGET_CANDIDATES, "minutes": TARGET_MINUTES, "met": minutes_500 <= TARGET_MINUTES and len(finished) >= 1},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supernet", type=Path, required=True, help="a trained supernet folder (nas supernet train --out)")
    parser.add_argument("--trials", type=int, default=TARGET_CANDIDATES)
    parser.add_argument("--space", type=Path, default=ROOT / "search_spaces" / "densepose_mobile.yaml")
    parser.add_argument("--data", type=Path, default=ROOT / ".cache" / "bench_proxy_data_2000", help="the scenes the supernet was trained on")
    parser.add_argument("--table", type=Path, default=ROOT / "latency_tables" / "cpu-epyc-executorch-xnnpack-t1")
    parser.add_argument("--cpus-per-trial", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench-supernet-search")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "reports" / "supernet_search.json")
    parser.add_argument("--analyse-only", action="store_true", help="report on the run in --out, search nothing")
    args = parser.parse_args(argv)
    if args.trials < 1:
        parser.error(f"--trials {args.trials}: give at least 1 candidate")
    if not (args.supernet / "supernet.json").is_file():
        parser.error(f"--supernet {args.supernet}: not a trained supernet folder (no supernet.json); train one with nas supernet train")
    if args.analyse_only and not (args.out / WALL_FILE).is_file():
        parser.error(f"--analyse-only: {args.out} holds no run of this bench (no {WALL_FILE})")
    if not args.analyse_only:
        run_search(args)
    report = summarise(args, json.loads((args.out / WALL_FILE).read_text()))
    print(f"{report['candidates_scored']} candidates scored from {args.supernet.name} in {report['search_minutes']:.1f} min on "
          f"{report['cores']} cores ({report['median_seconds_per_candidate']:.1f} s median per candidate, {report['candidates_per_minute']:.1f} "
          f"per minute): 500 take {report['minutes_for_500']:.1f} min, target <= {TARGET_MINUTES:.0f}: "
          f"{'met' if report['target']['met'] else 'missed'}; front {report['front_size']} trials", flush=True)
    from nas.io import atomic_write_text

    args.json.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.json, json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
