"""Benchmark: how far the switch to DensePose's official metric moves proxy scores.

Figures measured before issue 35 (docs/proxy.md, docs/search.md, docs/data.md) were
scored with the project's former rules, now the options of
:data:`nas.eval.options.PROJECT` (wrong part scores 0, 256-cell point frame, nearest
mask resampling, ignore rule per threshold). This trains each architecture once with the
default proxy (150 steps on the proxy scenes) and scores the same predictions of the
same weights under both rule sets, so the two columns differ by the metric alone.

    python bench/bench_metric_shift.py [--arch densemobile --arch densesqueeze ...] [--seed 0] [--threads N]
        [--data DATA] [--json bench/reports/metric_shift.json]

About 2-3 minutes an architecture on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace
from pathlib import Path

import torch

from nas.data.source import DatasetSource
from nas.eval import evaluate
from nas.eval.options import OFFICIAL, PROJECT
from nas.space.references import resolve_arch
from nas.train import train
from nas.train.evaluator import Evaluator
from nas.train.predict import predict
from nas.train.proxy import DEFAULT_PROXY, benchmark_data

KEYS = ("gps_ap", "gps_ap50", "gps_ap75", "gpsm_ap", "iou_ap")
CACHE = Path(".cache")


def scores(arch_name: str, data: DatasetSource, seed: int, threads: int | None = None) -> dict[str, dict[str, float]]:
    """GPS/GPSm/IOU AP (points) of one proxy training, under the official and the project rules."""
    config = replace(DEFAULT_PROXY, seed=seed, device="cpu", threads=threads)
    result = train(resolve_arch(arch_name), data, config, progress=True)
    evaluator = Evaluator(data, config, torch.device("cpu"))
    model = result.model.eval()
    results = predict(model, evaluator.dataset, evaluator.device)  # type: ignore[arg-type]
    out: dict[str, dict[str, float]] = {"proxy": {"gps_ap": result.gps_ap}}
    for name, rules in (("official", OFFICIAL), ("project", PROJECT)):
        metrics = evaluate(evaluator.gt, results, evaluator.surface, image_ids=evaluator.image_ids, **asdict(rules))
        out[name] = {k: round(100 * metrics[k], 2) for k in KEYS}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", action="append", help="reference or spec (repeatable; default the three mobile baselines)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: one per core); scores move with it")
    parser.add_argument("--data", help="dataset folder or descriptor (default: the proxy's synthetic set)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    data = DatasetSource.load(benchmark_data(args.data, CACHE))
    archs = args.arch or ["densemobile", "densesqueeze", "fnl_mobile"]
    table = {name: scores(name, data, args.seed, args.threads) for name in archs}
    print(f"{'architecture':14s} {'metric':10s} " + " ".join(f"{k:>9s}" for k in KEYS))
    for name, rows in table.items():
        for rules in ("official", "project"):
            print(f"{name:14s} {rules:10s} " + " ".join(f"{rows[rules][k]:9.2f}" for k in KEYS))
        print(f"{'':14s} {'shift':10s} " + " ".join(f"{rows['official'][k] - rows['project'][k]:+9.2f}" for k in KEYS))
    if args.json:
        args.json.write_text(json.dumps({"command": "python bench/bench_metric_shift.py", "seed": args.seed, "threads": args.threads,
                                         "proxy": asdict(DEFAULT_PROXY), "scores": table}, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
