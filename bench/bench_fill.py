"""Benchmark: a whole-space latency table from a measured share of its ops (``nas profile --fill``).

    python bench/bench_fill.py simulate [--table latency_tables/cpu-epyc-zen1-executorch-xnnpack-t1] [--seeds 5]
    python bench/bench_fill.py cold [--space search_spaces/densepose_mobile.yaml] [--samples 50] [--json F]

* ``simulate`` (minutes, any machine): on a table whose every op was measured and whose
  validation report holds end-to-end measurements (the shipped zen1 table), keep only the
  ops ``--fill``'s design would measure, fit the others as ``--fill`` does, and compare
  the filled table's plain sums for the validation's architectures with their measured
  latency, side by side with the complete table's sums; one line per design seed, then
  the medians. What it cannot show is the cost: the table's rows were measured already.
* ``cold`` (about half an hour, an otherwise idle machine): ``nas profile --fill`` of the
  whole space into a new table with an empty program cache, wall-clocked (lowering,
  timing and fitting: issue 4's "cold" figure), then ``nas latency validate`` of that
  table on this machine (its own minutes are not part of the profile's). With
  ``--measure-sampled`` it then measures every op of the validated networks
  (``nas profile --samples N``) and runs ``compare``.
* ``compare --keep DIR``: on a kept cold run whose validated networks' ops are all
  measured now, the networks' sums over the filled table against their sums over
  measured rows only and against their end-to-end latency: how much of the validation's
  error is the fit's, and how much the device's (sums vs whole networks, repeatability).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TABLE = ROOT / "latency_tables" / "cpu-epyc-zen1-executorch-xnnpack-t1"
DEFAULT_SPACE = ROOT / "search_spaces" / "densepose_mobile.yaml"


def _accuracy(predicted: list[float], measured: list[float]) -> dict[str, float]:
    from scipy.stats import spearmanr

    errors = [p / m - 1 for p, m in zip(predicted, measured)]
    return {"within_10": sum(abs(e) <= 0.10 for e in errors) / len(errors), "within_5": sum(abs(e) <= 0.05 for e in errors) / len(errors),
            "mape": 100 * statistics.fmean(abs(e) for e in errors), "spearman": float(spearmanr(predicted, measured).statistic)}


def simulate(args: argparse.Namespace) -> dict[str, object]:
    from nas.latency.fill import features_of, fill_design, fit_rows, fitted_kinds
    from nas.latency.keys import op_keys
    from nas.latency.opkinds import key_kind
    from nas.latency.table import LatencyTable
    from nas.space.spec import ArchSpec

    table = LatencyTable.load(args.table)
    validation = json.loads((Path(args.table) / "validation.json").read_text())["rows"]
    rows = {k: r.median_ms for k, r in table.rows.items()}
    keys = sorted(rows)
    archs = [(op_keys(ArchSpec.from_string(v["arch"]), table.rois), float(v["measured_ms"])) for v in validation]
    measured_ms = [m for _, m in archs]
    complete_sums = [sum(rows[k] for k in ks) for ks, _ in archs]
    complete = _accuracy(complete_sums, measured_ms)
    features = features_of([k for k in keys if key_kind(k) in fitted_kinds(keys, args.whole_kinds)])
    draws = []
    for seed in range(args.seeds):
        design = fill_design(keys, features, args.share, args.cover, args.whole_kinds, seed)
        kept = {k: rows[k] for k in design}
        fit = fit_rows(kept, keys, features, seed)
        filled = {**fit.rows, **kept}
        sums = [sum(filled[k] for k in ks) for ks, _ in archs]
        vs_complete = [abs(s / c - 1) for s, c in zip(sums, complete_sums)]
        draw = {"seed": seed, "measured_ops": len(kept), "fitted_ops": len(fit.rows), "unfitted_ops": len(fit.unfitted),
                "filled": _accuracy(sums, measured_ms), "sum_vs_complete_median": statistics.median(vs_complete), "sum_vs_complete_max": max(vs_complete),
                "fitted_rows_error_median": statistics.median(abs(fit.rows[k] / rows[k] - 1) for k in fit.rows),
                "kinds": fit.kinds}
        draws.append(draw)
        f = draw["filled"]
        print(f"seed {seed}: {len(kept)} of {len(keys)} ops measured ({len(kept) / len(keys):.1%}); fitted rows' median error "
              f"{draw['fitted_rows_error_median']:.1%}; {len(archs)} networks within ±10%: {f['within_10']:.0%} (complete table {complete['within_10']:.0%}), "
              f"MAPE {f['mape']:.1f}% ({complete['mape']:.1f}%), Spearman {f['spearman']:.3f} ({complete['spearman']:.3f}); sums vs the complete "
              f"table's: median {draw['sum_vs_complete_median']:.1%}, max {draw['sum_vs_complete_max']:.1%}", flush=True)
    medians = {name: statistics.median(d["filled"][name] for d in draws) for name in ("within_10", "within_5", "mape", "spearman")}
    share = statistics.median(d["measured_ops"] for d in draws) / len(keys)
    print(f"median over {len(draws)} designs: {share:.1%} of the ops measured; within ±10% {medians['within_10']:.0%} "
          f"(complete {complete['within_10']:.0%}), MAPE {medians['mape']:.1f}% ({complete['mape']:.1f}%), Spearman {medians['spearman']:.3f}")
    return {"table": str(args.table), "ops": len(keys), "networks": len(archs), "settings": {"share": args.share, "cover": args.cover, "whole_kinds": args.whole_kinds},
            "complete_table": complete, "filled_median": medians, "measured_share_median": share, "draws": draws}


def cold(args: argparse.Namespace) -> dict[str, object]:
    if args.keep and args.keep.exists():
        raise SystemExit(f"--keep {args.keep} exists: a cold profile needs a new folder")
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or Path(scratch)
        out = Path(tmp) / "table"
        env = {**os.environ, "NAS_CACHE": str(Path(tmp) / "cache"), "PYTHONWARNINGS": "ignore"}
        argv = [sys.executable, "-m", "nas", "profile", "--space", str(args.space), "--runtime", "executorch", "--threads", "1",
                "--fill", "--fill-share", str(args.share), "--fill-cover", str(args.cover), "--fill-whole-kinds", str(args.whole_kinds),
                "--workers", str(args.workers), "--out", str(out)]
        print("$", " ".join(argv[2:]), flush=True)
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE, check=False)
        profile_s = time.perf_counter() - start
        print(done.stdout, flush=True)
        if done.returncode != 0:
            raise SystemExit(f"nas profile --fill failed ({done.returncode})")
        meta = json.loads((out / "meta.json").read_text())
        measured = len((out / "table.csv").read_text().splitlines()) - 1
        fitted = len((out / "fitted.csv").read_text().splitlines()) - 1 if (out / "fitted.csv").is_file() else 0  # a small space: all measured
        print(f"cold --fill profile: {profile_s / 60:.1f} min for {measured} measured + {fitted} fitted ops (target: under 30 min)", flush=True)
        report: dict[str, object] = {"space": str(args.space), "profile_min": profile_s / 60, "measured_ops": measured, "fitted_ops": fitted,
                                     "fill": meta.get("fill"), "workers": args.workers, "meets_target": profile_s < 30 * 60}
        if args.samples:
            validate = [sys.executable, "-m", "nas", "latency", "validate", "--table", str(out), "--samples", str(args.samples), "--json",
                        "--report-dir", str(Path(tmp) / "validation")]
            start = time.perf_counter()
            checked = subprocess.run(validate, env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE, check=False)
            if checked.returncode != 0:
                raise SystemExit(f"nas latency validate failed ({checked.returncode})")
            result = json.loads(checked.stdout)
            report["validation"] = {k: result[k] for k in ("samples", "plain_sum", "heldout", "repeatability", "raw_measured", "fitted_ops", "measured_ops") if k in result}
            report["validation_min"] = (time.perf_counter() - start) / 60
            plain = result["plain_sum"]
            print(f"validation ({args.samples} networks, measured end to end here): plain sums within ±10% {plain['within_10']:.0%}, "
                  f"MAPE {plain['mape']:.1f}%, Spearman {plain['spearman']:.3f}", flush=True)
            if args.measure_sampled:
                sample = [sys.executable, "-m", "nas", "profile", "--space", str(args.space), "--runtime", "executorch", "--threads", "1",
                          "--samples", str(args.samples), "--workers", str(args.workers), "--out", str(out)]
                if subprocess.run(sample, env=env, cwd=ROOT, check=False).returncode != 0:
                    raise SystemExit("nas profile --samples failed")
                report["compare"] = compare_kept(Path(tmp))
        return report


def compare_kept(folder: Path) -> dict[str, object]:
    """See ``compare`` in the module doc; ``folder`` as ``cold --keep`` left it."""
    from nas.latency.keys import op_keys
    from nas.latency.table import LatencyTable
    from nas.space.spec import ArchSpec

    if not (folder / "validation" / "validation.json").is_file() or not (folder / "table").is_dir():
        raise SystemExit(f"{folder}: no table/ and validation/validation.json; give the folder of a `cold --keep DIR` run")
    table = LatencyTable.load(folder / "table")
    validation = json.loads((folder / "validation" / "validation.json").read_text())
    filled, measured, e2e = [], [], []
    for row in validation["rows"]:
        keys = op_keys(ArchSpec.from_string(row["arch"]), table.rois)
        unmeasured = [k for k in keys if k not in table]
        if unmeasured:
            raise SystemExit(f"{len(unmeasured)} ops of {row['id']} are not measured yet: run nas profile --samples {validation['samples']} on {folder / 'table'}")
        filled.append(float(row["sum_ms"]))
        measured.append(sum(table.rows[k].median_ms for k in keys))
        e2e.append(float(row["measured_ms"]))
    fit_error = [f / m - 1 for f, m in zip(filled, measured)]
    report = {"networks": len(e2e), "filled_vs_measured_sums": {"median_abs": statistics.median(abs(e) for e in fit_error), "max_abs": max(abs(e) for e in fit_error),
                                                                  "mean_signed": statistics.fmean(fit_error), "within_5": sum(abs(e) <= 0.05 for e in fit_error) / len(e2e),
                                                                  "within_10": sum(abs(e) <= 0.10 for e in fit_error) / len(e2e)},
              "filled_vs_end_to_end": _accuracy(filled, e2e), "measured_vs_end_to_end": _accuracy(measured, e2e), "repeatability": validation.get("repeatability")}
    f, m = report["filled_vs_end_to_end"], report["measured_vs_end_to_end"]
    print(f"{len(e2e)} networks: filled sums vs sums of measured rows: median {report['filled_vs_measured_sums']['median_abs']:.1%}, max "
          f"{report['filled_vs_measured_sums']['max_abs']:.1%}, mean {report['filled_vs_measured_sums']['mean_signed']:+.1%}; against the end-to-end "
          f"latency within ±10%: filled {f['within_10']:.0%} (MAPE {f['mape']:.1f}%), measured rows only {m['within_10']:.0%} (MAPE {m['mape']:.1f}%); "
          f"the device repeats its own end-to-end figures within ±10% {validation.get('repeatability', {}).get('within_10', float('nan')):.0%} of the time", flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", choices=("simulate", "cold", "compare"))
    parser.add_argument("--table", type=Path, default=DEFAULT_TABLE, help="simulate: a complete table with validation.json")
    parser.add_argument("--space", type=Path, default=DEFAULT_SPACE, help="cold: the space profiled")
    parser.add_argument("--seeds", type=int, default=5, help="simulate: designs drawn")
    parser.add_argument("--samples", type=int, default=50, help="cold: networks validated end to end (0: none)")
    parser.add_argument("--workers", type=int, default=2, help="cold: lowering processes")
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument("--keep", type=Path, help="cold: work in this new folder (table, program cache, validation) and keep it; compare: that folder")
    parser.add_argument("--measure-sampled", action="store_true", help="cold: then measure every op of the validated networks and compare")
    from nas.latency.fill import FILL_COVER, FILL_SHARE, WHOLE_KIND_OPS

    parser.add_argument("--share", type=float, default=FILL_SHARE)
    parser.add_argument("--cover", type=int, default=FILL_COVER)
    parser.add_argument("--whole-kinds", type=int, default=WHOLE_KIND_OPS)
    args = parser.parse_args()
    if args.bench == "compare" and not args.keep:
        raise SystemExit("compare needs --keep DIR (a kept cold run)")
    report = simulate(args) if args.bench == "simulate" else cold(args) if args.bench == "cold" else compare_kept(args.keep)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
