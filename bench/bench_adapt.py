"""Benchmark: a new device's table adapted from another device's complete table (``nas profile --adapt-from``).

    python bench/bench_adapt.py [--space search_spaces/densepose_mobile.yaml] [--sources T ...] [--budgets 1 2 5 10]
                                [--samples 50] [--workers 2] [--cache .cache/bench-adapt] [--json bench/reports/adapt.json]
    python bench/bench_adapt.py --space tests/latency/tiny_space.yaml --synthetic-source --budgets 0.1 0.3 --samples 6   # smoke
    python bench/bench_adapt.py --simulate [--json bench/reports/adapt_simulate.json]   # seconds, any machine

On this machine (one thread, executorch), all in one run, each step kept under --cache so
that a killed run goes on where it stopped:

1. ``fill/``: a cold ``nas profile --fill`` of the space and ``nas latency validate`` of it
   over --samples networks measured end to end in two passes (``bench/bench_fill.py cold``): the
   accuracy and cost to beat, and the machine's repeatability (the second pass against
   the first). A run killed in this step starts it again (its timing is cold).
2. ``measured/``: one ``nas profile --adapt-from`` of the first source with the largest
   budget, from an empty program cache; its table starts with the fill table's reference
   rows, so that its rows and the validation's measurements share one nominal machine
   speed (:mod:`nas.latency.speed`). meta.json logs the ops measured after each chunk and
   the minutes spent building and measuring by then, and the calibration networks the
   run measured whole after its first chunk (:func:`nas.latency.adapt.calibration_archs`).
3. Per source and budget: the ops measured within that many minutes (the log's prefix of
   the design), the rest adapted from the source (:func:`nas.latency.adapt.fit_transform`),
   and the plain sums of the validated networks scored against their measurements (share
   within ±10%, Spearman, MAPE), and the same sums calibrated as the adapted table's
   meta.json is (the correction fitted on the calibration networks, once they are measured
   within the budget), beside the source's rows as they are (budget 0), the cold
   ``--fill`` table (plain, and calibrated on the same networks) and the repeatability. Every source is scored on the first source's
   design (the others would order their ops a little differently: the designs rank ops by
   each source's rows, which machines rank alike).

--simulate (no measuring): between the shipped tables, the target's rows of the first
N ops of the source's design stand for the new device's measurements (N = --ops), the
rest are adapted, and the sums are scored against the networks the target's validation
measured end to end (validation.json), beside the target's complete table. It shows
what the model can do with N measured ops; the minutes those ops take are the measured
run's.

--synthetic-source: the source is a synthetic table of --space (the shipped tables hold the
default space only): for a smoke test of the pipeline, not for its figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPACE = ROOT / "search_spaces" / "densepose_mobile.yaml"
SHIPPED = [ROOT / "latency_tables" / name for name in ("cpu-executorch-xnnpack-t1", "cpu-epyc-executorch-xnnpack-t1", "cpu-epyc-zen1-executorch-xnnpack-t1")]


def cold_fill(args: argparse.Namespace, folder: Path) -> dict[str, object]:
    """Step 1 (see the module doc): ``bench/bench_fill.py cold`` kept in ``folder``, once."""
    done = folder / "report.json"
    if done.is_file():
        return json.loads(done.read_text())
    if folder.exists():
        print(f"{folder} holds a cold --fill run that did not finish: starting it again (its timing must be cold)", flush=True)
        shutil.rmtree(folder)
    argv = [sys.executable, str(ROOT / "bench" / "bench_fill.py"), "cold", "--space", str(args.space), "--samples", str(args.samples),
            "--workers", str(args.workers), "--keep", str(folder), "--json", str(done)]
    if subprocess.run(argv, cwd=ROOT, check=False).returncode != 0 or not done.is_file():
        raise SystemExit("bench/bench_fill.py cold failed")
    return json.loads(done.read_text())


def measure_design(args: argparse.Namespace, source: Path, fill_table: Path, folder: Path) -> dict[str, object]:
    """Step 2: ``nas profile --adapt-from source`` with the largest budget into ``folder/table``
    (seeded with the fill table's reference rows), resumed until its budget is spent."""
    from nas.latency.table import LatencyTable

    table_dir = folder / "table"
    if not (table_dir / "meta.json").is_file():
        fill = LatencyTable.load(fill_table)
        refs = fill.meta["speed_reference"]["keys"]
        meta = {k: v for k, v in fill.meta.items() if k not in ("fill", "correction")}
        seeded = LatencyTable(table_dir, meta, {r: fill.rows[r] for r in refs})
        seeded.save()
    env = {**os.environ, "NAS_CACHE": str(folder / "cache"), "PYTHONWARNINGS": "ignore"}
    argv = [sys.executable, "-m", "nas", "profile", "--space", str(args.space), "--runtime", "executorch", "--threads", "1",
            "--adapt-from", str(source), "--budget-minutes", str(max(args.budgets)), "--workers", str(args.workers), "--out", str(table_dir)]
    print("$", " ".join(argv[2:]), flush=True)
    start = time.perf_counter()
    if subprocess.run(argv, env=env, cwd=ROOT, check=False).returncode != 0:
        raise SystemExit("nas profile --adapt-from failed")
    print(f"adaptation measuring run: {(time.perf_counter() - start) / 60:.1f} min of wall time (reading the keys and fitting included)", flush=True)
    meta = json.loads((table_dir / "meta.json").read_text())
    return {"chunks": meta["fill"]["chunks"] if "fill" in meta else [], "table": str(table_dir)}


def _prefixes(chunks: list[dict[str, float]], budgets: list[float]) -> dict[float, dict[str, float]]:
    """Per budget (minutes), the last chunk finished within it (its ops and minutes spent)."""
    out: dict[float, dict[str, float]] = {}
    for budget in budgets:
        within = [c for c in chunks if c["spent_s"] <= 60 * budget]
        last = within[-1] if within else {"ops": 0, "spent_s": 0.0}
        build = sum(c["build_s"] for c in within)
        out[budget] = {"ops": int(last["ops"]), "spent_min": last["spent_s"] / 60, "build_min": build / 60,
                       "measure_min": sum(c["measure_s"] for c in within) / 60}
    return out


def score(args: argparse.Namespace, sources: list[Path], design_source: Path, measured_dir: Path, chunks: list[dict[str, float]],
          validation: dict[str, object], fill_table: Path) -> dict[str, object]:
    """Step 3 (see the module doc)."""
    from nas.latency.adapt import adapt_design, fit_transform
    from nas.latency.usage import op_usage
    from nas.latency.keys import op_keys
    from nas.latency.table import LatencyTable
    from nas.latency.validate import Correction, fit_correction, kind_sums_of, metrics
    from nas.space.search_space import SearchSpace
    from nas.space.spec import ArchSpec

    measured_table = LatencyTable.load(measured_dir)
    keys = sorted(set(measured_table.rows) | set(measured_table.fitted))
    refs = list(measured_table.meta.get("speed_reference", {}).get("keys", []))
    design_rows = LatencyTable.load(design_source).rows
    design_ms = {k: design_rows[k].median_ms for k in keys}
    order = list(dict.fromkeys([*refs, *adapt_design(design_ms, op_usage(SearchSpace.from_yaml(args.space), measured_table.rois))]))
    rows = validation["rows"]
    networks = [op_keys(ArchSpec.from_string(r["arch"]), measured_table.rois) for r in rows]
    truth = [float(r["measured_ms"]) for r in rows]
    prefixes = _prefixes(chunks, args.budgets)
    calibration = measured_table.meta.get("fill", {}).get("networks", [])
    calibration_keys = [op_keys(ArchSpec.from_string(n["arch"]), measured_table.rois) for n in calibration]
    calibration_ms = [float(n["measured_ms"]) for n in calibration]
    network_spent = next((c["spent_s"] for c in chunks if "networks" in c), math.inf)

    def calibrated(table: dict[str, float]) -> dict[str, float]:
        """The sums of ``table`` corrected as the adapted table's meta.json is (fitted on the
        calibration networks), scored on the validated networks."""
        fit = Correction(**fit_correction([kind_sums_of((k, table[k]) for k in ks) for ks in calibration_keys], calibration_ms), kept=True)
        return metrics([fit.apply(kind_sums_of((k, table[k]) for k in ks)) for ks in networks], truth).to_dict()

    curves: dict[str, list[dict[str, object]]] = {}
    for source_path in sources:
        source_rows = LatencyTable.load(source_path).rows
        source = {k: source_rows[k].median_ms for k in keys}
        curve = [{"budget_min": 0, "ops": 0, **metrics([sum(source[k] for k in ks) for ks in networks], truth).to_dict()}]
        for budget, prefix in prefixes.items():
            if prefix["ops"] == 0:
                curve.append({"budget_min": budget, "ops": 0, "note": "no chunk finished within the budget"})
                continue
            measured = {k: measured_table.rows[k].median_ms for k in order[: prefix["ops"]]}
            fit = fit_transform(source, measured)
            table = {**fit.rows, **measured}
            point = {"budget_min": budget, **prefix, **metrics([sum(table[k] for k in ks) for ks in networks], truth).to_dict()}
            if calibration and network_spent <= 60 * budget:
                point["calibrated"] = {"networks": len(calibration), **calibrated(table)}
            curve.append(point)
        curves[str(source_path)] = curve
    fill_rows = LatencyTable.load(fill_table)
    fill_all = {k: fill_rows.rows[k].median_ms if k in fill_rows.rows else fill_rows.fitted[k] for k in keys}
    return {"curves": curves, "fill_calibrated": {"networks": len(calibration), **calibrated(fill_all)} if calibration else None}


def plot(report: dict[str, object], path: Path) -> None:
    """Share within ±10% and Spearman against minutes measured, per source (plain sums
    dashed, calibrated solid), beside the cold --fill table and the repeatability."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (share, rank) = plt.subplots(1, 2, figsize=(11, 4.4), dpi=110)
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]
    for colour, (source, curve) in zip(colours, report["adapted"].items()):
        name = Path(source).name.removesuffix("-executorch-xnnpack-t1").removeprefix("cpu-")
        name = {"cpu": "xeon"}.get(name, name)  # the Intel table's folder names no family
        points = [p for p in curve if "within_10" in p]
        minutes = [p["budget_min"] for p in points]
        share.plot(minutes, [100 * p["within_10"] for p in points], "--", color=colour, alpha=0.6, marker="o", markersize=3, label=f"from {name}, plain sums")
        rank.plot(minutes, [p["spearman"] for p in points], "--", color=colour, alpha=0.6, marker="o", markersize=3)
        cal = [p for p in points if "calibrated" in p]
        if cal:
            share.plot([p["budget_min"] for p in cal], [100 * p["calibrated"]["within_10"] for p in cal], "-", color=colour, marker="o",
                       label=f"from {name}, calibrated ({cal[0]['calibrated']['networks']} networks)")
            rank.plot([p["budget_min"] for p in cal], [p["calibrated"]["spearman"] for p in cal], "-", color=colour, marker="o")
    fill, repeat = report["cold_fill"], report["repeatability"]
    for ax, key, scale in ((share, "within_10", 100), (rank, "spearman", 1)):
        ax.axhline(scale * repeat[key], color="black", linewidth=1, label="machine repeats itself (pass 2 vs 1)" if ax is share else None)
        ax.axhline(scale * fill["plain_sum"][key], color="grey", linestyle=":", linewidth=1.5,
                   label=f"cold --fill table ({fill['profile_min']:.0f} min)" if ax is share else None)
        ax.axvline(5, color="grey", alpha=0.3)
        ax.set_xlabel("minutes of building and measuring on the new device")
        ax.grid(alpha=0.3)
    share.axhline(100 * fill["plain_sum"]["within_10"] - 5, color="grey", linestyle=":", linewidth=0.8, alpha=0.6)
    share.set_ylabel(f"share of {report['samples']} networks within ±10% (%)")
    share.set_ylim(0, 100)
    rank.set_ylabel("Spearman (predicted vs measured)")
    rank.set_ylim(0.9, 1.0)
    share.legend(fontsize=7, loc="lower right")
    fig.suptitle("nas profile --adapt-from: accuracy against minutes measured (dotted: cold --fill and 5 points below it)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def simulate(args: argparse.Namespace) -> dict[str, object]:
    """--simulate (see the module doc)."""
    from nas.latency.adapt import adapt_design, fit_transform
    from nas.latency.usage import op_usage
    from nas.latency.keys import op_keys
    from nas.latency.table import LatencyTable
    from nas.latency.validate import metrics
    from nas.space.search_space import SearchSpace
    from nas.space.spec import ArchSpec

    usage = op_usage(SearchSpace.from_yaml(args.space), 10)
    rows = {str(t): {k: r.median_ms for k, r in LatencyTable.load(t).rows.items()} for t in args.sources}
    pairs: list[dict[str, object]] = []
    for target in args.sources:
        if not (target / "validation.json").is_file():
            continue
        validation = json.loads((target / "validation.json").read_text())["rows"]
        networks = [op_keys(ArchSpec.from_string(v["arch"]), 10) for v in validation]
        truth = [float(v["measured_ms"]) for v in validation]
        new = rows[str(target)]
        complete = metrics([sum(new[k] for k in ks) for ks in networks], truth).to_dict()
        print(f"{target.name}: its own complete table: within ±10% {complete['within_10']:.0%}, Spearman {complete['spearman']:.3f}, MAPE {complete['mape']:.1f}%")
        for source in args.sources:
            if source == target:
                continue
            old = {k: rows[str(source)][k] for k in new}
            design = adapt_design(old, usage)
            curve = [{"ops": 0, **metrics([sum(old[k] for k in ks) for ks in networks], truth).to_dict()}]
            for n in args.ops:
                fit = fit_transform(old, {k: new[k] for k in design[:n]})
                table = {**fit.rows, **{k: new[k] for k in design[:n]}}
                errors = sorted(abs(fit.rows[k] / new[k] - 1) for k in fit.rows)
                curve.append({"ops": n, "row_error_median": errors[len(errors) // 2], **metrics([sum(table[k] for k in ks) for ks in networks], truth).to_dict()})
            for point in curve:
                print(f"  from {source.name}, {point['ops']:>4} ops measured: within ±10% {point['within_10']:.0%}, Spearman {point['spearman']:.3f}, "
                      f"MAPE {point['mape']:.1f}%" + (f", adapted rows' median error {point['row_error_median']:.1%}" if point["ops"] else " (the source as it is)"))
            pairs.append({"source": str(source), "target": str(target), "target_complete": complete, "curve": curve})
    return {"command": " ".join(sys.argv), "networks_per_target": "the target's validation.json (50)", "pairs": pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", type=Path, default=DEFAULT_SPACE)
    parser.add_argument("--sources", type=Path, nargs="+", default=SHIPPED, help="complete tables of --space (default: the three shipped ones)")
    parser.add_argument("--synthetic-source", action="store_true", help="one synthetic table of --space as the source (smoke tests)")
    parser.add_argument("--budgets", type=float, nargs="+", default=[1.0, 2.0, 5.0, 10.0], help="minutes of building and measuring")
    parser.add_argument("--samples", type=int, default=50, help="networks measured end to end")
    parser.add_argument("--workers", type=int, default=2, help="processes lowering programs")
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "bench-adapt", help="where each step's results are kept")
    parser.add_argument("--simulate", action="store_true", help="no measuring: between the shipped tables (see the module doc)")
    parser.add_argument("--ops", type=int, nargs="+", default=[30, 60, 100, 150, 300, 600], help="--simulate: ops measured")
    parser.add_argument("--json", type=Path, help="the report (default bench/reports/adapt.json, or adapt_simulate.json with --simulate)")
    parser.add_argument("--replot", action="store_true", help="only draw the report's PNG again from its JSON")
    args = parser.parse_args()
    if args.replot:
        report_path = args.json or ROOT / "bench" / "reports" / "adapt.json"
        plot(json.loads(report_path.read_text()), report_path.with_suffix(".png"))
        print(f"plot: {report_path.with_suffix('.png')}")
        return
    if args.simulate:
        report = simulate(args)
        out = args.json or ROOT / "bench" / "reports" / "adapt_simulate.json"
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"report: {out}")
        return
    args.json = args.json or ROOT / "bench" / "reports" / "adapt.json"
    args.budgets = sorted(set(args.budgets))
    args.cache.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    sources = args.sources
    if args.synthetic_source:
        from nas.latency.synthetic import write_synthetic_table

        sources = [args.cache / "synthetic-source"]
        if not (sources[0] / "table.csv").is_file():
            write_synthetic_table(sources[0], args.space)
    fill = cold_fill(args, args.cache / "fill")
    validation = json.loads((args.cache / "fill" / "validation" / "validation.json").read_text())
    measured = measure_design(args, sources[0], args.cache / "fill" / "table", args.cache / "measured")
    scored = score(args, sources, sources[0], Path(measured["table"]), measured["chunks"], validation, args.cache / "fill" / "table")
    curves = scored["curves"]
    repeat, filled = validation["repeatability"], validation["plain_sum"]
    print(f"\n{len(validation['rows'])} networks measured end to end on this machine; it repeats itself (pass 2 vs pass 1) within ±10% for "
          f"{repeat['within_10']:.0%} (Spearman {repeat['spearman']:.3f}); a cold --fill table ({fill['profile_min']:.1f} min, "
          f"{fill['measured_ops']} ops measured) puts {filled['within_10']:.0%} within ±10% (Spearman {filled['spearman']:.3f}, MAPE {filled['mape']:.1f}%)")
    if (fill_cal := scored["fill_calibrated"]) is not None:
        print(f"the cold --fill table calibrated on the adaptation's {fill_cal['networks']} networks: {fill_cal['within_10']:.0%} within ±10% "
              f"(Spearman {fill_cal['spearman']:.3f}, MAPE {fill_cal['mape']:.1f}%)")
    print(f"{'source':<40} {'budget':>7} {'ops':>5} {'build':>6} {'measure':>7} {'±10%':>5} {'Spearman':>8} {'MAPE':>6}   calibrated: {'±10%':>5} {'Spearman':>8} {'MAPE':>6}")
    for source, curve in curves.items():
        for point in curve:
            if "within_10" not in point:
                print(f"{Path(source).name:<40} {point['budget_min']:>6}m {'-':>5}   {point['note']}")
                continue
            cal = point.get("calibrated")
            print(f"{Path(source).name:<40} {point['budget_min']:>6}m {point['ops']:>5} {point.get('build_min', 0):>5.1f}m {point.get('measure_min', 0):>6.1f}m "
                  f"{point['within_10']:>5.0%} {point['spearman']:>8.3f} {point['mape']:>5.1f}%"
                  + (f"   {'':>11} {cal['within_10']:>5.0%} {cal['spearman']:>8.3f} {cal['mape']:>5.1f}%" if cal else ""))
    report = {"command": " ".join(sys.argv), "space": str(args.space), "samples": len(validation["rows"]), "budgets_min": args.budgets,
              "design_source": str(sources[0]), "repeatability": repeat, "cold_fill": {"profile_min": fill["profile_min"], "measured_ops": fill["measured_ops"],
              "fitted_ops": fill["fitted_ops"], "plain_sum": filled, "calibrated": scored["fill_calibrated"]}, "adapted": curves, "chunks": measured["chunks"],
              "wall_min_this_run": (time.perf_counter() - start) / 60}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    plot(report, args.json.with_suffix(".png"))
    print(f"report: {args.json} and {args.json.with_suffix('.png')}")


if __name__ == "__main__":
    main()
