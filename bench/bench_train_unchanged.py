"""Benchmark (issue 36): does a faster training step leave the proxy's scores unchanged, and
how much faster is a whole proxy trial? The code as it was against the code as it is, side
by side in one run.

    python bench/bench_train_unchanged.py --before /tmp/nas_before [--archs 12] [--sample-seed 2] [--seed 0]
                                          [--threads 1] [--parallel 2] [--mid SPEC] [--data DATA] [--trial-timeout 3600]
                                          [--quick] [--json PATH]

``--before`` is the root of a checkout of the code as it was (a git worktree, e.g. ``git
worktree add /tmp/nas_before ed234c7``); "after" is this checkout. For each of ``--archs``
architectures it runs the default proxy trial exactly as a search trial trains and scores
a candidate: ``python -m nas train SPEC --data D --json`` with every setting of
``nas.train.proxy.DEFAULT_PROXY`` on the command line, seed ``--seed``, device cpu,
``--threads`` torch threads; once with the code at ``--before`` and once with this
checkout, each in its own process (``PYTHONPATH`` the checkout's root, working directory a
temporary folder outside both, ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` = ``--threads``; before
the trials, a child started the same way must import ``nas`` from that checkout, else the
run stops). With ``--parallel 2`` (default) the two trials of an architecture run at the
same time, so both see the same machine load and their wall-time ratio is fair on a noisy
machine (the next pair starts when both have finished); ``--parallel 1`` runs them one
after the other, alternating which goes first.

The architectures: the mid-size network of ``bench_train_speed.py`` (``mid``: median
backbone + neck MACs at the proxy input among 31 draws of the default space at seed 0,
the same rule; it is listed first and flagged ``mid``; ``--mid SPEC`` gives it instead, e.g.
an earlier report's ``mid``, saving the 30-80 s of counting MACs), then the first ``--archs`` - 1
other draws of the default space at ``--sample-seed``. The default 2 is the sample of
``bench_proxy.py fidelity`` and ``stability``, so 11 of the 12 are the networks the proxy's
seed-to-seed spread was measured on.

Per architecture it records GPS AP, GPSm AP, the training loss (mean of the last 20
steps), training and evaluation seconds (as the trial reports them: the evaluation of the
last point) and the wall seconds of the process (Python start-up and the dataset check
included, in both). It prints a table and a summary: the AP difference (after - before)
per architecture, its median and largest absolute value against the proxy's own
seed-to-seed spread (the median |GPS AP difference| between two seeds of the same trial,
from ``nas/export/proxy_record.json``, which names its report and command), whether every
score is bit-identical, the Kendall tau between the two rankings
(``nas.analysis.ranking.agreement``), and the median wall ratio before / after with the mid
network's ratio (issue 36's target: >= 1.5). The JSON report (default
bench/reports/train_unchanged.json, rewritten after every architecture) holds the inputs
(both checkouts: path, commit, uncommitted changes, where ``nas`` was imported from), the
command and environment, the rows and the summary. Without ``--data`` the proxy's
synthetic set (.cache/bench_proxy_data, ``nas.train.proxy.benchmark_data``) is used, the
same for both.

``--quick`` (CI-sized): 2 architectures, a 10-step budget, one evaluation on 4 validation
images; against /tmp/nas_before on the proxy data it took 97 s on 2 cores shared with other
work (load 2-6): ~40 s to start and find the mid network (``--mid`` skips most of it), 36 s
for the mid pair (19-20 s of training each, ~1.9 s a step at 1 thread), 19 s for the other.
Its report goes to bench/reports/train_unchanged_quick.json unless ``--json`` says otherwise.

How long the full run takes (an estimate; the full run was not made when this was
written): the proxy's stability study trained these 12 sampled networks alone at 2 threads
in 62-275 s a trial (1,170-1,710 s for all 12, bench/reports/proxy_stability.json), and the
mid network's trial took 111 s (proxy_cost.json). At 1 thread with the other core busy a
trial takes ~1.5-2x that, and a pair as long as its slower trial (the code as it was, if
the new one is faster), so ``--archs 12 --parallel 2 --threads 1`` should take ~35-60
minutes on an otherwise idle 2-core machine, plus ~1 minute to render the proxy data if
.cache/bench_proxy_data is missing. Its wall ratio compares the two codes under equal load;
the 111 s of the speed target was one trial alone at 2 threads, which ``--parallel 1
--threads 2`` reproduces (one after the other, so more exposed to other load; about as
long in total).
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
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from nas.analysis.ranking import agreement, defined
from nas.errors import NasError
from nas.export.record import RECORD_FILE, measured_record, shipped_record
from nas.io import atomic_write_json
from nas.model import FeatureNetwork
from nas.model.complexity import count_macs
from nas.shipped import DEFAULT_SPACE, shipped
from nas.space.references import resolve_arch
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec
from nas.train.budget import Budget
from nas.train.config import TrainConfig
from nas.train.proxy import DEFAULT_PROXY, benchmark_data

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "bench" / "reports"
MID_POOL, MID_SEED = 31, 0  # bench_train_speed.py's defaults for `mid`
QUICK = {"archs": 2, "steps": 10, "evals": 1, "val_images": 4}
# the proxy settings `nas train` takes, as (option, TrainConfig field); every other field
# must be at its TrainConfig default, since the command line cannot set it
OPTIONS = (("--batch-size", "batch_size"), ("--lr", "lr"), ("--evals", "evals"), ("--val-images", "val_images"),
           ("--seed", "seed"), ("--device", "device"), ("--threads", "threads"), ("--ema-decay", "ema_decay"))
SET_OTHERWISE = ("budget", "input_size")
TIMING_KEYS = ("train_seconds", "eval_seconds")  # in a trial's metrics, the only ones that may differ between runs


@dataclass(frozen=True)
class Checkout:
    """One side of the comparison: a checkout of nas and where its children import it from."""

    role: str  # "before" or "after"
    root: Path
    commit: str
    uncommitted_changes: int  # files `git status --porcelain` lists
    nas_file: str  # nas/__init__.py as a child imported it


@dataclass(frozen=True)
class Trial:
    """One proxy trial in its own process; seconds as measured (metrics: the trial's JSON)."""

    gps_ap: float
    gpsm_ap: float
    loss: float
    train_s: float
    eval_s: float
    wall_s: float
    metrics: dict[str, float]


def child_env(root: Path, threads: int) -> dict[str, str]:
    """The environment of a child that must import nas from ``root`` with ``threads`` threads."""
    return {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else "unknown (not a git checkout)"


def locate(role: str, path: Path, cwd: Path) -> Checkout:
    """The checkout at ``path``, checked: it holds the nas package, and a child started as
    the trials are (same environment, working directory ``cwd``) imports nas from it."""
    root = path.resolve()
    if not (root / "nas" / "__main__.py").is_file():
        raise NasError(f"--{role} {path}: not a checkout of nas (no nas/__main__.py in it); "
                       "give the root of a worktree of the project, e.g. git worktree add /tmp/nas_before ed234c7")
    probe = subprocess.run([sys.executable, "-c", "import nas; print(nas.__file__)"], cwd=cwd, env=child_env(root, 1),
                           capture_output=True, text=True)
    imported = probe.stdout.strip()
    if probe.returncode != 0 or Path(imported).resolve() != root / "nas" / "__init__.py":
        raise NasError(f"--{role} {path}: python with PYTHONPATH={root} imports nas from "
                       f"{imported or probe.stderr.strip().splitlines()[-1:]}, not from that checkout; check its nas/__init__.py")
    changed = _git(root, "status", "--porcelain")
    return Checkout(role=role, root=root, commit=_git(root, "rev-parse", "HEAD"),
                    uncommitted_changes=len(changed.splitlines()) if not changed.startswith("unknown") else -1,
                    nas_file=imported)


def mid_size(space: SearchSpace) -> ArchSpec:
    """bench_train_speed.py's ``mid``: median backbone + neck MACs at the proxy input among
    ``MID_POOL`` draws at seed ``MID_SEED``."""
    rng = np.random.default_rng(MID_SEED)
    archs = [space.sample(rng) for _ in range(MID_POOL)]
    h, w = space.proxy_input
    macs = [count_macs(FeatureNetwork(a), torch.randn(1, 3, h, w)) for a in archs]
    return archs[int(np.argsort(macs)[len(macs) // 2])]


def pick_archs(count: int, sample_seed: int, mid: ArchSpec | None = None) -> list[ArchSpec]:
    """The mid network (``mid``, else :func:`mid_size`'s) first, then the first ``count`` - 1
    other draws of the default space at ``sample_seed``."""
    space = SearchSpace.from_yaml(shipped(DEFAULT_SPACE))
    archs, rng = [mid or mid_size(space)], np.random.default_rng(sample_seed)
    for _ in range(1000 * count):  # the space holds far more than `count` networks; the bound only guards a loop
        if len(archs) == count:
            return archs
        arch = space.sample(rng)
        if arch not in archs:
            archs.append(arch)
    raise NasError(f"--archs {count}: the default space gave fewer distinct networks; ask for fewer")


def trial_config(args: argparse.Namespace) -> TrainConfig:
    """The proxy every trial runs: the default one at ``--seed`` on the cpu with ``--threads``
    (``--quick``: a short budget and a tiny evaluation)."""
    config = replace(DEFAULT_PROXY, seed=args.seed, device="cpu", threads=args.threads)
    if args.quick:
        config = replace(config, budget=Budget(steps=QUICK["steps"]), evals=QUICK["evals"], val_images=QUICK["val_images"])
    return config


def trial_command(arch: ArchSpec, data: Path, config: TrainConfig) -> list[str]:
    """``nas train`` with every setting of ``config`` given on the command line."""
    if config.budget.steps is None:
        raise NasError(f"the proxy's budget is {config.budget.describe()}, not steps: update bench/bench_train_unchanged.py")
    unset = [f.name for f in fields(TrainConfig) if f.name not in SET_OTHERWISE and f.name not in dict(OPTIONS).values()
             and getattr(config, f.name) != getattr(TrainConfig(), f.name)]
    if unset:
        raise NasError(f"the proxy sets {', '.join(unset)}, which nas train has no option for: "
                       "update bench/bench_train_unchanged.py")
    h, w = config.input_size
    command = [sys.executable, "-m", "nas", "train", arch.to_string(), "--data", str(data), "--json",
               "--budget-steps", str(config.budget.steps), "--proxy-input", str(h), str(w)]
    for option, name in OPTIONS:
        if getattr(config, name) is not None:
            command += [option, str(getattr(config, name))]
    return command


def run_trial(command: list[str], checkout: Checkout, threads: int, cwd: Path, log: Path, timeout: float) -> Trial:
    """One trial in its own process, importing nas from ``checkout`` (stderr into ``log``)."""
    start = time.perf_counter()
    with log.open("w") as err:
        try:
            done = subprocess.run(command, cwd=cwd, env=child_env(checkout.root, threads), stdout=subprocess.PIPE,
                                  stderr=err, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise NasError(f"a {checkout.role} trial ran past --trial-timeout {timeout:g} s: {' '.join(command)}") from None
    wall = time.perf_counter() - start
    if done.returncode != 0:
        last = [line for line in log.read_text(errors="replace").splitlines() if line.strip()][-1:]
        raise NasError(f"a {checkout.role} trial failed (exit {done.returncode}): {' '.join(command)}: {''.join(last)}")
    opening = done.stdout.find("{")  # --json prints one object; anything before it is not the trial's
    metrics = json.JSONDecoder().raw_decode(done.stdout[opening:])[0] if opening >= 0 else {}
    if "gps_ap" not in metrics:
        raise NasError(f"a {checkout.role} trial printed no metrics: {' '.join(command)}")
    return Trial(gps_ap=metrics["gps_ap"], gpsm_ap=metrics["gpsm_ap"], loss=metrics["loss"], train_s=metrics["train_seconds"],
                 eval_s=metrics["eval_seconds"], wall_s=round(wall, 2), metrics=metrics)


def run_pair(index: int, command: list[str], checkouts: tuple[Checkout, Checkout], args: argparse.Namespace,
             cwd: Path) -> dict[str, Trial]:
    """Both trials of one architecture: at the same time (``--parallel 2``) or one after the
    other, alternating which goes first."""
    def one(checkout: Checkout) -> Trial:
        log = cwd / f"{index:02d}_{checkout.role}.log"
        return run_trial(command, checkout, args.threads, cwd, log, args.trial_timeout)

    if args.parallel == 2:
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {c.role: pool.submit(one, c) for c in checkouts}
            return {role: future.result() for role, future in futures.items()}
    order = checkouts if index % 2 == 0 else checkouts[::-1]
    return {c.role: one(c) for c in order}


def scores(trial: Trial) -> dict[str, float]:
    return {k: v for k, v in trial.metrics.items() if k not in TIMING_KEYS}


def row(arch: ArchSpec, is_mid: bool, command: list[str], pair: dict[str, Trial]) -> dict[str, Any]:
    before, after = pair["before"], pair["after"]
    return {"arch": arch.to_string(), "id": arch.id, "mid": is_mid, "command": command,
            "before": asdict(before), "after": asdict(after),
            "gps_ap_difference": round(after.gps_ap - before.gps_ap, 3),
            "gpsm_ap_difference": round(after.gpsm_ap - before.gpsm_ap, 3),
            "identical_scores": scores(before) == scores(after),
            "wall_ratio": before.wall_s / after.wall_s, "train_ratio": before.train_s / after.train_s}


def seed_spread(config: TrainConfig) -> dict[str, Any]:
    """The proxy's own seed-to-seed spread and where it comes from."""
    recorded = json.loads(RECORD_FILE.read_text())
    figure = recorded["figures"]["seed_median_abs_difference"]
    return {"median_abs_difference": shipped_record().seed_median_abs_difference, "meaning": figure["meaning"],
            "file": str(RECORD_FILE.relative_to(ROOT)) if RECORD_FILE.is_relative_to(ROOT) else str(RECORD_FILE),
            "sources": figure["sources"], "metric": recorded["metric"], "metric_note": recorded.get("metric_note", ""),
            "measured_for_this_proxy": measured_record(config.to_dict()) is not None}


def summarise(rows: list[dict[str, Any]], spread: dict[str, Any]) -> dict[str, Any]:
    """The per-architecture figures gathered (``rows``: at least one)."""
    before = [r["before"]["gps_ap"] for r in rows]
    after = [r["after"]["gps_ap"] for r in rows]
    differences = [abs(r["gps_ap_difference"]) for r in rows]
    limit = spread["median_abs_difference"]
    summary: dict[str, Any] = {
        "over": len(rows), "gps_ap_differences": [r["gps_ap_difference"] for r in rows],
        "median_abs_gps_ap_difference": statistics.median(differences), "max_abs_gps_ap_difference": max(differences),
        "seed_median_abs_difference": limit, "within_seed_spread": statistics.median(differences) <= limit,
        "archs_beyond_seed_spread": sum(d > limit for d in differences),
        "identical_scores": sum(r["identical_scores"] for r in rows),
        "median_wall_ratio": statistics.median(r["wall_ratio"] for r in rows),
        "median_train_ratio": statistics.median(r["train_ratio"] for r in rows),
        "mid_wall_ratio": next((r["wall_ratio"] for r in rows if r["mid"]), None),
    }
    if len(rows) >= 2:
        with warnings.catch_warnings():  # equal scores (e.g. all 0 after a short run) leave tau undefined: said below
            warnings.simplefilter("ignore")
            agreed = agreement(before, after)
        summary["kendall_tau"], summary["spearman"] = defined(agreed["kendall_tau"]), defined(agreed["spearman"])
    return summary


def print_rows(rows: list[dict[str, Any]]) -> None:
    print(f"\n{'':3}{'arch':12}{'GPS AP':>15}{'diff':>7}{'GPSm AP':>15}{'train s':>15}{'eval s':>13}{'wall s':>15}{'ratio':>7}")
    print(f"{'':3}{'':12}{'before  after':>15}{'':7}{'before  after':>15}{'before  after':>15}"
          f"{'bef.  aft.':>13}{'before  after':>15}{'b / a':>7}")
    for i, r in enumerate(rows):
        b, a = r["before"], r["after"]
        print(f"{i:2d} {r['id'] + (' mid' if r['mid'] else ''):12}{b['gps_ap']:7.1f}{a['gps_ap']:7.1f}  {r['gps_ap_difference']:+6.1f}"
              f"{b['gpsm_ap']:8.1f}{a['gpsm_ap']:7.1f}{b['train_s']:8.1f}{a['train_s']:7.1f}{b['eval_s']:7.1f}{a['eval_s']:6.1f}"
              f"{b['wall_s']:8.1f}{a['wall_s']:7.1f}{r['wall_ratio']:7.2f}")


def print_summary(summary: dict[str, Any], spread: dict[str, Any]) -> None:
    source = spread["sources"][0]
    print(f"\nGPS AP after - before over {summary['over']} architecture(s): median |difference| "
          f"{summary['median_abs_gps_ap_difference']:.2f}, max {summary['max_abs_gps_ap_difference']:.2f} points; "
          f"{summary['identical_scores']} of {summary['over']} with every score identical")
    print(f"the proxy's seed-to-seed spread: median |difference| {spread['median_abs_difference']} points between two seeds "
          f"({spread['file']}: {source['report']}, key {source['key']}, {source['images']} images, `{source['command']}`; "
          f"{spread['metric']} GPS AP rules)")
    if not spread["measured_for_this_proxy"]:
        print("  (measured for the default proxy: this run's settings differ, so the comparison is only indicative)")
    verdict = "within" if summary["within_seed_spread"] else "BEYOND"
    print(f"=> the median difference is {verdict} the seed-to-seed spread; "
          f"{summary['archs_beyond_seed_spread']} architecture(s) differ by more than it")
    if "kendall_tau" in summary:
        tau = summary["kendall_tau"]
        print(f"Kendall tau between the before and after rankings: {'undefined' if tau is None else f'{tau:.2f}'}")
    mid = summary["mid_wall_ratio"]
    print(f"wall time before / after: median {summary['median_wall_ratio']:.2f}x (training alone "
          f"{summary['median_train_ratio']:.2f}x); mid network {'-' if mid is None else f'{mid:.2f}x'} (issue 36's target: >= 1.5x)")


def run(args: argparse.Namespace) -> dict[str, Any]:
    started, load_before = time.perf_counter(), os.getloadavg()
    data = benchmark_data(args.data, ROOT / ".cache").resolve()
    config = trial_config(args)
    spread = seed_spread(config)
    with tempfile.TemporaryDirectory(prefix="train_unchanged_") as folder:
        cwd = Path(folder).resolve()  # outside both checkouts: `python -m nas` must not find nas in its working directory
        checkouts = (locate("before", args.before, cwd), locate("after", ROOT, cwd))
        for c in checkouts:
            if cwd.is_relative_to(c.root):
                raise NasError(f"the temporary folder {cwd} lies inside the {c.role} checkout {c.root}; set TMPDIR elsewhere")
            print(f"{c.role}: {c.root} at {c.commit[:10]} ({c.uncommitted_changes} uncommitted change(s)); nas from {c.nas_file}")
        mid = resolve_arch(args.mid) if args.mid else None
        archs = pick_archs(args.archs, args.sample_seed, mid)
        rule = ("given with --mid" if mid else
                f"median backbone + neck MACs at the proxy input of {MID_POOL} draws at seed {MID_SEED}, bench_train_speed's `mid`")
        print(f"mid-size network ({rule}): {archs[0].id} {archs[0].to_string()}")
        print(f"{len(archs) - 1} other draw(s) of {DEFAULT_SPACE} at seed {args.sample_seed}; proxy {config.budget.describe()}, "
              f"{config.evals} evaluation(s) on {config.val_images} val images, seed {config.seed}, {args.threads} thread(s) a trial, "
              f"{'side by side' if args.parallel == 2 else 'one after the other'}; data {data}", flush=True)
        report: dict[str, Any] = {
            "inputs": {"before": {**asdict(checkouts[0]), "root": str(checkouts[0].root)},
                       "after": {**asdict(checkouts[1]), "root": str(checkouts[1].root)},
                       "data": str(data), "archs": [a.to_string() for a in archs], "mid": archs[0].to_string(),
                       "mid_rule": rule,
                       "sample_seed": args.sample_seed, "seed": args.seed, "threads": args.threads, "parallel": args.parallel,
                       "quick": args.quick, "proxy": config.to_dict(),
                       "child_env": {k: v for k, v in child_env(Path("CHECKOUT"), args.threads).items()
                                     if k in ("PYTHONPATH", "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
                       "child_cwd": "a temporary folder outside both checkouts"},
            "machine": {"cpus": os.cpu_count(), "torch": torch.__version__, "python": sys.version.split()[0]},
            "seed_spread": spread, "rows": [],
        }
        for i, arch in enumerate(tqdm(archs, desc="architectures", unit="arch")):
            command = trial_command(arch, data, config)
            report["rows"].append(row(arch, i == 0, command, run_pair(i, command, checkouts, args, cwd)))
            r = report["rows"][-1]
            tqdm.write(f"{i:2d} {arch.id}{' (mid)' if i == 0 else ''}: GPS AP {r['before']['gps_ap']:.1f} -> "
                       f"{r['after']['gps_ap']:.1f}, wall {r['before']['wall_s']:.0f} s -> {r['after']['wall_s']:.0f} s "
                       f"({r['wall_ratio']:.2f}x)")
            atomic_write_json(args.json, report, indent=2)  # a run cut short keeps its finished architectures
    print_rows(report["rows"])
    report["summary"] = summarise(report["rows"], spread)
    print_summary(report["summary"], spread)
    report["machine"]["load_average_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    report["wall_s"] = round(time.perf_counter() - started, 1)
    return report


def combine(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two reports of the same architectures at two training seeds, re-analysed: the proxy's
    own seed-to-seed spread under each code (today's metric, these architectures) against
    the change between the codes at each seed."""
    ids = [r["id"] for r in first["rows"]]
    other = {r["id"]: r for r in second["rows"]}
    missing = [i for i in ids if i not in other]
    if missing or first["inputs"]["seed"] == second["inputs"]["seed"]:
        raise NasError("give two reports of the same architectures at two different seeds "
                       f"(seeds {first['inputs']['seed']} and {second['inputs']['seed']}; missing in the second: {missing or 'none'})")
    pairs = [(r, other[r["id"]]) for r in first["rows"]]

    def gps(side: str, which: int) -> list[float]:
        return [pair[which][side]["gps_ap"] for pair in pairs]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        figures = {
            "before_seed_to_seed": agreement(gps("before", 0), gps("before", 1)),
            "after_seed_to_seed": agreement(gps("after", 0), gps("after", 1)),
            "change_at_first_seed": agreement(gps("before", 0), gps("after", 0)),
            "change_at_second_seed": agreement(gps("before", 1), gps("after", 1)),
        }
    change = [abs(a - b) for which in (0, 1) for a, b in zip(gps("before", which), gps("after", which))]
    spread = [abs(a - b) for a, b in zip(gps("before", 0), gps("before", 1))]
    figures["change_median_abs_difference"] = statistics.median(change)
    figures["before_seed_median_abs_difference"] = statistics.median(spread)
    figures["within_seed_spread"] = figures["change_median_abs_difference"] <= figures["before_seed_median_abs_difference"]
    figures["seeds"] = [first["inputs"]["seed"], second["inputs"]["seed"]]
    figures["over"] = len(pairs)
    return figures


def print_combined(figures: dict[str, Any]) -> None:
    first, second = figures["seeds"]
    print(f"GPS AP over {figures['over']} architectures, seeds {first} and {second}:")
    for key, label in (("before_seed_to_seed", f"code as it was, seed {first} vs {second}"),
                       ("after_seed_to_seed", f"code as it is,  seed {first} vs {second}"),
                       ("change_at_first_seed", f"as it was vs as it is, seed {first}"),
                       ("change_at_second_seed", f"as it was vs as it is, seed {second}")):
        f = figures[key]
        print(f"  {label}: median |difference| {f['median_abs_difference']:.2f} points, Kendall tau {f['kendall_tau']:.2f}")
    verdict = "within" if figures["within_seed_spread"] else "BEYOND"
    print(f"=> the change moves a score by a median {figures['change_median_abs_difference']:.2f} points (both seeds), {verdict} "
          f"the seed-to-seed spread of the code as it was ({figures['before_seed_median_abs_difference']:.2f})")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, help="root of a checkout of the code as it was")
    parser.add_argument("--combine", nargs=2, type=Path, metavar=("REPORT", "REPORT"),
                        help="re-analyse two reports of the same architectures at two seeds (trains nothing): "
                        "each code's seed-to-seed spread against the change between them")
    parser.add_argument("--archs", type=positive_int, help="architectures, the mid network included (default 12; --quick: 2)")
    parser.add_argument("--sample-seed", type=int, default=2, help="seed of the draws besides the mid network")
    parser.add_argument("--seed", type=int, default=0, help="training seed of every trial")
    parser.add_argument("--threads", type=positive_int, default=1, help="torch threads a trial")
    parser.add_argument("--parallel", type=int, choices=(1, 2), default=2,
                        help="2: the two trials of an architecture at once; 1: one after the other")
    parser.add_argument("--mid", metavar="SPEC", help="the mid network as a spec or reference name, when already known "
                        "(e.g. an earlier report's `mid`): skips counting the MACs of 31 networks (~30-80 s on 2 cores)")
    parser.add_argument("--data", help="dataset folder or descriptor YAML (default: the proxy's synthetic set)")
    parser.add_argument("--trial-timeout", type=float, default=3600.0, help="seconds a trial may take")
    parser.add_argument("--quick", action="store_true", help="CI-sized: 2 architectures, 10 steps, a tiny evaluation")
    parser.add_argument("--json", type=Path, help="report path (default bench/reports/train_unchanged[_quick].json)")
    args = parser.parse_args()
    if args.combine:
        try:
            figures = combine(*(json.loads(path.read_text()) for path in args.combine))
        except (OSError, ValueError, KeyError, NasError) as err:
            print(f"error: --combine: {err}", file=sys.stderr)
            sys.exit(2)
        print_combined(figures)
        out = args.json or REPORTS / "train_unchanged_seeds.json"
        atomic_write_json(out, {"reports": [str(p) for p in args.combine], **figures}, indent=2)
        print(f"\nwrote {out}")
        return
    if args.before is None:
        parser.error("--before is required (or --combine)")
    if args.archs is None:
        args.archs = QUICK["archs"] if args.quick else 12
    if args.json is None:
        args.json = REPORTS / f"train_unchanged{'_quick' if args.quick else ''}.json"
    try:
        report = run(args)
    except NasError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    atomic_write_json(args.json, report, indent=2)
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
