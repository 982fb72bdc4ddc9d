"""Benchmark: an int8 latency table of this machine against the machine's own repeatability.

    python bench/bench_int8.py [--space search_spaces/densepose_mobile.yaml] [--threads 1] [--samples 50]
                               [--no-fill] [--fp32-table DIR] [--trials CSV] [--json bench/reports/int8.json]

Steps, each kept under ``--cache`` (default ``.cache/bench_int8/<space>-...``) so an
interrupted run resumes where it stopped (the wall time of a step is the one of the run
that finished it):

1. ``nas profile --dtype int8 --fill`` of the space (every op quantized by the PT2E XNNPACK
   quantizer; ``--no-fill`` measures every op), wall-clocked.
2. ``nas latency validate`` of that table with 2 passes over ``--samples`` int8 whole
   networks: the share within ±10% and Spearman of the table's sums against the measured
   networks, and the second pass against the first (repeatability, the ceiling) in the same run.
3. The int8/fp32 speed ratio per op kind: the int8 table's measured ops against the same
   ops in fp32 on this machine (``nas profile --fill`` with the same design seed measures the
   same ops; ``--fp32-table`` takes an existing fp32 table of this machine instead).
4. Whether the int8 front differs from the fp32 front on the same trials: the finished
   search trials of a recorded run (``--trials``, default the random-search run of
   bench/inputs for the default space; a space without a recorded run gets seeded synthetic
   trials: sampled architectures with random AP) ranked by GPS AP against each table's latency.

Targets (issue 38): share within ±10% at most 5 points under the repeatability's, Spearman >= 0.98.

``--ops-per-kind N`` runs only a quick part of step 3: N ops of every kind of the space
(those nearest the kind's median cost in ``--fp32-table``, default the shipped table),
lowered in both dtypes and timed in one interleaved pass (both dtypes under the same
machine load), written to ``bench/reports/int8_kinds.json`` unless ``--json`` says otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPACE = ROOT / "search_spaces" / "densepose_mobile.yaml"
SHIPPED_FP32 = ROOT / "latency_tables" / "cpu-epyc-executorch-xnnpack-t1"  # an AMD EPYC table, as this VM
DEFAULT_TRIALS = ROOT / "bench" / "inputs" / "search_efficiency_runs" / "random-120-2000img-150steps.csv"
SYNTHETIC_TRIALS = 120  # architectures of a synthetic trials set (the recorded random run's count)


def _run(argv: list[str], env: dict[str, str]) -> tuple[str, float]:
    """Run a ``nas`` command from the repository root; its stdout and wall seconds."""
    print("$ nas", " ".join(argv), flush=True)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nas", *argv], env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"nas {argv[0]} failed ({done.returncode}); run the bench again to resume")
    return done.stdout, seconds


def _profile(args: argparse.Namespace, out: Path, dtype: str, env: dict[str, str]) -> list[str]:
    # no baselines: the networks validated and the trials compared are all of the space
    argv = ["profile", "--space", str(args.space), "--runtime", "executorch", "--threads", str(args.threads), "--dtype", dtype,
            "--workers", str(args.workers), "--seed", str(args.seed), "--baseline", "none", "--out", str(out)]
    return argv + ([] if args.no_fill else ["--fill"])


def _step(state: dict[str, Any], state_path: Path, name: str, action) -> Any:
    """Run ``action`` once: its result is kept in state.json, where a resumed run finds it."""
    if name not in state:
        state[name] = action()
        state_path.write_text(json.dumps(state, indent=2) + "\n")
    return state[name]


def _trials(args: argparse.Namespace, space) -> tuple[str, list[tuple[str, str, float]]]:
    """(source, [(trial, arch string, GPS AP)]) of the finished search trials compared."""
    import numpy as np

    if args.trials is not None or space.hash == _default_space_hash():
        path = (args.trials or DEFAULT_TRIALS).resolve()
        with open(path, newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r["kind"] == "search" and r["status"] == "finished" and r["gps_ap"]]
        return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path), [(r["trial"], r["arch"], float(r["gps_ap"])) for r in rows]
    rng = np.random.default_rng(args.seed)
    archs = list({a.to_string(): a for a in (space.sample(rng) for _ in range(SYNTHETIC_TRIALS))})
    aps = np.random.default_rng(args.seed + 1).uniform(0, 30, len(archs))
    return f"synthetic: {len(archs)} architectures sampled from {space.name} (seed {args.seed}), GPS AP uniform 0-30", \
        [(f"s{i:04d}", a, float(ap)) for i, (a, ap) in enumerate(zip(archs, aps))]


def _default_space_hash() -> str:
    from nas.space.search_space import SearchSpace

    return SearchSpace.from_yaml(DEFAULT_SPACE).hash


def _fronts(trials: list[tuple[str, str, float]], int8, fp32) -> dict[str, Any]:
    """The (GPS AP, latency) fronts of ``trials`` under each table, and how they differ."""
    from scipy.stats import spearmanr

    from nas.latency.keys import op_keys
    from nas.runs.front import front_indices
    from nas.space.spec import ArchSpec

    covered, uncovered = [], []
    for trial in trials:
        arch = ArchSpec.from_string(trial[1])
        keys = op_keys(arch, int8.rois)
        (uncovered if int8.missing(keys) or fp32.missing(keys) else covered).append((trial, arch))
    trials = [t for t, _ in covered]
    # plain sums on both sides: only the int8 table is validated here, so only it may hold a correction
    lat = {"int8": [int8.predict(a).sum_ms for _, a in covered], "fp32": [fp32.predict(a).sum_ms for _, a in covered]}
    fronts = {d: [trials[i][0] for i in front_indices([(t[2], ms) for t, ms in zip(trials, lat[d])])] for d in lat}
    both = set(fronts["int8"]) & set(fronts["fp32"])
    return {"trials": len(trials), "uncovered": [t[0] for t, _ in uncovered], "front_int8": fronts["int8"], "front_fp32": fronts["fp32"], "identical": fronts["int8"] == fronts["fp32"],
            "only_int8": sorted(set(fronts["int8"]) - both), "only_fp32": sorted(set(fronts["fp32"]) - both),
            "jaccard": len(both) / len(set(fronts["int8"]) | set(fronts["fp32"])),
            "latency_spearman_int8_vs_fp32": float(spearmanr(lat["int8"], lat["fp32"]).statistic)}


def kinds_sample(args: argparse.Namespace, space) -> None:
    """``--ops-per-kind``: see the module doc."""
    import statistics

    from nas.latency.compare import kind_ratios
    from nas.latency.keys import space_keys
    from nas.latency.opkinds import key_kind
    from nas.latency.programs import ProgramCache
    from nas.latency.runner import interleaved, load_executorch, set_threads
    from nas.latency.stats import summarize
    from nas.latency.table import LatencyTable

    reference = LatencyTable.load(args.fp32_table or SHIPPED_FP32)
    by_kind: dict[str, list[str]] = {}
    for key in space_keys(space):
        if key in reference:
            by_kind.setdefault(key_kind(key), []).append(key)
    chosen = []
    for keys in by_kind.values():
        median = statistics.median(reference.rows[k].median_ms for k in keys)
        chosen += sorted(keys, key=lambda k: (abs(reference.rows[k].median_ms / median - 1), k))[: args.ops_per_kind]
    root = (args.cache or ROOT / ".cache" / "bench_int8") / "programs"
    caches = {d: ProgramCache(root, d) for d in ("fp32", "int8")}
    start = time.perf_counter()
    for cache in caches.values():
        cache.build(chosen, workers=args.workers, desc=f"building {cache.dtype} programs")
    build_min = (time.perf_counter() - start) / 60
    set_threads(args.threads)
    timers = {f"{d}:{k}": load_executorch(str(c.path(k))) for d, c in caches.items() for k in chosen}
    samples = interleaved(timers, warmup=5, rounds=15, seed=args.seed, budget_ms=150.0)
    ms = {name: summarize(values).median_ms for name, values in samples.items()}
    ratios = kind_ratios({k: ms[f"int8:{k}"] for k in chosen}, {k: ms[f"fp32:{k}"] for k in chosen})
    print(f"{len(chosen)} ops of {space.name} ({args.ops_per_kind} a kind), built in {build_min:.1f} min, both dtypes timed interleaved")
    print(f"{'kind':<9}{'ops':>5}{'int8/fp32':>11}  op (fp32 ms -> int8 ms)")
    for kind, r in ratios.items():
        ops = [k for k in chosen if key_kind(k) == kind]
        print(f"{kind:<9}{r.ops:>5}{r.median:>11.2f}  " + "; ".join(f"{k} ({ms['fp32:' + k]:.3f} -> {ms['int8:' + k]:.3f})" for k in ops))
    report = {"command": "python bench/bench_int8.py " + " ".join(sys.argv[1:]), "space": {"path": str(args.space), "hash": space.hash},
              "threads": args.threads, "chosen_by": f"nearest the kind's median cost in {reference.path}", "build_min": build_min,
              "ops": {k: {"fp32_ms": ms[f"fp32:{k}"], "int8_ms": ms[f"int8:{k}"]} for k in chosen},
              "int8_over_fp32_by_kind": {k: r.to_dict() for k, r in ratios.items()}}
    out = args.json or ROOT / "bench" / "reports" / "int8_kinds.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"report: {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", type=Path, default=DEFAULT_SPACE)
    parser.add_argument("--threads", type=int, default=1, help="timing threads (1: a phone's single big core)")
    parser.add_argument("--workers", type=int, default=2, help="processes lowering programs")
    parser.add_argument("--samples", type=int, default=50, help="int8 whole networks validated (2 passes)")
    parser.add_argument("--seed", type=int, default=0, help="--fill design, validation sample and synthetic trials")
    parser.add_argument("--no-fill", action="store_true", help="measure every op of both tables instead of --fill's share")
    parser.add_argument("--fp32-table", type=Path, help="an fp32 table of this machine and space instead of a fresh fp32 --fill pass")
    parser.add_argument("--trials", type=Path, help="trials.csv of a recorded run on --space (default: bench/inputs' random run on the default space)")
    parser.add_argument("--cache", type=Path, help="working folder (default .cache/bench_int8/<space>-t<threads>)")
    parser.add_argument("--ops-per-kind", type=int, help="only the quick per-kind int8/fp32 ratio on N ops a kind (see the module doc)")
    parser.add_argument("--json", type=Path, help="the report (default bench/reports/int8.json, int8_kinds.json with --ops-per-kind)")
    args = parser.parse_args()

    from nas.latency.compare import table_ratios
    from nas.latency.table import LatencyTable
    from nas.space.search_space import SearchSpace

    space = SearchSpace.from_yaml(args.space)
    if args.ops_per_kind:
        kinds_sample(args, space)
        return
    args.json = args.json or ROOT / "bench" / "reports" / "int8.json"
    cache = args.cache or ROOT / ".cache" / "bench_int8" / f"{space.name}-{space.hash}-t{args.threads}-seed{args.seed}{'-nofill' if args.no_fill else ''}"
    cache.mkdir(parents=True, exist_ok=True)
    state_path = cache / "state.json"
    state: dict[str, Any] = json.loads(state_path.read_text()) if state_path.is_file() else {}
    # programs of both dtypes in the bench's own cache: a cold build is part of the figure
    env = {**os.environ, "NAS_CACHE": str(cache.parent), "PYTHONWARNINGS": "ignore"}  # programs in .cache/bench_int8/programs
    int8_dir, fp32_dir, validation_dir = cache / "int8", args.fp32_table or cache / "fp32", cache / f"validation-{args.samples}"

    def profile_int8() -> dict[str, Any]:
        stdout, seconds = _run(_profile(args, int8_dir, "int8", env), env)
        return {"minutes": seconds / 60, "output": stdout.strip().splitlines()[-3:]}

    profiled = _step(state, state_path, "int8_profile", profile_int8)
    int8 = LatencyTable.load(int8_dir)
    print(f"int8 table: {len(int8)} ops measured, {len(int8.fitted)} fitted, built and timed in {profiled['minutes']:.1f} min "
          f"({int8.meta.get('quantization')})", flush=True)

    def validate() -> dict[str, Any]:
        stdout, seconds = _run(["latency", "validate", "--table", str(int8_dir), "--samples", str(args.samples), "--seed", str(args.seed),
                                "--passes", "2", "--workers", str(args.workers), "--report-dir", str(validation_dir), "--json"], env)
        return {"minutes": seconds / 60, **{k: v for k, v in json.loads(stdout).items() if k in ("samples", "dtype", "plain_sum", "heldout", "predicted",
                                                                                                   "repeatability", "raw_measured", "correction")}}

    checked = _step(state, state_path, f"validation-{args.samples}", validate)
    plain, corrected, ceiling = checked["plain_sum"], checked["heldout"]["corrected"], checked["repeatability"]
    # scored as the table predicts: with its correction when validation kept one (on the
    # held-out half, which the correction was not fitted on), else its plain sums
    scored_as = "corrected, held-out half" if checked["correction"]["kept"] else "plain sums"
    scored = corrected if checked["correction"]["kept"] else plain
    meets = scored["within_10"] >= ceiling["within_10"] - 0.05 and scored["spearman"] >= 0.98
    print(f"{checked['samples']} int8 networks measured end to end ({checked['minutes']:.1f} min): plain sums within ±10% "
          f"{plain['within_10']:.0%}, Spearman {plain['spearman']:.3f} (MAPE {plain['mape']:.1f}%); corrected, held-out half: within ±10% "
          f"{corrected['within_10']:.0%}, Spearman {corrected['spearman']:.3f} (MAPE {corrected['mape']:.1f}%, correction "
          f"{'kept' if checked['correction']['kept'] else 'not kept'}); repeatability (pass 2 vs pass 1): within ±10% {ceiling['within_10']:.0%}, "
          f"Spearman {ceiling['spearman']:.3f}; target (within 5 points of the repeatability, Spearman >= 0.98) on the {scored_as}: "
          f"{'met' if meets else 'not met'}", flush=True)

    if args.fp32_table is None:
        def profile_fp32() -> dict[str, Any]:
            stdout, seconds = _run(_profile(args, fp32_dir, "fp32", env), env)
            return {"minutes": seconds / 60, "output": stdout.strip().splitlines()[-3:]}

        fp32_profiled = _step(state, state_path, "fp32_profile", profile_fp32)
        print(f"fp32 pass over the same design: {fp32_profiled['minutes']:.1f} min", flush=True)
    fp32 = LatencyTable.load(fp32_dir)
    if fp32.meta.get("dtype", "fp32") != "fp32":
        raise SystemExit(f"--fp32-table {fp32_dir} holds {fp32.meta['dtype']} latencies")
    ratios = table_ratios(int8, fp32)
    print(f"{'kind':<9}{'ops':>6}{'int8/fp32 median':>18}{'p10':>7}{'p90':>7}{'sum ratio':>11}")
    for kind, r in ratios.items():
        print(f"{kind:<9}{r.ops:>6}{r.median:>18.2f}{r.p10:>7.2f}{r.p90:>7.2f}{r.total:>11.2f}")

    source, trials = _trials(args, space)
    fronts = _fronts(trials, int8, fp32)
    print(f"fronts of {fronts['trials']} finished trials ({source}): int8 {len(fronts['front_int8'])} trials, fp32 {len(fronts['front_fp32'])}; "
          f"{'identical' if fronts['identical'] else 'different'} (Jaccard {fronts['jaccard']:.2f}; only int8: {', '.join(fronts['only_int8']) or '-'}; "
          f"only fp32: {', '.join(fronts['only_fp32']) or '-'}); latency ranks int8 vs fp32 Spearman {fronts['latency_spearman_int8_vs_fp32']:.3f}", flush=True)

    report = {
        "command": "python bench/bench_int8.py " + " ".join(sys.argv[1:]),
        "machine": int8.meta.get("cpu_model"), "device_fingerprint": int8.meta.get("device_fingerprint"),
        "space": {"path": str(args.space), "name": space.name, "hash": space.hash}, "threads": args.threads, "workers": args.workers,
        "fill": not args.no_fill, "quantization": int8.meta.get("quantization"),
        "int8_table": {"measured_ops": len(int8), "fitted_ops": len(int8.fitted), "profile_min": profiled["minutes"], "fill": int8.meta.get("fill")},
        "validation": checked, "target": {"scored_as": scored_as, "within_10_floor": ceiling["within_10"] - 0.05, "spearman_floor": 0.98, "met": meets},
        "fp32_table": {"path": str(fp32_dir), "measured_ops": len(fp32), "profile_min": state.get("fp32_profile", {}).get("minutes")},
        "int8_over_fp32_by_kind": {k: r.to_dict() for k, r in ratios.items()},
        "fronts": {"source": source, **fronts},
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"report: {args.json}")


if __name__ == "__main__":
    main()
