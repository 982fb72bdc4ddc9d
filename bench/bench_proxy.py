"""Benchmarks of the proxy (issue 5): cost of one trial, discrimination between
architectures, and fidelity of the proxy ranking to a 10x longer training.

    python bench/bench_proxy.py cost           [--data DATA]
    python bench/bench_proxy.py discrimination [--data DATA] [--seeds 0 1] [--samples 3] [--resume]
    python bench/bench_proxy.py fidelity       [--data DATA] [--archs 12] [--sample-seed 2] [--factor 10] [--resume]
                                               [--repeat-long K] [--jobs J] [--analyse-only]
    python bench/bench_proxy.py stability      [--data DATA] [--archs 12] [--seeds 0 1] [--resume]
    python bench/bench_proxy.py variants       [--data DATA] [--steps 150] [--lr 0.003] [--batch 4] [--input 256 192]
                                               [--ema DECAY] [--threads N] [--analyse-only]
    python bench/bench_proxy.py repeat         [--data DATA] [--pick 5 8] [--threads 1 2] [--ema DECAY]
    python bench/bench_proxy.py pooled         [--reports NAME ...] [--resamples 10000]

``pooled`` trains nothing: it ranks the architectures of several fidelity reports (other
samples, same data and settings) together. Each other command prints its figures and
writes a JSON report to bench/reports/ (fidelity also a PNG of proxy against long GPS AP;
its long runs are scored on the whole validation split too). --data takes a dataset
folder or a descriptor YAML (nas.data.source). Without --data a
synthetic dataset of nas.train.proxy.PROXY_DATA_IMAGES images (the proxy scene preset) is
rendered once into .cache/bench_proxy_data (``--images N``: N images, into
.cache/bench_proxy_data_N; ``--scene medium``: another scene preset, suffix _medium).
Reports on data of another size or scene than the default carry it in their name (e.g.
proxy_fidelity_2000img.json, proxy_fidelity_medium.json), so they never replace the
default data's reports. All runs use the default proxy
(nas.train.proxy.DEFAULT_PROXY). Each report records its data (image counts, digest of
the annotations): ``--resume`` reuses only trials of the same data, and ``variants``
refuses data other than that of the fidelity report's long runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from nas.analysis.fidelity import VARIANT_SCORES, ALTERNATIVE_SCORES, as_now, fidelity_summary, long_reference, score_taus, \
    taus_between_variants
from nas.analysis.pooling import ReportError, pool_fidelity, pooled_report_name, read_fidelity_reports
from nas.analysis.ranking import agreement, kendall_tau
from nas.analysis.repeatability import repeat_summary
from nas.data.source import DatasetSource
from nas.data.synth.scene import SCENE_PRESETS
from nas.errors import DataError
from nas.io import atomic_write_json
from nas.model import FeatureNetwork
from nas.model.complexity import count_macs
from nas.space.references import reference
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec
from nas.train import train
from nas.train.config import TrainConfig, as_recorded_now
from nas.train.proxy import DEFAULT_PROXY, PROXY_DATA_IMAGES, PROXY_SCENE, benchmark_data, proxy_config

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "bench" / "reports"
SPACE = ROOT / "search_spaces" / "densepose_mobile.yaml"
FIDELITY_SAMPLE_SEED = 2  # the sample every fidelity report so far was measured on


def ensure_data(path: str | None, images: int = PROXY_DATA_IMAGES, scene: str = PROXY_SCENE) -> Path:
    """``--data`` when given (checked), else the benchmark's own dataset of ``images`` images
    of the ``scene`` preset, rendered on first use into .cache/ (see
    :func:`nas.train.proxy.benchmark_data`)."""
    try:
        return benchmark_data(path, ROOT / ".cache", images, scene)
    except DataError as err:
        raise SystemExit(f"--data {err}") from None


def report_name(base: str, identity: dict[str, Any] | None, args: argparse.Namespace) -> str:
    """``base``, suffixed with the image count when the data is not of the default size
    (counted from the data's ``identity`` when it is at hand, else ``--images``) and with
    the scene preset when it is not the proxy's."""
    images = args.images if identity is None else identity["train_images"] + identity["val_images"]
    name = base if images == PROXY_DATA_IMAGES else f"{base}_{images}img"
    return name if args.scene == PROXY_SCENE else f"{name}_{args.scene}"


def sampled(space: SearchSpace, count: int, seed: int) -> list[ArchSpec]:
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(count)]


