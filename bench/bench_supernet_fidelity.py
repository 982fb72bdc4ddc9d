"""How well each scorer of the accuracy axis ranks architectures as long trainings do (issue 37).

    python bench/bench_supernet_fidelity.py --supernet DIR [--supernet DIR ...] [--medium-supernet DIR ...]
        [--finetune-steps 20] [--threads 1] [--json bench/reports/supernet_fidelity.json]

The 24 architectures of fidelity samples 2 and 3 (bench/reports/proxy_fidelity_2000img*.json)
were trained 10x longer than the proxy (1,500 steps) on the 2,000-image proxy scenes, twice
each (sample 2: two draws of seed 0 on two machines; sample 3: seeds 0 and 1). The
reference is the mean of those two long runs' GPS AP, each scored on the proxy's validation
images (the first 80: the one scoring both runs of sample 2 have); the report also ranks
against the long runs scored on all 400 validation images. The scorers:

- ``short proxy``: the recorded 150-step proxy training of each network;
- ``supernet <name>``: the network scored from a trained supernet (``nas supernet train``)
  after batch-norm recalibration, and ``... +ftF`` after F fine-tuning steps as well;
- ``params``, ``macs``: the network's size;
- the zero-cost proxies of :mod:`nas.train.zero_cost` on one fixed batch of 8 images.

Every score is evaluated as the long runs were recorded: on the proxy's validation images,
with the evaluator's former project rules (:data:`nas.eval.options.PROJECT`). Per scorer:
Kendall tau and Spearman with 95% bootstrap intervals over all 24 and over the multi-level
necks alone, the spread of its scores, the median seconds per candidate; between supernets
trained alike at different seeds, the tau between their scores (repeatability) and whether
the networks' scores spread beyond the seed noise. A ``--medium-supernet`` (trained on the
2,000-image ``medium`` scenes, where a short proxy learns nothing) is recalibrated and
evaluated on those scenes' images.
The report and its PNG are rewritten after every scored network and a rerun scores only
what the report lacks.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from nas.analysis.ranking import bootstrap_kendall_tau, kendall_tau
from nas.eval.options import PROJECT
from nas.io import atomic_write_json
from nas.search.trial import count_complexity
from nas.space.neck_variants import NECK_VARIANTS
from nas.space.spec import ArchSpec
from nas.supernet.scoring import ScoreConfig, SupernetScorer
from nas.supernet.store import load_supernet
from nas.train.proxy import benchmark_data
from nas.train.zero_cost import PROXIES, score_all, scoring_batch

ROOT = Path(__file__).resolve().parent
CACHE = ROOT.parent / ".cache"
REPORTS = ("proxy_fidelity_2000img", "proxy_fidelity_2000img_sample3")
SECOND_DRAW = {"proxy_fidelity_2000img": "long_earlier", "proxy_fidelity_2000img_sample3": "long_seed1"}
PROXY_VAL_IMAGES = 80
RESAMPLES = 10_000
ZERO_COST_BATCH = 8
TARGETS = {"all": 0.55, "multi_level": 0.45}  # issue 37's Kendall tau targets for the supernet score


def long_runs() -> tuple[list[str], dict[str, float], dict[str, float], dict[str, float], dict[str, float]]:
    """The 24 architectures, the reference (mean of both long runs on the proxy's validation
    images), the reference on all validation images, the recorded short-proxy scores and
    their wall seconds."""
    archs: list[str] = []
    reference, whole, proxy, seconds = {}, {}, {}, {}
    for name in REPORTS:
        report = json.loads((ROOT / "reports" / f"{name}.json").read_text())
        second, second_val = report[SECOND_DRAW[name]], report.get(f"{SECOND_DRAW[name]}_val", {})
        for arch in report["archs"]:
            archs.append(arch)
            reference[arch] = (report["long"][arch] + second[arch]) / 2
            alls = [report["long_val"][arch]["all"]] + ([second_val[arch]["all"]] if arch in second_val else [])
            whole[arch] = sum(alls) / len(alls)
            proxy[arch] = report["proxy"][arch]
            seconds[arch] = report["wall_seconds"][arch]["proxy"]
    return archs, reference, whole, proxy, seconds


def multi_level(arch: str) -> bool:
    return NECK_VARIANTS.get(ArchSpec.from_string(arch).neck.variant).multi_level


def bootstrap_spearman(a: np.ndarray, b: np.ndarray, resamples: int, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    draws = [stats.spearmanr(a[i], b[i]).statistic for i in (rng.integers(0, len(a), len(a)) for _ in range(resamples))]
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return float(low), float(high)


def agreement(scores: dict[str, float], reference: dict[str, float], archs: list[str], resamples: int) -> dict[str, Any] | None:
    """Kendall tau and Spearman of ``scores`` against ``reference`` with 95% intervals; None
    when fewer than 3 networks are scored or all score alike (no rank to compare)."""
    chosen = [a for a in archs if a in scores and np.isfinite(scores[a])]
    if len(chosen) < 3 or len({scores[a] for a in chosen}) == 1:
        return None
    s, r = np.array([scores[a] for a in chosen]), np.array([reference[a] for a in chosen])
    tau_low, tau_high = bootstrap_kendall_tau(s, r, resamples)
    rho_low, rho_high = bootstrap_spearman(s, r, resamples)
    return {"over": len(chosen), "kendall_tau": round(kendall_tau(s, r), 4), "kendall_tau_95": [round(tau_low, 3), round(tau_high, 3)],
            "spearman": round(float(stats.spearmanr(s, r).statistic), 4), "spearman_95": [round(rho_low, 3), round(rho_high, 3)]}


class Report:
    """The JSON report: per scorer, per architecture, the score and its seconds; rewritten as it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        self.data.setdefault("scores", {})
        self.data.setdefault("seconds", {})

    def has(self, scorer: str, arch: str) -> bool:
        return arch in self.data["scores"].get(scorer, {})

    def put(self, scorer: str, arch: str, score: float, seconds: float) -> None:
        self.data["scores"].setdefault(scorer, {})[arch] = score
        self.data["seconds"].setdefault(scorer, {})[arch] = round(seconds, 3)

    def write(self) -> None:
        atomic_write_json(self.path, self.data, indent=2)