def mid_size(space: SearchSpace, pool: int = 31) -> ArchSpec:
    """The architecture of median MACs among ``pool`` samples (seed 0) at the proxy input."""
    h, w = space.proxy_input
    archs = sampled(space, pool, seed=0)
    macs = [count_macs(FeatureNetwork(a), torch.randn(1, 3, h, w)) for a in archs]
    return archs[int(np.argsort(macs)[len(macs) // 2])]


def trial(arch: ArchSpec, data: Path, scale: float = 1.0, seed: int = 0, progress: bool = True, *,
          whole_val: bool = False, gt_boxes: bool = False, **changes: object) -> dict[str, float]:
    """Final metrics and wall time of one proxy training (``changes``: other proxy settings).
    With ``whole_val`` the final model is also scored on every validation image: GPS AP
    ``val_all`` (all), ``val_first`` (the training's own evaluation images, scored again
    from the same predictions) and ``val_rest`` (the others, disjoint from them). With
    ``gt_boxes`` it is also scored with its DensePose head on the ground-truth boxes of the
    same images: every AP and AR again, prefixed ``gt_`` (detection left out of the score)."""
    start = time.perf_counter()
    config = proxy_config(scale, seed=seed, **changes)
    result = train(arch, data, config, progress=progress)
    metrics = dict(result.metrics)
    if whole_val:
        assert result.model is not None
        metrics.update(whole_val_scores(result.model, data, config))
    if gt_boxes:
        assert result.model is not None
        metrics.update(gt_box_scores(result.model, data, config))
    metrics["wall_seconds"] = round(time.perf_counter() - start, 1)
    return metrics


def whole_val_scores(model: torch.nn.Module, data: Path, config: TrainConfig) -> dict[str, float]:
    """GPS AP of ``model`` on all validation images and on the two parts ``config.val_images``
    splits them into, from one prediction per image. An 80-image score moves by a std of
    ~1.8 points between disjoint slices (proxy_repeat_2000img.json): the 10x reference that
    the proxy is ranked against is measured on all of them."""
    from nas.eval import evaluate
    from nas.train import Evaluator, resolve_device
    from nas.train.predict import predict

    device = resolve_device(config.device)
    everything = Evaluator(DatasetSource.load(data), replace(config, val_images=None), device)
    model.eval()
    results = predict(model, everything.dataset, device)  # type: ignore[arg-type]
    ids = everything.image_ids
    first = min(config.val_images or len(ids), len(ids))
    parts = {"val_all": ids, "val_first": ids[:first], "val_rest": ids[first:]}
    scores = {name: evaluate(everything.gt, results, everything.surface, modes=("gps",), image_ids=chosen)["gps_ap"]
              for name, chosen in parts.items() if chosen}
    return {name: round(v * 100, 3) if v >= 0 else -1.0 for name, v in scores.items()}  # percent, as train's metrics


def write(name: str, report: dict[str, Any]) -> None:
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / f"{name}.json"
    atomic_write_json(path, report, indent=2)  # a run killed mid-write leaves the last whole report
    print(f"report: {path}")


def data_identity(data: Path) -> dict[str, Any]:
    """What a report's trials were trained and scored on: image counts and a digest of the
    annotations, so a resumed report never mixes trials of two datasets (``--data``)."""
    digest, identity, source = hashlib.sha256(), {}, DatasetSource.load(data)
    for split in ("train", "val"):
        raw = source.split(split).annotations.read_bytes()
        digest.update(raw)
        identity[f"{split}_images"] = len(json.loads(raw)["images"])
    return {**identity, "annotations_sha256": digest.hexdigest()[:16]}


def previous_report(name: str, resume: bool, settings: dict[str, Any]) -> dict[str, Any]:
    """The earlier report ``name`` when resuming and it was made with the same ``settings``
    (the keys of ``settings`` compared one by one), else an empty dict."""
    path = REPORTS / f"{name}.json"
    old = json.loads(path.read_text()) if resume and path.is_file() else {}
    if old and any(as_now(old.get(k)) != v for k, v in settings.items()):
        print(f"the previous {name} report used other settings: none of its trials is reused", flush=True)
        return {}
    return old


def cost(args: argparse.Namespace) -> None:
    data = ensure_data(args.data, args.images, args.scene)
    arch = mid_size(SearchSpace.from_yaml(SPACE))
    m = trial(arch, data)
    print(f"mid-size candidate {arch.id}: {arch.to_string()}")
    print(f"proxy: {DEFAULT_PROXY.budget.describe()}, batch {DEFAULT_PROXY.batch_size}, input {DEFAULT_PROXY.input_size}, "
          f"{DEFAULT_PROXY.evals} evaluations on {DEFAULT_PROXY.val_images} val images, device {'cuda' if torch.cuda.is_available() else 'cpu'}")
    print(f"train {m['train_seconds']:.0f} s + evaluation {m['eval_seconds']:.0f} s (last point); whole trial {m['wall_seconds']:.0f} s "
          f"= {m['wall_seconds'] / 60:.2f} min; GPS AP {m['gps_ap']:.1f}")
    identity = data_identity(data)
    write(report_name("proxy_cost", identity, args),
          {"arch": arch.to_string(), "data": identity, "metrics": m, "threads": torch.get_num_threads()})


def discrimination(args: argparse.Namespace) -> None:
    data = ensure_data(args.data, args.images, args.scene)
    archs = {n: reference(n) for n in ("densemobile", "densesqueeze")}
    for i, arch in enumerate(sampled(SearchSpace.from_yaml(SPACE), args.samples, seed=1)):
        archs[f"sample{i}"] = arch
    archs["r50_fpn"] = reference("r50_fpn")  # the slowest last: the report is rewritten after every trial
    table: dict[str, dict[int, float]] = {n: {} for n in archs}
    walls: dict[str, dict[int, float]] = {n: {} for n in archs}
    report: dict[str, Any] = {"archs": {n: a.to_string() for n, a in archs.items()}, "proxy": proxy_config().to_dict(),
                              "data": data_identity(data), "gps_ap": table, "wall_seconds": walls}
    report_file = report_name("proxy_discrimination", report["data"], args)
    old = previous_report(report_file, args.resume, {k: report[k] for k in ("proxy", "data")})
    if old:  # keep the trials of the same architectures already run
        for name in archs:
            if old.get("archs", {}).get(name) == report["archs"][name]:
                table[name].update({int(s): v for s, v in old["gps_ap"].get(name, {}).items()})
                walls[name].update({int(s): v for s, v in old.get("wall_seconds", {}).get(name, {}).items()})
    for name, arch in archs.items():
        for seed in args.seeds:
            if seed in table[name]:
                print(f"seed {seed} {name:12s} GPS AP {table[name][seed]:.1f}  (from the previous report)", flush=True)
                continue
            m = trial(arch, data, seed=seed)
            table[name][seed], walls[name][seed] = m["gps_ap"], m["wall_seconds"]
            print(f"seed {seed} {name:12s} GPS AP {m['gps_ap']:.1f}  ({m['wall_seconds']:.0f} s)", flush=True)
            write(report_file, report)
    print(f"\n{'architecture':14s}" + "".join(f"  seed {s:>2d}" for s in args.seeds))
    for name, row in table.items():
        print(f"{name:14s}" + "".join(f"  {row[s]:7.1f}" if s in row else "        -" for s in args.seeds))
    spreads = {s: max(r[s] for r in table.values() if s in r) - min(r[s] for r in table.values() if s in r) for s in args.seeds}
    report["spread"] = spreads
    for s, spread in spreads.items():
        print(f"spread (max - min GPS AP), seed {s}: {spread:.1f} points")
    if len(args.seeds) >= 2:
        both = [n for n in archs if all(s in table[n] for s in args.seeds[:2])]
        a, b = ([table[n][s] for n in both] for s in args.seeds[:2])
        tau = kendall_tau(a, b)
        report["kendall_tau_between_seeds"] = tau
        report["kendall_tau_over"] = both
        print(f"ranking agreement between seeds {args.seeds[0]} and {args.seeds[1]}: Kendall tau {tau:.2f}")
    write(report_file, report)


def fidelity(args: argparse.Namespace) -> None:
    """Proxy vs ``--factor`` x proxy over ``--archs`` samples. Every short proxy runs first
    (a partial report already ranks them), then the long trainings, then, with
    ``--repeat-long K``, the long training of the first K architectures again at seed 1
    (how much a long score moves with the seed bounds the tau any proxy can reach). The
    report is rewritten after each trial and ``--resume`` keeps the trials of the same
    architectures and settings, so the hours it takes can be spread over several runs."""
    archs = [a.to_string() for a in sampled(SearchSpace.from_yaml(SPACE), args.archs, seed=args.sample_seed)]
    report: dict[str, Any] = {"archs": archs, "factor": args.factor, "proxy_config": proxy_config().to_dict(),
                              "long_config": proxy_config(args.factor).to_dict(), "proxy": {}, "long": {},
                              "long_seed1": {}, "long_val": {}, "long_seed1_val": {}, "long_earlier": {},
                              "long_seed1_earlier": {}, "wall_seconds": {}, "proxy_metrics": {}}
    data = None if args.analyse_only else ensure_data(args.data, args.images, args.scene)  # analysing runs nothing: no data needed
    settings = ("factor", "proxy_config", "long_config")
    if data is not None:
        report["data"], settings = data_identity(data), (*settings, "data")
    name = report_name("proxy_fidelity", report.get("data"), args)
    if args.sample_seed != FIDELITY_SAMPLE_SEED:  # another sample of architectures: its own report
        report["sample_seed"], settings = args.sample_seed, (*settings, "sample_seed")
        name += f"_sample{args.sample_seed}"
    old = previous_report(name, args.resume or args.analyse_only, {k: report[k] for k in settings})
    if old:
        for key in ("data", "threads_per_trial", "jobs"):  # what a re-analysis keeps as it was
            if key in old:
                report.setdefault(key, old[key])
        # keyed by arch string: a changed sample is run again
        for phase in ("proxy", "long", "long_seed1", "long_val", "long_seed1_val", "long_earlier", "long_seed1_earlier", "wall_seconds",
                      "proxy_metrics"):
            report[phase] = {a: v for a, v in old.get(phase, {}).items() if a in archs}
    if data is not None:
        run_fidelity_trials(report, args, data, name)
    elif not old:
        raise SystemExit("no fidelity report with the current proxy settings to analyse: run without --analyse-only")
    summary = fidelity_summary(report)
    print_fidelity(report, summary, args.factor)
    report.update(summary)
    write(name, report)
    if len([a for a in archs if a in report["proxy"] and a in report["long"]]) >= 2:
        plot_fidelity(report, args.factor, REPORTS / f"{name}.png")


def plot_fidelity(report: dict[str, Any], factor: float, path: Path) -> None:
    """Proxy GPS AP against the long training's, one column per architecture: the long
    score on all validation images (filled; orange: the seed-1 training of
    ``--repeat-long``) and every draw's score on the proxy's images (hollow; a line joins
    the draws of one architecture)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    proxy, long, earlier, whole = report["proxy"], report["long"], report.get("long_earlier", {}), report.get("long_val", {})
    again, again_whole = report.get("long_seed1", {}), report.get("long_seed1_val", {})
    fig, ax = plt.subplots(figsize=(7.5, 5.2), dpi=120)
    for arch in (a for a in report["archs"] if a in proxy and a in long):
        x = proxy[arch]
        draws = [long[arch]] + [other[arch] for other in (earlier, again) if arch in other]
        ax.plot([x] * len(draws), draws, color="#7f7f7f", linewidth=1, marker="o", markerfacecolor="none", markersize=5)
        if "all" in whole.get(arch, {}):
            ax.plot([x], [whole[arch]["all"]], marker="o", color="#1f77b4", markersize=7)
        if "all" in again_whole.get(arch, {}):
            ax.plot([x], [again_whole[arch]["all"]], marker="o", color="#ff7f0e", markersize=6)
        ax.annotate(ArchSpec.from_string(arch).id[:6], (x, max(draws)), textcoords="offset points", xytext=(3, 4), fontsize=7)
    ax.plot([], [], color="#7f7f7f", marker="o", markerfacecolor="none", linestyle="-",
            label=f"{factor:g}x on the proxy's {report['long_config'].get('val_images')} val images (each draw)")
    ax.plot([], [], color="#1f77b4", marker="o", linestyle="none", label=f"{factor:g}x on all val images")
    if again_whole:
        ax.plot([], [], color="#ff7f0e", marker="o", linestyle="none", label=f"{factor:g}x at seed 1 on all val images")
    figures = [f"tau {report['kendall_tau']:.2f} ({report['kendall_tau_over']})"] if "kendall_tau" in report else []
    if "kendall_tau_long_all_val" in report:
        held = report["kendall_tau_long_all_val"]
        figures.append(f"all val: tau {held['tau']:.2f} ({held['over']})")
    if "long_redraw" in report:
        figures.append(f"between draws: tau {report['long_redraw']['kendall_tau_between_draws']:.2f}")
    if "long_seed_all_val" in report:
        seeds = report["long_seed_all_val"]
        figures.append(f"between seeds: tau {seeds['kendall_tau_between_draws']:.2f} ({seeds['over']}), "
                       f"proxy vs their mean {seeds['proxy_kendall_tau_vs_draw_mean']:.2f}")
    ax.set_xlabel(f"proxy GPS AP ({report['proxy_config']['budget']['steps']} steps)")
    ax.set_ylabel(f"GPS AP after {factor:g}x the proxy's steps")
    title = "Proxy fidelity: " + "; ".join(figures[:2])
    if figures[2:]:  # two lines at most: the proxy's agreement, then the long runs' own
        title += "\n" + "; ".join(figures[2:])
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run_fidelity_trials(report: dict[str, Any], args: argparse.Namespace, data: Path, name: str) -> None:
    """Trains what ``report`` lacks: the proxy, then the long budget of every architecture,
    then the long budget again at seed 1 for the first ``--repeat-long``; the report is
    rewritten after each trial. A long training also scores its final model on every
    validation image (``long_val``: all, the proxy's first ones, the rest); one recorded
    before that was kept is trained again, its earlier score kept in ``long_earlier``
    (same seed, but on another machine the float sums differ: a second draw). With ``--jobs J`` J trials run at once, each in its own
    process with torch's threads split between them. On 2 cores, J=2 gives about the trials
    per hour of J=1: a 1-thread trial beside another took a median 1.95x the wall time of
    the same trial alone on 2 threads (12 proxy trainings, 2026-12-02); the trials of one
    report all run under the same setting, recorded in it."""
    archs = report["archs"]
    phases = [("proxy", 1.0, 0, archs), ("long", args.factor, 0, archs), ("long_seed1", args.factor, 1, archs[: args.repeat_long])]
    todo = [(phase, scale, seed, i, arch) for phase, scale, seed, chosen in phases for i, arch in enumerate(chosen)
            if arch not in report[phase] or (phase != "proxy" and arch not in report[f"{phase}_val"])]
    # the trainings timed before first: a run stopped part way has scored the most architectures
    rank = {phase: k for k, (phase, *_) in enumerate(phases)}

    def timed(phase: str, arch: str) -> float:  # a phase not timed yet goes by the proxy's time: long runs scale with it
        held = report["wall_seconds"].get(arch, {})
        return held.get(phase, held.get("proxy", math.inf))

    todo.sort(key=lambda t: (rank[t[0]], timed(t[0], t[4])))

    def record(phase: str, i: int, arch: str, m: dict[str, float]) -> None:
        before = report[phase].get(arch)
        report[phase][arch] = m["gps_ap"]
        report["wall_seconds"].setdefault(arch, {})[phase] = m["wall_seconds"]
        if phase == "proxy":  # every score of the proxy run, for other readings of it (ALTERNATIVE_SCORES)
            report["proxy_metrics"][arch] = {k: v for k, v in m.items() if isinstance(v, (int, float)) and k != "wall_seconds"}
        line = f"{i:2d} {ArchSpec.from_string(arch).id} {phase:10s} GPS AP {m['gps_ap']:.1f}"
        if "val_all" in m:
            report[f"{phase}_val"][arch] = {k[4:]: m[k] for k in ("val_first", "val_all", "val_rest") if k in m}
            line += f", on all validation images {m['val_all']:.1f}"
        if before is not None:
            report[f"{phase}_earlier"][arch] = before
            line += f" (recorded before: {before:.1f})"
        print(f"{line}  ({m['wall_seconds']:.0f} s)", flush=True)
        write(name, report)

    threads = torch.get_num_threads() if args.jobs == 1 else max(1, (os.cpu_count() or 1) // args.jobs)
    if todo:
        report["threads_per_trial"], report["jobs"] = threads, args.jobs
    if args.jobs == 1:
        for phase, scale, seed, i, arch in todo:
            record(phase, i, arch, trial(ArchSpec.from_string(arch), data, scale=scale, seed=seed, whole_val=phase != "proxy",
                                         gt_boxes=phase == "proxy"))
        return
    print(f"{len(todo)} trainings to run, {args.jobs} at a time with {threads} thread(s) each", flush=True)
    # spawn, not fork: a forked child inherits the parent's OpenMP state
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        running = {pool.submit(trial, ArchSpec.from_string(arch), data, scale, seed, False, whole_val=phase != "proxy",
                               gt_boxes=phase == "proxy", threads=threads): (phase, i, arch)
                   for phase, scale, seed, i, arch in todo}
        for done in as_completed(running):
            record(*running[done], done.result())


def print_fidelity(report: dict[str, Any], summary: dict[str, Any], factor: float) -> None:
    """The proxy and long scores side by side, then the figures of ``summary`` (see
    :func:`nas.analysis.fidelity.fidelity_summary`)."""
    archs, proxy, long, again = report["archs"], report["proxy"], report["long"], report.get("long_seed1", {})
    whole, earlier = report.get("long_val", {}), report.get("long_earlier", {})
    print(f"\n{'arch':12s}{'proxy':>8s}{f'{factor:g}x':>8s}{'earlier':>9s}{'all val':>9s}{f'{factor:g}x seed 1':>14s}")
    for arch in (a for a in archs if a in proxy):
        cells = [f"{proxy[arch]:8.1f}", f"{long[arch]:8.1f}" if arch in long else f"{'-':>8s}",
                 f"{earlier[arch]:9.1f}" if arch in earlier else f"{'-':>9s}",
                 f"{whole[arch]['all']:9.1f}" if "all" in whole.get(arch, {}) else f"{'-':>9s}",
                 f"{again[arch]:14.1f}" if arch in again else f"{'-':>14s}"]
        print(f"{ArchSpec.from_string(arch).id:12s}" + "".join(cells))
    if "kendall_tau" in summary:
        print(f"over {summary['kendall_tau_over']} architectures: Kendall tau {summary['kendall_tau']:.2f}, "
              f"Spearman {summary['spearman']:.2f}; spread proxy {summary['proxy_spread']:.1f}, {factor:g}x "
              f"{summary['long_spread']:.1f} GPS AP points")
    for part, meaning in (("all", "all validation images"), ("rest", "the validation images the proxy does not score on")):
        if f"kendall_tau_long_{part}_val" in summary:
            held = summary[f"kendall_tau_long_{part}_val"]
            print(f"{factor:g}x scored on {meaning}, over {held['over']} architectures: Kendall tau {held['tau']:.2f} "
                  f"(spread {held['long_spread']:.1f} GPS AP points)")
    if "long_redraw" in summary:
        figures = summary["long_redraw"]
        print(f"{factor:g}x trained again over {figures['over']} architectures: median |difference| "
              f"{figures['median_abs_difference']:.1f}, max {figures['max_abs_difference']:.1f} GPS AP points; Kendall tau "
              f"between the draws {figures['kendall_tau_between_draws']:.2f}; proxy against the earlier draw "
              f"{figures['proxy_kendall_tau_vs_earlier']:.2f}, against the mean of both {figures['proxy_kendall_tau_vs_draw_mean']:.2f}")
    if "long_seed_all_val" in summary:
        figures = summary["long_seed_all_val"]
        print(f"{factor:g}x at seed 0 and seed 1 on all validation images, over {figures['over']} architectures: median "
              f"|difference| {figures['median_abs_difference']:.1f}, max {figures['max_abs_difference']:.1f} GPS AP points; "
              f"Kendall tau between the seeds {figures['kendall_tau_between_draws']:.2f}; proxy against seed 0 "
              f"{figures['proxy_kendall_tau_vs_seed0']:.2f}, against the mean of both seeds "
              f"{figures['proxy_kendall_tau_vs_draw_mean']:.2f}")
    if "alternative_scores_kendall_tau" in summary:
        held = summary["alternative_scores_kendall_tau"]
        print(f"other scores of the proxy runs against the long GPS AP, over {held['over']}: " + taus_text(held["tau"]))
    if "long_seed_abs_difference" in summary:
        diffs = summary["long_seed_abs_difference"]
        print(f"{factor:g}x scores, seed 0 vs seed 1 over {diffs['over']} architectures: median |difference| "
              f"{diffs['median']:.1f}, max {diffs['max']:.1f} GPS AP points")
    if "long_seed_kendall_tau" in summary:
        print(f"over those {summary['long_seed_abs_difference']['over']}: Kendall tau of the seed-1 {factor:g}x run against the "
              f"seed-0 one {summary['long_seed_kendall_tau']:.2f} (the ceiling for any proxy), of the proxy "
              f"{summary['proxy_kendall_tau_on_repeated']:.2f}, of the proxy against the mean of both seeds "
              f"{summary['proxy_kendall_tau_vs_seed_mean']:.2f}")


def tau_text(tau: float | None) -> str:
    """A Kendall tau to two places, or ``undefined`` (None: a scoring that ties everything)."""
    return "undefined" if tau is None else f"{tau:.2f}"


def taus_text(taus: dict[str, float | None]) -> str:
    """``score tau, ...`` (:func:`tau_text`)."""
    return ", ".join(f"{k} {tau_text(v)}" for k, v in taus.items())


def stability(args: argparse.Namespace) -> None:
    """Ranking agreement of the proxy between training seeds over the fidelity benchmark's
    ``--archs`` samples (discrimination's 6 architectures hold 3 near ties, too few to
    tell a stable ranking from an unstable one). The proxy is deterministic for a given
    seed, so seed-0 scores are taken from the fidelity report when it used the same proxy."""
    data = ensure_data(args.data, args.images, args.scene)
    archs = [a.to_string() for a in sampled(SearchSpace.from_yaml(SPACE), args.archs, seed=2)]
    proxy = proxy_config().to_dict()
    report: dict[str, Any] = {"archs": archs, "proxy": proxy, "data": data_identity(data),
                              "gps_ap": {str(s): {} for s in args.seeds}, "wall_seconds": {str(s): {} for s in args.seeds}}
    name = report_name("proxy_stability", report["data"], args)
    fidelity_path = REPORTS / f"{report_name('proxy_fidelity', report['data'], args)}.json"
    old = previous_report(name, args.resume, {k: report[k] for k in ("proxy", "data")})
    for seed in map(str, args.seeds):
        for phase in ("gps_ap", "wall_seconds"):
            report[phase][seed].update({a: v for a, v in old.get(phase, {}).get(seed, {}).items() if a in archs})
    if "0" in report["gps_ap"] and fidelity_path.is_file():
        earlier = json.loads(fidelity_path.read_text())
        if earlier.get("proxy_config") == proxy and earlier.get("data") == report["data"]:  # same proxy, data, seed 0: same scores
            for arch in archs:
                if arch in earlier.get("proxy", {}) and arch not in report["gps_ap"]["0"]:
                    report["gps_ap"]["0"][arch] = earlier["proxy"][arch]
                    report["wall_seconds"]["0"][arch] = earlier.get("wall_seconds", {}).get(arch, {}).get("proxy")
    for seed in args.seeds:
        for i, arch in enumerate(archs):
            if arch in report["gps_ap"][str(seed)]:
                continue
            spec = ArchSpec.from_string(arch)
            m = trial(spec, data, seed=seed)
            report["gps_ap"][str(seed)][arch], report["wall_seconds"][str(seed)][arch] = m["gps_ap"], m["wall_seconds"]
            print(f"seed {seed} {i:2d} {spec.id} GPS AP {m['gps_ap']:.1f}  ({m['wall_seconds']:.0f} s)", flush=True)
            write(name, report)
    first, second = (report["gps_ap"][str(s)] for s in args.seeds[:2])
    both = [a for a in archs if a in first and a in second]
    print(f"\n{'arch':12s}{'seed ' + str(args.seeds[0]):>9s}{'seed ' + str(args.seeds[1]):>9s}")
    for arch in both:
        print(f"{ArchSpec.from_string(arch).id:12s}{first[arch]:9.1f}{second[arch]:9.1f}")
    if len(both) >= 3:
        report.update(agreement([first[x] for x in both], [second[x] for x in both]))
        print(f"over {len(both)} architectures: Kendall tau {report['kendall_tau']:.2f}, Spearman {report['spearman']:.2f}, "
              f"median |seed {args.seeds[0]} - seed {args.seeds[1]}| {report['median_abs_difference']:.1f} GPS AP points")
    write(name, report)


POOLED_REPORTS = ("proxy_fidelity_2000img", "proxy_fidelity_2000img_sample3")  # the two samples of 12 measured so far


def pooled(args: argparse.Namespace) -> None:
    """Proxy GPS AP against the long one over the architectures of several fidelity reports
    at once (:func:`nas.analysis.pooling.pool_fidelity`; they must share the data and
    settings), written to proxy_fidelity_pooled.json (another set of reports: a report
    named after theirs)."""
    try:
        reports = read_fidelity_reports(Path(os.path.relpath(REPORTS)), args.reports)  # messages name paths from here
        summary = {"reports": list(args.reports), **pool_fidelity(reports, args.resamples)}
    except ReportError as err:
        raise SystemExit(f"--reports {err}" if err.report else str(err)) from None
    low, high = summary["kendall_tau_95"]
    print(f"{summary['over']} architectures of {len(reports)} report(s), against the {' / '.join(summary['reference'])}:")
    print(f"  Kendall tau {summary['kendall_tau']:.2f} (95% bootstrap interval over architectures {low:.2f} to {high:.2f}), "
          f"Spearman {summary['spearman']:.2f}")
    print(f"  single-level necks: {summary['single_level_necks']}, long GPS AP {summary['long_single_level']}; multi-level: "
          f"{summary['multi_level_over']}, long {summary['long_multi_level']}")
    agree, multi_tau = summary["neck_pairs_ordered_alike"], summary["multi_level_kendall_tau"]
    print(f"  the proxy orders {'an undefined share' if agree is None else f'{agree:.0%}'} of the single/multi-level pairs as "
          f"the long runs do; Kendall tau among the multi-level necks alone {tau_text(multi_tau)}")
    write(pooled_report_name(args.reports, POOLED_REPORTS), summary)


def gt_box_scores(model: torch.nn.Module, data: Path, config: TrainConfig) -> dict[str, float]:
    """Every AP and AR of ``model``'s DensePose head run on the ground-truth boxes of the
    training's own evaluation images (``gt_gps_ap``, ``gt_iou_ap75``, ...; percent)."""
    from nas.train import Evaluator, resolve_device

    scores = Evaluator(DatasetSource.load(data), config, resolve_device(config.device), box_source="gt")(model)  # type: ignore[arg-type]
    return {f"gt_{k}": v for k, v in scores.items() if k.startswith(("gps_", "gpsm_", "iou_"))}


def variants(args: argparse.Namespace) -> None:
    """Which proxy predicts the long trainings of the fidelity benchmark? Trains the
    fidelity architectures under one proxy variant (``--steps``, ``--lr``, ``--batch``,
    ``--input H W``, ``--ema``, ``--threads``; the rest as the default proxy), keeps every
    final metric, and prints the Kendall tau of each candidate score against the 10x GPS
    AP already in bench/reports/proxy_fidelity.json, and the GPS AP tau between every two
    variants (two variants that differ only in threads: the proxy's own noise). Every
    variant is kept in bench/reports/proxy_variants.json under its own name and resumes
    where it stopped. The long runs are the fidelity benchmark's (lr 0.003): a variant
    chosen on these 12 architectures is chosen in sample: confirm it on other ones."""
    data = None if args.analyse_only else ensure_data(args.data, args.images, args.scene)
    identity = None if data is None else data_identity(data)  # hashes the annotations: once
    fidelity_path = REPORTS / f"{report_name('proxy_fidelity', identity, args)}.json"
    if not fidelity_path.is_file():
        raise SystemExit(f"{fidelity_path.relative_to(ROOT)} is missing: run `python bench/bench_proxy.py fidelity` "
                         "on the same data first")
    fidelity_report = json.loads(fidelity_path.read_text())
    archs, long, reference_name = long_reference(fidelity_report)
    if data is not None and fidelity_report.get("data") != identity:
        raise SystemExit(f"{fidelity_path.relative_to(ROOT)} was trained on other data than {data}: "
                         "pass the --data of its long runs, or run the fidelity benchmark on this data first")
    scale = args.steps / DEFAULT_PROXY.budget.steps  # type: ignore[operator]
    changes: dict[str, Any] = {"lr": args.lr, "batch_size": args.batch, "input_size": tuple(args.input), "ema_decay": args.ema,
                               "threads": args.threads}
    config = proxy_config(scale, **changes)
    name = f"steps{config.budget.steps}-lr{config.lr:g}"
    if config.batch_size != DEFAULT_PROXY.batch_size:  # names of the earlier variants unchanged
        name += f"-batch{config.batch_size}"
    if config.input_size != DEFAULT_PROXY.input_size:
        name += f"-in{config.input_size[0]}x{config.input_size[1]}"
    if config.ema_decay:  # the variants run before the average existed have no suffix
        name += f"-ema{config.ema_decay:g}"
    if config.threads is not None:
        name += f"-t{config.threads}"
    report_file = report_name("proxy_variants", identity, args)
    path = REPORTS / f"{report_file}.json"
    if args.analyse_only and not path.is_file():
        raise SystemExit(f"no {path.relative_to(ROOT)} to analyse: run without --analyse-only")
    report: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    report["long_gps_ap"], report["long_reference"] = long, reference_name
    held_variants = report.setdefault("variants", {})
    # a setting added to TrainConfig after a variant was run is absent from its record
    if name in held_variants and {**config.to_dict(), **as_recorded_now(held_variants[name]["config"])} != config.to_dict():
        raise SystemExit(f"{path.relative_to(ROOT)} holds a variant {name} with other settings: move the report away first")
    if data is not None:
        entry = held_variants.setdefault(name, {"config": config.to_dict(), "data": identity, "metrics": {}, "wall_seconds": {}})
        if entry.get("data") != identity:
            raise SystemExit(f"{path.relative_to(ROOT)} holds variant {name} trained on other data than {data}: "
                             "move the report away first")
        for i, arch in enumerate(archs):
            if arch in entry["metrics"]:
                continue
            spec = ArchSpec.from_string(arch)
            metrics = trial(spec, data, scale, gt_boxes=True, **changes)
            entry["wall_seconds"][arch] = metrics.pop("wall_seconds")
            entry["metrics"][arch] = {k: v for k, v in metrics.items() if isinstance(v, (int, float))}
            print(f"{i:2d} {spec.id} {name}: GPS AP {metrics['gps_ap']:.1f}, loss {metrics['loss']:.3f} "
                  f"({entry['wall_seconds'][arch]:.0f} s)", flush=True)
            write(report_file, report)
    for variant, held in report["variants"].items():
        both = [a for a in archs if a in held["metrics"] and a in long]
        if len(both) < 3:
            gps = ", ".join(f"{ArchSpec.from_string(a).id} {held['metrics'][a]['gps_ap']:.1f} (10x: {long[a]:.1f})" for a in both)
            print(f"{variant}: {len(both)} of {len(archs)} architectures trained, too few to rank: {gps}")
            continue
        readings = VARIANT_SCORES + tuple(s for s in ALTERNATIVE_SCORES  # scores recorded for every architecture of the variant
                                          if s not in VARIANT_SCORES and all(s in held["metrics"][a] for a in both))
        taus = score_taus(held["metrics"], long, both, readings)  # None: a score the same for all (e.g. all 0)
        held["kendall_tau_vs_long"], held["over"] = taus, len(both)
        median_s = statistics.median(held["wall_seconds"][a] for a in both)
        print(f"{variant} over {len(both)} architectures (median trial {median_s:.0f} s), Kendall tau against the {reference_name}: "
              + taus_text(taus))
    report["gps_ap_tau_between"] = between = taus_between_variants(report["variants"], archs)
    for pair, held in between.items():
        first, second = pair.split(" vs ")
        print(f"GPS AP Kendall tau between {first} and {second} over {held['over']} architectures: {tau_text(held['tau'])}")
    write(report_file, report)


def repeat(args: argparse.Namespace) -> None:
    """Where does the proxy's run-to-run change come from: the training or the evaluation?

    Trains fidelity architectures (``--pick``: their positions in the fidelity report) with
    the same seed and data under each ``--threads`` count (float sums in another order, as
    on another machine), and evaluates each final model on the proxy's validation images,
    on all of them, and on disjoint slices of the proxy's size. If evaluating on more images
    does not bring the thread counts together, the change is the training's own."""
    data = ensure_data(args.data, args.images, args.scene)
    identity = data_identity(data)
    fidelity_path = REPORTS / f"{report_name('proxy_fidelity', identity, args)}.json"
    if not fidelity_path.is_file():
        raise SystemExit(f"{fidelity_path.relative_to(ROOT)} is missing: run `python bench/bench_proxy.py fidelity` on the same data first")
    fidelity_report = json.loads(fidelity_path.read_text())
    archs = fidelity_report["archs"]
    if any(not 0 <= i < len(archs) for i in args.pick):
        raise SystemExit(f"--pick {' '.join(map(str, args.pick))}: positions run 0..{len(archs) - 1} in {fidelity_path.relative_to(ROOT)}")
    from nas.train import Evaluator, resolve_device

    # the validation sets, read once: all images, and disjoint slices of the proxy's size
    source, config = DatasetSource.load(data), proxy_config(ema_decay=args.ema)
    device = resolve_device(config.device)
    everything = Evaluator(source, replace(config, val_images=None), device)
    total = len(everything.image_ids)
    proxy_images = min(config.val_images or total, total)  # a proxy without a limit evaluates on all
    slices = [Evaluator(source, config, device, images=range(k, k + proxy_images), surface=everything.surface) for k in range(0, total - proxy_images + 1, proxy_images)]
    name = report_name("proxy_repeat", identity, args)
    if config.ema_decay:  # the report of the last weights (--ema 0) keeps its earlier name
        name += f"_ema{config.ema_decay:g}"
    report: dict[str, Any] = {"proxy": config.to_dict(), "data": identity, "threads": args.threads, "runs": {}}
    for i in args.pick:
        spec = ArchSpec.from_string(archs[i])
        runs = report["runs"].setdefault(spec.to_string(), {"fidelity_report_gps_ap": fidelity_report["proxy"].get(spec.to_string())})
        for threads in args.threads:
            start = time.perf_counter()
            result = train(spec, data, replace(config, threads=threads), progress=False)
            assert result.model is not None
            result.model.eval()
            scores = {"proxy_val": result.metrics["gps_ap"], "all_val": everything(result.model)["gps_ap"],
                      "slices": [evaluate_slice(result.model)["gps_ap"] for evaluate_slice in slices],
                      "wall_seconds": round(time.perf_counter() - start, 1)}
            runs[str(threads)] = scores
            print(f"{i:2d} {spec.id} {threads} thread(s): GPS AP {scores['proxy_val']:.1f} on the proxy's {proxy_images} "
                  f"validation images, {scores['all_val']:.1f} on all {total}; slices of {proxy_images}: "
                  + " ".join(f"{x:.1f}" for x in scores["slices"]), flush=True)
            write(name, report)
    first, second = (str(t) for t in args.threads[:2])
    summary = repeat_summary(report["runs"], first, second)
    report["median_abs_change"], report["median_slice_std"] = summary["median_abs_change"], summary["median_slice_std"]
    print(f"over {summary['over']} architecture(s), median |{first} - {second} thread(s)|: "
          f"{report['median_abs_change']['proxy_val']:.1f} GPS AP points on the proxy's validation images, "
          f"{report['median_abs_change']['all_val']:.1f} on all; median spread (std) over validation slices of one model "
          f"{report['median_slice_std']:.1f}")
    write(name, report)


def non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def ema_decay(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"a decay per step in [0, 1), got {text}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    pool = sub.add_parser("pooled", help="rank the architectures of several fidelity reports together (trains nothing)")
    pool.add_argument("--reports", nargs="+", default=list(POOLED_REPORTS), metavar="NAME",
                      help="fidelity report names in bench/reports/, without .json")
    pool.add_argument("--resamples", type=positive_int, default=10_000, help="bootstrap resamples of the architectures")
    for name in ("cost", "discrimination", "fidelity", "stability", "variants", "repeat"):
        p = sub.add_parser(name)
        p.add_argument("--data", default=None, help="dataset folder or descriptor YAML (default: the benchmark's own synthetic set)")
        p.add_argument("--images", type=positive_int, default=PROXY_DATA_IMAGES,
                       help="without --data: images of the benchmark's own synthetic set (80%% train)")
        p.add_argument("--scene", choices=tuple(SCENE_PRESETS), default=PROXY_SCENE,
                       help="without --data: scene preset of that set (default: the proxy's); reports of another carry its name")
        if name == "discrimination":
            p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
            p.add_argument("--samples", type=int, default=3)
            p.add_argument("--resume", action="store_true", help="keep the trials of bench/reports/proxy_discrimination.json")
        if name == "fidelity":
            p.add_argument("--archs", type=int, default=12)
            p.add_argument("--sample-seed", type=non_negative, default=FIDELITY_SAMPLE_SEED,
                           help="seed of the architecture sample (another than the default: its own report, suffix _sampleS)")
            p.add_argument("--factor", type=float, default=10.0)
            p.add_argument("--resume", action="store_true", help="keep the trials of bench/reports/proxy_fidelity.json")
            p.add_argument("--repeat-long", type=non_negative, default=0, metavar="K",
                           help="train the first K architectures' long budget again at seed 1 (long-run noise)")
            p.add_argument("--jobs", type=positive_int, default=1, help="trainings at once, each in its own process")
            p.add_argument("--analyse-only", action="store_true", help="run nothing: print the figures of the report as it stands")
        if name == "stability":
            p.add_argument("--archs", type=int, default=12)
            p.add_argument("--seeds", type=int, nargs=2, default=[0, 1])
            p.add_argument("--resume", action="store_true", help="keep the trials of bench/reports/proxy_stability.json")
        if name == "variants":
            p.add_argument("--steps", type=positive_int, default=DEFAULT_PROXY.budget.steps, help="proxy training steps")
            p.add_argument("--lr", type=positive_float, default=DEFAULT_PROXY.lr, help="peak learning rate")
            p.add_argument("--batch", type=positive_int, default=DEFAULT_PROXY.batch_size, help="images per step")
            p.add_argument("--input", type=positive_int, nargs=2, default=list(DEFAULT_PROXY.input_size), metavar=("H", "W"),
                           help="training and evaluation input size")
            p.add_argument("--threads", type=positive_int, default=None,
                           help="torch threads per training (default: torch's, one per core); the name gets -tN")
            p.add_argument("--analyse-only", action="store_true", help="run nothing: print the figures of the report as it stands")
        if name in ("variants", "repeat"):
            p.add_argument("--ema", type=ema_decay, default=DEFAULT_PROXY.ema_decay, metavar="DECAY",
                           help="evaluate a moving average of the weights with this decay per step (0: the last weights)")
        if name == "repeat":
            p.add_argument("--pick", type=non_negative, nargs="+", default=[5, 8],
                           help="positions in the fidelity report's architectures (default: the two whose proxy GPS AP moved "
                                "most between the fidelity and variants runs)")
            p.add_argument("--threads", type=positive_int, nargs=2, default=[1, 2], help="the two thread counts to compare")
    args = parser.parse_args()
    if getattr(args, "data", None) and args.scene != PROXY_SCENE:
        parser.error(f"--scene {args.scene}: only for the benchmark's own data; --data brings its own scenes")
    {"cost": cost, "discrimination": discrimination, "fidelity": fidelity, "stability": stability, "variants": variants,
     "repeat": repeat, "pooled": pooled}[args.what](args)


if __name__ == "__main__":
    main()