def score_static(report: Report, archs: list[str], data: Path) -> None:
    """Parameters, MACs and the zero-cost proxies (cheap: seconds per network)."""
    batch = None
    for arch in archs:
        if all(report.has(name, arch) for name in ("params", "macs", *PROXIES.names())):
            continue
        spec = ArchSpec.from_string(arch)
        start = time.perf_counter()
        params, macs = count_complexity(spec)
        counted = time.perf_counter() - start
        report.put("params", arch, float(params), counted)
        report.put("macs", arch, float(macs), counted)
        batch = batch or scoring_batch(data, ZERO_COST_BATCH)
        scores = score_all(spec, batch, seed=0)
        for name in PROXIES.names():
            report.put(name, arch, float(scores[name]), scores[f"{name}_s"] + scores["build_s"])
        report.write()


def score_supernet(report: Report, archs: list[str], data: Path, folder: Path, finetune_steps: int, threads: int | None,
                   scenes: str = "proxy") -> list[str]:
    """The supernet scores of every network (and fine-tuned ones) on ``data``, the scenes it
    was trained on; returns the scorer names."""
    trained = load_supernet(folder)
    name = f"supernet {folder.name}"
    names = [name] + ([f"{name} +ft{finetune_steps}"] if finetune_steps else [])
    report.data.setdefault("supernets", {})[name] = {"folder": str(folder), "steps": trained.steps, "scheme": trained.config.scheme,
                                                      "seed": trained.config.seed, "space_hash": trained.space.hash,
                                                      "scenes": scenes}
    for scorer_name, steps in zip(names, (0, finetune_steps)):
        todo = [a for a in archs if not report.has(scorer_name, a)]
        if not todo:
            continue
        scorer = SupernetScorer(trained, data, ScoreConfig(finetune_steps=steps, val_images=PROXY_VAL_IMAGES, device="cpu",
                                                           threads=threads, options=PROJECT))
        for i, arch in enumerate(todo, 1):
            score = scorer(ArchSpec.from_string(arch))
            report.put(scorer_name, arch, score.gps_ap, score.total_seconds)
            report.write()
            print(f"  {scorer_name} {i}/{len(todo)}: GPS AP {score.gps_ap:.2f} in {score.total_seconds:.1f} s", flush=True)
    return names


def seed_pair(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two supernets trained alike (scheme, steps, scenes) at different seeds."""
    alike = all(a.get(key, "proxy") == b.get(key, "proxy") for key in ("scheme", "steps", "scenes"))
    return alike and a["seed"] != b["seed"]


def seed_agreement(a: list[float], b: list[float]) -> dict[str, Any]:
    """How two seeds' scores of the same networks agree, and whether the networks' spread
    stands out of the seed noise: the noise of one score is the standard deviation of the
    two seeds' differences over sqrt(2); the signal is the standard deviation of the scores
    across networks (the mean of both seeds')."""
    differences = np.subtract(a, b)
    noise = float(np.std(differences, ddof=1) / np.sqrt(2))
    signal = float((np.std(a, ddof=1) + np.std(b, ddof=1)) / 2)
    return {"over": len(a), "kendall_tau": round(kendall_tau(a, b), 4),
            "median_abs_difference": round(statistics.median(np.abs(differences).tolist()), 3),
            "score_std_across_networks": round(signal, 3), "seed_noise_std": round(noise, 3),
            "signal_to_noise": round(signal / noise, 3) if noise > 0 else None}


def summarise(report: Report, archs: list[str], reference: dict[str, float], whole: dict[str, float], resamples: int) -> None:
    multi = [a for a in archs if multi_level(a)]
    long_values = [reference[a] for a in archs]
    summary: dict[str, Any] = {}
    for scorer, scores in report.data["scores"].items():
        values = [scores[a] for a in archs if a in scores and np.isfinite(scores[a])]
        seconds = list(report.data["seconds"][scorer].values())
        summary[scorer] = {"all": agreement(scores, reference, archs, resamples),
                           "multi_level": agreement(scores, reference, multi, resamples),
                           "all_vs_all_val_reference": agreement(scores, whole, archs, resamples),
                           "spread": round(max(values) - min(values), 4) if values else None,
                           "std": round(float(np.std(values, ddof=1)), 4) if len(values) > 1 else None,
                           "median_seconds_per_candidate": round(statistics.median(seconds), 3) if seconds else None}
    supernets = report.data.get("supernets", {})
    repeat = {}
    names = sorted(supernets)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if seed_pair(supernets[a], supernets[b]):
                common = [x for x in archs if x in report.data["scores"].get(a, {}) and x in report.data["scores"].get(b, {})]
                if len(common) >= 3:
                    repeat[f"{a} vs {b}"] = seed_agreement([report.data["scores"][a][x] for x in common],
                                                           [report.data["scores"][b][x] for x in common])
    report.data.update(archs=archs, reference="mean of both long runs (1,500 steps), GPS AP on the proxy's 80 validation images, project rules",
                       long_spread=round(max(long_values) - min(long_values), 3), multi_level_over=len(multi), summary=summary,
                       repeatability=repeat, targets=TARGETS)


def plot(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = report.data["summary"]
    order = sorted(summary, key=lambda s: (summary[s]["all"] or {}).get("kendall_tau", -2))
    fig, (bars, scatter) = plt.subplots(1, 2, figsize=(13, 0.45 * len(order) + 2.5), gridspec_kw={"width_ratios": [3, 2]})
    y = np.arange(len(order))
    for offset, part, colour in ((-0.18, "all", "tab:blue"), (0.18, "multi_level", "tab:orange")):
        taus = [(summary[s][part] or {}).get("kendall_tau", np.nan) for s in order]
        lows = [t - (summary[s][part] or {}).get("kendall_tau_95", [np.nan])[0] for s, t in zip(order, taus)]
        highs = [(summary[s][part] or {}).get("kendall_tau_95", [0, np.nan])[1] - t for s, t in zip(order, taus)]
        label = f"all {len(report.data['archs'])}" if part == "all" else f"multi-level necks ({report.data['multi_level_over']})"
        bars.barh(y + offset, taus, height=0.34, color=colour, xerr=[lows, highs], capsize=2, label=label)
    for part, style in (("all", "--"), ("multi_level", ":")):
        bars.axvline(TARGETS[part], color="grey", linestyle=style, linewidth=1, label=f"target {part.replace('_', '-')} {TARGETS[part]}")
    labels = [f"{s} ({summary[s]['median_seconds_per_candidate']:.1f} s)" + ("" if summary[s]["all"] else ": all equal, no tau")
              for s in order]
    bars.set_yticks(y, labels, fontsize=8)
    bars.set_xlabel("Kendall tau vs the long runs (95% bootstrap interval)")
    bars.set_xlim(-1, 1)
    bars.legend(fontsize=7, loc="lower right")
    bars.set_title("Which scorer ranks like a 10x longer training?")
    supernets = [s for s in summary if s.startswith("supernet") and summary[s]["all"]]
    if supernets:
        best = max(supernets, key=lambda s: summary[s]["all"]["kendall_tau"])
        archs = [a for a in report.data["archs"] if a in report.data["scores"][best]]
        reference = report.data["reference_values"]
        colours = ["tab:orange" if multi_level(a) else "tab:blue" for a in archs]
        scatter.scatter([reference[a] for a in archs], [report.data["scores"][best][a] for a in archs], c=colours, s=18)
        scatter.set_xlabel("long runs: GPS AP (mean of two)")
        scatter.set_ylabel(f"{best}: GPS AP")
        scatter.set_title(f"{best}\ntau {summary[best]['all']['kendall_tau']:.2f} (orange: multi-level necks)", fontsize=8)
    else:
        scatter.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--supernet", type=Path, action="append", default=[], help="a trained supernet folder (repeatable)")
    parser.add_argument("--medium-supernet", type=Path, action="append", default=[],
                        help="a supernet trained on the 2,000-image medium scenes, scored on them (repeatable)")
    parser.add_argument("--finetune-steps", type=int, default=20, help="also score after this many fine-tuning steps (0: not)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--archs", type=int, default=None, help="only the first N architectures (a quick look)")
    parser.add_argument("--data", help="the 2,000-image proxy scenes (default: rendered into .cache on first use)")
    parser.add_argument("--medium-data", help="the 2,000-image medium scenes (default: rendered into .cache on first use)")
    parser.add_argument("--resamples", type=int, default=RESAMPLES)
    parser.add_argument("--json", type=Path, default=ROOT / "reports" / "supernet_fidelity.json")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    archs, reference, whole, proxy, proxy_seconds = long_runs()
    archs = archs[: args.archs] if args.archs else archs
    data = benchmark_data(args.data, CACHE, images=2000)
    report = Report(args.json)
    report.data["reference_values"] = {a: round(reference[a], 3) for a in archs}
    for arch in archs:
        report.put("short proxy", arch, proxy[arch], proxy_seconds[arch])
    score_static(report, archs, data)
    medium = benchmark_data(args.medium_data, CACHE, images=2000, scene="medium") if args.medium_supernet else None
    for folder, scenes, scored_on in [(f, "proxy", data) for f in args.supernet] + [(f, "medium", medium) for f in args.medium_supernet]:
        print(f"scoring from {folder} on {scenes} scenes", flush=True)
        score_supernet(report, archs, scored_on, folder, args.finetune_steps, args.threads, scenes)
        # an interim look: intervals of a tenth of the resamples (the full ones take minutes)
        summarise(report, archs, reference, whole, max(1, args.resamples // 10))
        report.write()
        plot(report, args.json.with_suffix(".png"))
    summarise(report, archs, reference, whole, args.resamples)
    scored = [(entry["folder"], entry.get("scenes", "proxy")) for entry in report.data.get("supernets", {}).values()]
    report.data["command"] = "python bench/bench_supernet_fidelity.py " + " ".join(
        f"--{'medium-' if scenes == 'medium' else ''}supernet {f}" for f, scenes in scored)
    report.write()
    plot(report, args.json.with_suffix(".png"))
    summary = report.data["summary"]
    print(f"{'scorer':34s} {'tau all':>8s} {'95%':>13s} {'tau multi':>9s} {'spearman':>8s} {'spread':>7s} {'s/cand':>7s}")
    for scorer in sorted(summary, key=lambda s: -((summary[s]["all"] or {}).get("kendall_tau") or -2)):
        row, multi = summary[scorer]["all"] or {}, summary[scorer]["multi_level"] or {}
        print(f"{scorer:34s} {row.get('kendall_tau', float('nan')):8.3f} {str(row.get('kendall_tau_95')):>13s} "
              f"{multi.get('kendall_tau', float('nan')):9.3f} {row.get('spearman', float('nan')):8.3f} "
              f"{summary[scorer]['spread'] or 0:7.2f} {summary[scorer]['median_seconds_per_candidate'] or 0:7.1f}")
    for pair, figures in report.data["repeatability"].items():
        print(f"repeatability {pair}: tau {figures['kendall_tau']:.3f} over {figures['over']}; score std across networks "
              f"{figures['score_std_across_networks']:.2f} vs seed noise {figures['seed_noise_std']:.2f}")
    print(f"long runs spread {report.data['long_spread']:.1f} GPS AP; report {args.json}")


if __name__ == "__main__":
    main()
