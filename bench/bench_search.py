"""Benchmarks of the search (issue 6).

* ``efficiency``: at equal proxy settings, the hypervolume (GPS AP vs latency, one common
  reference) that TPE and NSGA-II reach after ``--guided`` trials against random search
  after ``--random`` trials (target: guided(40) >= random(120)).
* ``overhead``: orchestration cost per trial beyond the trial's own work, with trials run
  one at a time: (search wall time - Ray start-up) / trials - mean trial wall time
  (target: under 3 s).
* ``scaling``: the same trials (random sampler, same seed, 1 CPU each) searched on a
  1-node and on a 2-node Ray cluster started on 127.0.0.1 (separate ``ray start``
  processes: ``nas.search.local_cluster``) by ``nas search --address``; efficiency =
  T(1 node) / (2 x T(2 nodes)) (target: at least 0.85). On one machine both nodes share
  its cores, memory bandwidth and caches, so this under-states what two real machines give.

Each prints its figures and writes a JSON report to bench/reports/. ``--quick`` runs a
small version on the shipped tiny space (search_spaces/tiny.yaml) with a synthetic latency table.

    python bench/bench_search.py overhead --quick
    python bench/bench_search.py scaling --quick --trials 12 --steps 20
    python bench/bench_search.py efficiency                  # hours; a second start continues it
    python bench/bench_search.py efficiency --analyse-only   # report on the runs so far
    python bench/bench_search.py efficiency --only tpe,nsga2 --recorded bench/reports/search_efficiency.json
        # guided runs only, against random search's recorded figures (same proxy settings)
    python bench/bench_search.py efficiency --only tpe --min-gps-ap 5 --recorded bench/reports/search_efficiency.json
        # another draw (--seed, --min-gps-ap): its own folders, kept trials and report
    python bench/bench_search.py efficiency --only tpe --target-ms 100 --recorded bench/reports/search_efficiency.json
        # TPE on the hard MnasNet reward (GPS AP under 100 ms): one objective, same hypervolume
    python bench/bench_search.py efficiency --images 2000 --steps 150 --only tpe
        # another landscape: the default proxy budget on bench_proxy.py's 2,000-image set

``efficiency`` also draws the hypervolume after each finished trial for every sampler
(bench/reports/search_efficiency.png). Its run folders are not committed, only their trials
(bench/inputs/search_efficiency_runs/, inputs of later runs): on a machine without the
folder, a run is analysed from its kept trials, and a random-search run rebuilt from them
and continued (see ``_restore_run``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nas.pareto.analysis import Point
    from nas.search import Objective, SearchConfig
    from nas.runs.rows import TrialRow

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "bench" / "reports"
KEPT_RUNS = ROOT / "bench" / "inputs" / "search_efficiency_runs"  # the efficiency runs' trials, read back by later runs
DEMO_STEPS = 100  # the demo's proxy budget, the efficiency runs' default


def _inputs(args: argparse.Namespace, work: Path) -> tuple[str, str, str]:
    """(space, table, data): with --quick the shipped tiny space, a synthetic table and tiny data."""
    if not args.quick:
        from nas.errors import DataError
        from nas.train.proxy import benchmark_data

        # bench_proxy.py's data folder for --images (the proxy scene searches train on): it
        # outlives this run, as a resumed search needs
        try:
            return args.space, args.table, str(benchmark_data(args.data, ROOT / ".cache", args.images))
        except DataError as err:
            raise SystemExit(f"--data {err}") from None
    from nas.data import SynthConfig, generate_dataset
    from nas.latency.synthetic import write_synthetic_table
    from nas.shipped import TINY_SPACE, shipped

    space = shipped(TINY_SPACE).resolve()
    table = write_synthetic_table(work / "table", space, baselines=())
    if args.data:  # a dataset folder or descriptor, used as it is
        from nas.data.source import DatasetSource
        from nas.errors import DataError

        try:
            DatasetSource.load(args.data)
        except DataError as err:
            raise SystemExit(f"--data {err}") from None
        return str(space), str(table), str(Path(args.data).resolve())
    data = work / "data"
    if not (data / "annotations" / "train.json").is_file():
        generate_dataset(data, SynthConfig(images=12, size=128, seed=0), workers=2, progress=False)
    return str(space), str(table), str(data)


def _config(args: argparse.Namespace, space: str, table: str, data: str, out: Path, sampler: str, trials: int, cpus: float):
    from nas.search import SearchConfig
    from nas.space.search_space import SearchSpace
    from nas.train.budget import Budget
    from nas.train.proxy import DEFAULT_PROXY

    proxy = replace(DEFAULT_PROXY, budget=Budget(steps=args.steps), val_images=args.val_images, evals=1, device="cpu", ema_decay=args.ema,
                    input_size=SearchSpace.from_yaml(space).proxy_input, batch_size=2 if args.quick else DEFAULT_PROXY.batch_size)
    return SearchConfig(space=str(Path(space).resolve()), table=table, data=data, out=str(out), trials=trials, sampler=sampler,
                        objective=_objective(args), baselines=(), proxy=proxy, seed=args.seed, cpus_per_trial=cpus)


def _objective(args: argparse.Namespace) -> Objective:
    from nas.search import Objective

    if args.target_ms is not None:  # the MnasNet reward, one objective
        return Objective(kind="reward", target_ms=args.target_ms, reward_mode=args.reward_mode)
    return Objective() if args.min_gps_ap is None else Objective(min_gps_ap=args.min_gps_ap)


def overhead(args: argparse.Namespace) -> dict[str, object]:
    import os

    import ray

    from nas.runs.store import ResultsStore
    from nas.search import run_search
    from nas.search.cluster import connect, disconnect

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        space, table, data = _inputs(args, work)
        cpus = float(os.cpu_count() or 1)  # one trial at a time: each takes every CPU
        started = time.perf_counter()
        connect(None)
        startup = time.perf_counter() - started
        disconnect()
        ray.shutdown()
        started = time.perf_counter()
        run_search(_config(args, space, table, data, work / "run", "random", args.trials, cpus))
        total = time.perf_counter() - started
        walls = [r.wall_seconds for r in ResultsStore(work / "run").rows().values() if r.status == "finished"]
    per_trial = (total - startup) / len(walls) - statistics.fmean(walls)
    return {"trials": len(walls), "search_seconds": total, "ray_startup_seconds": startup, "mean_trial_seconds": statistics.fmean(walls),
            "overhead_seconds_per_trial": per_trial, "target_seconds": 3.0, "meets_target": per_trial < 3.0}


def _tpe_good_set(ordered: list[Point], floor: float, n: int) -> list[list[float]]:
    """TPE's "good" trials (latency ms, GPS AP) after the first ``n`` of ``ordered``, told as
    a search with ``floor`` tells them (:func:`nas.analysis.tpe.tpe_good_set`): which
    networks TPE would sample around next, whatever sampler made the run."""
    from nas.analysis.tpe import told_ap, tpe_good_set

    first = ordered[:n]
    return sorted([round(first[i].cost, 1), round(told_ap(first[i].gps_ap), 2)]
                  for i in tpe_good_set([(p.gps_ap, p.cost) for p in first], floor))


def _plot_curves(curves: dict[str, list[float]], runs: dict[str, int], guided: int, path: Path,
                 recorded_random: dict[int, float] | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=120)
    colours = {"tpe": "#d62728", "nsga2": "#2ca02c", "random": "#7f7f7f"}
    spare = iter(["#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"])  # kept earlier runs
    for sampler, curve in curves.items():
        earlier = sampler not in colours  # a kept earlier run: thin and dashed
        ax.plot(range(1, len(curve) + 1), curve, color=colours.get(sampler) or next(spare, "#bcbd22"), linewidth=1.1 if earlier else 1.6,
                linestyle="--" if earlier else "-", drawstyle="steps-post", label=f"{sampler} ({len(curve)} of {runs[sampler]} trials)")
    if curves.get("random"):
        ax.axhline(curves["random"][-1], color=colours["random"], linestyle="--", linewidth=1,
                   label=f"random after {len(curves['random'])}")
    for trials, hv in sorted((recorded_random or {}).items()):  # random search's recorded run
        if trials == runs["random"]:
            ax.axhline(hv, color=colours["random"], linestyle="--", linewidth=1, label=f"random after {trials} (recorded run)")
        else:
            ax.plot([trials], [hv], marker="x", color=colours["random"], linestyle="none", label=f"random after {trials} (recorded run)")
    ax.axvline(guided, color="black", linestyle=":", linewidth=1, label=f"{guided} trials")
    ax.set_xlabel("finished trials")
    ax.set_ylabel("hypervolume (GPS AP x ms)")
    ax.set_title("Search efficiency: hypervolume of GPS AP vs latency, one reference for all runs", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def efficiency(args: argparse.Namespace) -> dict[str, object]:
    from nas.search import resume_search, run_search

    out = Path(args.out)
    # guided runs first: random's hypervolume only grows with trials, so a guided run that
    # falls short of random's partial figure has already missed the target
    runs = {"tpe": args.guided, "nsga2": args.guided, "random": args.random}
    folders = {sampler: out / f"{sampler}-{trials}" for sampler, trials in runs.items()}
    if not args.analyse_only:
        with tempfile.TemporaryDirectory() as tmp:
            space, table, data = _inputs(args, Path(tmp))
            for sampler, folder in folders.items():
                if args.only and sampler not in args.only:
                    continue
                config = _config(args, space, table, data, folder, sampler, runs[sampler], 1.0)
                kept = _kept_path(folder, _draw_tag(args))
                if not (folder / "config.json").is_file() and kept.is_file():
                    _restore_run(config, kept)  # a run begun on another machine continues from its kept trials
                if not (folder / "config.json").is_file():
                    run_search(config)
                else:  # a run cut short (session ended, killed) continues where it stopped
                    resume_search(folder)
    with tempfile.TemporaryDirectory() as tmp:
        return _efficiency_report(args, runs, folders, Path(tmp))


def _efficiency_report(args: argparse.Namespace, runs: dict[str, int], folders: dict[str, Path], tmp: Path) -> dict[str, object]:
    """The efficiency report on the runs in ``folders``; a run whose folder is not on this
    machine is analysed from its kept trials (a stand-in folder under ``tmp``)."""
    from nas.analysis.efficiency import hypervolume_curve, proposal_order
    from nas.errors import ResultsError
    from nas.pareto import analyse

    out = Path(args.out)
    stand_ins = {}
    for sampler, folder in folders.items():
        kept = _kept_path(folder, _draw_tag(args))
        if not (folder / "config.json").is_file() and kept.is_file():
            stand_ins[sampler] = _stand_in(_config(args, args.space, args.table, "", tmp / folder.name, sampler, runs[sampler], 1.0), kept)
    # earlier runs kept beside them (e.g. tpe-grouped-40, another TPE configuration) are
    # reported and drawn too, never run
    others = {f.name.rsplit("-", 1)[0]: f for f in sorted(out.glob("*-*")) if (f / "config.json").is_file() and f not in folders.values()}
    reports = {}
    for sampler, folder in {**folders, **stand_ins, **others}.items():
        try:
            reports[sampler] = analyse(folder)
        except ResultsError:  # not started, or no trial finished yet
            continue
    if not reports:
        raise SystemExit(f"no efficiency run under {out}: run without --analyse-only first")
    present = {s: f for s, f in {**folders, **stand_ins, **others}.items() if s in reports}
    floors = {s: floor for s, folder in present.items() if (floor := _min_gps_ap(folder)) is not None}
    _keep_trials({s: f for s, f in present.items() if s not in stand_ins}, _draw_tag(args))
    # random search's figures from an earlier report when its run is not here (120 trials
    # are hours; the proxy is deterministic, so the same settings give the same trials)
    recorded = _recorded_random(Path(args.recorded)) if args.recorded and "random" not in reports else None
    if recorded:
        ref = recorded["reference_ms"]  # the recorded random hypervolume's reference
    else:
        ref = max(p.cost for r in reports.values() for p in r.points) * 1.1  # one reference for all runs
    ordered = {s: proposal_order(r.points) for s, r in reports.items()}
    curves = {s: hypervolume_curve(points, ref) for s, points in ordered.items()}
    first_aps = {s: [p.gps_ap for p in points[: args.guided]] for s, points in ordered.items()}
    final = {s: (c[-1] if c else 0.0) for s, c in curves.items()}
    if recorded:
        random_at = recorded["hypervolume_at"]
    else:
        random_at = {n: curves["random"][n - 1] for n in (args.guided, args.random) if len(curves.get("random", [])) >= n}
    plot = REPORTS / f"{_efficiency_stem(args, bool(recorded))}.png"
    _plot_curves(curves, {**runs, **{name: args.guided for name in others}}, args.guided, plot,
                 recorded_random=random_at if recorded else None)
    # the runs this command is about (--only) have all their trials; random's may be recorded
    complete = all(len(curves.get(s, [])) >= n for s, n in runs.items()
                   if (not args.only or s in args.only) and not (recorded and s == "random"))
    report: dict[str, object] = {
        "reference_ms": ref, "trials": runs, "finished": {s: len(c) for s, c in curves.items()},
        "hypervolume": final, "random_hypervolume_at": random_at,
        "best_gps_ap": {s: max((p.gps_ap for p in r.points), default=0.0) for s, r in reports.items()},
        # how often a sampler proposes a network that learns at all within the proxy
        f"median_gps_ap_first_{args.guided}": {s: statistics.median(aps) for s, aps in first_aps.items()},
        f"gps_ap_5_or_more_first_{args.guided}": {s: sum(ap >= 5.0 for ap in aps) for s, aps in first_aps.items()},
        "max_latency_ms": {s: max(p.cost for p in r.points) for s, r in reports.items()},
        "min_gps_ap": floors,
        # [latency ms, GPS AP] of TPE's good trials after 30 trials, under the run's floor
        "tpe_good_set_after_30": {s: _tpe_good_set(ordered[s], floor, 30) for s, floor in floors.items() if len(ordered[s]) >= 30},
        "earlier_runs": sorted(others),
        "plot": str(plot.relative_to(ROOT))}
    if recorded:
        report["recorded_random"] = {"from": args.recorded, "best_gps_ap": recorded["best_gps_ap"],
                                     "note": "random search's run is not here: its hypervolumes and reference are the recorded ones"}
    random_final = random_at.get(args.random)
    if complete and random_final is not None:
        for sampler in ("tpe", "nsga2"):
            if sampler in final:
                report[f"{sampler}_meets_target"] = final[sampler] >= random_final
    else:
        report["incomplete"] = "runs still short of their trials; the command continues them"
    return report


def _restore_run(config: SearchConfig, kept: Path) -> None:
    """Rebuild the run folder ``config.out`` from its kept trials (``kept``, a trials.csv),
    as its last driver would have left it had it been killed when the file was kept:
    config, rows and the Optuna journal, then the markers of its driver sessions, so that
    ``resume_search`` goes on with the next session, as ``nas search --resume`` would.

    The journal is rebuilt by asking each session's seeded sampler (see
    :func:`nas.search.samplers.session_seed`) for every trial number in order and telling
    it the kept outcome. A number without a row is, as the searcher makes them, a repeat
    (answered from the earlier trial) or a trial still running when the file was kept
    (told FAIL and its choices queued again, as :func:`nas.search.run.settle_running`
    does). That reproduces the run only where the sampler's proposals do not depend on
    the order outcomes arrived in (random search; TPE and NSGA-II saw other trials still
    running), so every proposal is checked against the kept architecture and latency, and
    any difference ends the restore with nothing written. The rows' metrics are the kept
    ones, trained on another machine with the same deterministic proxy."""
    import optuna
    from optuna.trial import TrialState

    from nas.latency.table import LatencyTable
    from nas.runs.store import ResultsStore, journal_storage
    from nas.search.samplers import LATENCY_ATTR, make_sampler
    from nas.search.searcher import ARCH_ATTR, REPEAT_ATTR, STUDY_NAME, tell
    from nas.space.search_space import SearchSpace

    rows = {r.number: r for r in _read_kept(kept)}
    space, table = SearchSpace.from_yaml(config.space), LatencyTable.load(config.table)
    final = Path(config.out)
    building = final.with_name(final.name + ".restoring")
    shutil.rmtree(building, ignore_errors=True)
    store = ResultsStore(building)
    store.save_config(replace(config, out=str(final)).to_dict())
    modes = config.objective.modes
    directions = ["minimize" if m == "min" else "maximize" for m in (modes if isinstance(modes, list) else [modes])]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = journal_storage(store)

    def refuse(message: str) -> None:
        shutil.rmtree(building)
        raise SystemExit(f"{kept}: {message}; the run cannot be rebuilt from it (move the file aside to start the run afresh)")

    finished: dict[str, TrialRow] = {}
    requeue: list[tuple[dict[str, Any], int]] = []  # running when their driver died: queued when the next one starts
    session, study = -1, None

    def settle() -> None:
        assert study is not None
        for params, number in requeue:
            study.enqueue_trial(params, user_attrs={"rerun_of": number})
        requeue.clear()

    for number in range(max(rows) + 1 if rows else 0):
        row = rows.get(number)
        if row is not None and row.session != session:  # a new driver session: its own sampler stream
            if row.session < session:
                refuse(f"trial {number} belongs to session {row.session}, after trials of session {session}")
            session = row.session
            if study is not None:
                settle()
            study = optuna.create_study(storage=storage, sampler=make_sampler(config.sampler, config.seed, config.trials, session),
                                        study_name=STUDY_NAME, directions=directions, load_if_exists=True)
        assert study is not None  # trial 0 always has a row: nothing runs before it
        trial = study.ask()
        spec = space.suggest(trial)
        arch, latency = spec.to_string(), table.predict_ms(spec)
        trial.set_user_attr(LATENCY_ATTR, latency)  # as the searcher sets them on every suggestion
        trial.set_user_attr(ARCH_ATTR, arch)
        if row is None:
            earlier = finished.get(arch)
            if earlier is not None:  # a repeat, answered from the earlier trial
                trial.set_user_attr(REPEAT_ATTR, earlier.trial)
                tell(study, trial.number, earlier, config.objective)
            else:  # running when its driver died or the file was kept: failed, and queued again by the next driver
                study.tell(trial, state=TrialState.FAIL)
                requeue.append((trial.params, trial.number))
            continue
        if arch != row.arch:
            refuse(f"the {config.sampler} sampler (seed {config.seed}, session {session}) proposes another architecture for "
                   f"trial {number} than the kept run trained (only proposals that do not depend on finishing order replay)")
        if abs(latency - row.latency_ms) > 1e-6 * max(1.0, latency):
            refuse(f"trial {number} was kept with latency {row.latency_ms:.4f} ms, but {config.table} predicts {latency:.4f} ms")
        tell(study, trial.number, row, config.objective)
        if row.status == "finished":
            finished.setdefault(arch, row)
    if study is not None:
        settle()  # what the resumed driver re-runs first, as settle_running would queue it
    store.put_many(list(rows.values()))  # every one checked against its replayed proposal
    for k in range(session + 1):  # the kept run's driver sessions: a resume draws from the next
        (building / "ray" / f"session-{k}").mkdir(parents=True)
    building.rename(final)
    print(f"restored {final} from {kept}: {len(rows)} kept trial(s) of {session + 1} session(s), "
          "replayed through the seeded sampler", flush=True)


def _read_kept(kept: Path) -> list[TrialRow]:
    """The rows of a kept trials.csv in trial-number order, or a clear exit."""
    import csv

    from nas.runs.rows import TrialRow

    with kept.open(newline="") as handle:  # an empty cell is a missing value (NaN, -1 or "" by the column's type)
        rows = sorted((TrialRow.from_dict({k: v if v != "" else None for k, v in r.items()}) for r in csv.DictReader(handle)),
                      key=lambda r: r.number)
    numbers = [r.number for r in rows]
    if len(set(numbers)) != len(numbers) or (rows and numbers[0] != 0) or any(r.kind != "search" for r in rows):
        raise SystemExit(f"{kept}: not the kept trials of one search run (distinct trial numbers from 0, no baselines); "
                         "move it aside to start the run afresh")
    return rows


def _stand_in(config: SearchConfig, kept: Path) -> Path:
    """A folder holding only ``config`` and the kept rows: enough to analyse a run that is not
    on this machine (it has no Optuna journal, so it can never be resumed)."""
    from nas.runs.store import ResultsStore

    store = ResultsStore(config.out)
    store.save_config(config.to_dict())
    store.put_many(_read_kept(kept))
    return store.root


def _recorded_random(path: Path) -> dict[str, Any]:
    """Random search's figures from an earlier efficiency report, or a clear exit."""
    try:
        report = json.loads(path.read_text())
        return {"reference_ms": float(report["reference_ms"]), "best_gps_ap": report["best_gps_ap"]["random"],
                "hypervolume_at": {int(n): float(hv) for n, hv in report["random_hypervolume_at"].items()}}
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SystemExit(f"--recorded {path}: not an efficiency report with random search's figures ({type(exc).__name__}: {exc})") from None


def _draw_tag(args: argparse.Namespace) -> str:
    """How a draw other than the default is told apart in its folders and kept files: other
    data ("-2000img"), another proxy budget ("-150steps"), another sampler seed ("-seed1"), a
    weight average in the proxy ("-ema0.98"), another "learned" floor ("-floor5"), the reward
    objective ("-hard150": mode and target ms); empty for the default."""
    from nas.search.objective import DEFAULT_MIN_GPS_AP
    from nas.train.proxy import PROXY_DATA_IMAGES

    tag = f"-{args.images}img" if args.images != PROXY_DATA_IMAGES else ""
    tag += f"-{args.steps}steps" if args.steps != DEMO_STEPS else ""
    tag += f"-seed{args.seed}" if args.seed else ""
    tag += f"-ema{args.ema:g}" if args.ema else ""
    if args.target_ms is not None:
        tag += f"-{args.reward_mode}{args.target_ms:g}"
    if args.min_gps_ap is not None and args.min_gps_ap != DEFAULT_MIN_GPS_AP:
        tag += f"-floor{args.min_gps_ap:g}"
    return tag


def _efficiency_stem(args: argparse.Namespace, recorded: bool) -> str:
    """The efficiency report's file stem (JSON and PNG): one per draw, so that a second draw
    never overwrites the first."""
    return f"search_efficiency{'_vs_recorded' if recorded else ''}{_draw_tag(args).replace('-', '_')}"


def _keep_trials(folders: dict[str, Path], tag: str) -> None:
    """Copy each run's trials.csv (a few KB) to KEPT_RUNS: the run folders are not
    committed, and a later session can then analyse the trials without hours of proxy
    training (e.g. another reference, or draws pooled over sessions)."""
    for folder in folders.values():
        kept = _kept_path(folder, tag)
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / "trials.csv", kept)


def _kept_path(folder: Path, tag: str) -> Path:
    """Where the trials of the run folder ``folder`` of the draw ``tag`` are kept."""
    return KEPT_RUNS / f"{folder.name}{tag}.csv"


def _min_gps_ap(folder: Path) -> float | None:
    """The run's "learned" floor (0 for runs from before it existed; None for a reward run,
    which has no floor and no multi-objective good set)."""
    from nas.runs.store import ResultsStore
    from nas.search import SearchConfig

    objective = SearchConfig.from_dict(ResultsStore(folder).load_config()).objective
    return objective.min_gps_ap if objective.kind == "pareto" else None


def scaling(args: argparse.Namespace) -> dict[str, object]:
    import subprocess

    from nas.runs.store import ResultsStore
    from nas.search.local_cluster import local_cluster

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        space, table, data = _inputs(args, work)
        walls: dict[int, float] = {}
        nodes_used: dict[int, int] = {}
        trial_seconds: dict[int, float] = {}
        for nodes in (1, 2):
            out = work / f"run-{nodes}"
            argv = ["--out", str(out), "--space", space, "--table", table, "--data", data, "--trials", str(args.trials),
                    "--steps", str(args.steps), "--evals", "1", "--val-images", str(args.val_images), "--device", "cpu",
                    "--sampler", "random", "--seed", str(args.seed), "--cpus-per-trial", "1", "--no-baselines"]
            if args.quick:
                argv += ["--batch-size", "2", "--proxy-input", "128", "96"]
            with local_cluster(workers=nodes - 1) as cluster:
                log = work / f"driver-{nodes}.log"
                started = time.perf_counter()
                with log.open("ab") as sink:
                    code = subprocess.call([sys.executable, "-m", "nas", "search", *argv, "--address", cluster.address], cwd=ROOT,
                                           env=cluster.env, stdout=sink, stderr=subprocess.STDOUT)
                walls[nodes] = time.perf_counter() - started
            if code != 0:
                raise SystemExit(f"the {nodes}-node search failed:\n{log.read_text()[-3000:]}")
            rows = [r for r in ResultsStore(out).rows().values() if r.status == "finished"]
            if len(rows) != args.trials:
                raise SystemExit(f"the {nodes}-node search finished {len(rows)} of {args.trials} trials")
            nodes_used[nodes] = len({r.node for r in rows})
            trial_seconds[nodes] = statistics.median(r.wall_seconds for r in rows)
    efficiency_ = walls[1] / (2 * walls[2])
    return {"trials": args.trials, "steps": args.steps, "seconds_1_node": walls[1], "seconds_2_nodes": walls[2],
            "nodes_used": nodes_used, "median_trial_seconds": trial_seconds, "efficiency": efficiency_, "target": 0.85, "meets_target": efficiency_ >= 0.85}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", choices=("overhead", "efficiency", "scaling"))
    parser.add_argument("--quick", action="store_true", help="tiny space, synthetic table, tiny proxy")
    parser.add_argument("--space", default="search_spaces/densepose_mobile.yaml")
    parser.add_argument("--table", default="latency_tables/cpu-executorch-xnnpack-t1")
    parser.add_argument("--data", default=None, help="dataset folder or descriptor YAML (default: rendered synthetic data)")
    parser.add_argument("--out", default=None,
                        help="efficiency: run folders, reused when present (default results/bench-efficiency, with -Nimg / -Ssteps / -seedN / -floorX / -hardT for "
                             "other --images / --steps / --seed / --min-gps-ap / --target-ms)")
    parser.add_argument("--trials", type=int, default=10, help="overhead and scaling: trials")
    parser.add_argument("--guided", type=int, default=40)
    parser.add_argument("--random", type=int, default=120)
    parser.add_argument("--steps", type=int, default=None,
                        help=f"proxy steps (default {DEMO_STEPS}, the demo's; 2 with --quick, 20 for scaling --quick)")
    parser.add_argument("--images", type=int, default=None,
                        help="efficiency: train on bench_proxy.py's proxy-scene set of this many images (default: its default size)")
    parser.add_argument("--val-images", type=int, default=80, help="validation images per evaluation (default: the proxy's 80)")
    parser.add_argument("--seed", type=int, default=0)
    # 0 by default whatever the proxy's default: the kept efficiency runs were all trained with the
    # last weights, and a draw is continued or compared only under the settings it was made with
    parser.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                        help="proxy weight average's decay per step (default 0: the last weights, as every kept run; -emaD in the names)")
    parser.add_argument("--min-gps-ap", type=float, default=None,
                        help="efficiency: the guided samplers' \"learned\" floor (default: nas search's default)")
    parser.add_argument("--target-ms", type=float, default=None,
                        help="efficiency: search on the MnasNet reward with this latency target T (ms) instead of the Pareto pair")
    parser.add_argument("--reward-mode", choices=("soft", "hard"), default="hard", help="efficiency: the reward's exponent (with --target-ms)")
    parser.add_argument("--only", type=lambda text: text.split(","), default=None,
                        help="efficiency: run only these samplers (comma-separated), e.g. tpe,nsga2")
    parser.add_argument("--recorded", default=None,
                        help="efficiency: an earlier report whose random-search figures stand in when its run folder is absent")
    parser.add_argument("--analyse-only", action="store_true", help="efficiency: report on the runs as they are, run nothing")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only or ()) - {"tpe", "nsga2", "random"})
    if unknown:
        parser.error(f"--only: unknown sampler(s) {', '.join(unknown)}; known: tpe, nsga2, random")
    if not 0 <= args.ema < 1:
        parser.error(f"--ema: {args.ema} is not a decay per step in [0, 1) (0: the last weights)")
    if args.min_gps_ap is not None and not args.min_gps_ap >= 0:
        parser.error(f"--min-gps-ap: {args.min_gps_ap} is not a GPS AP floor (0 or more points; 0 turns it off)")
    if args.target_ms is not None and not args.target_ms > 0:
        parser.error(f"--target-ms: {args.target_ms} is not a latency target (a positive number of ms)")
    if args.target_ms is not None and args.min_gps_ap is not None:
        parser.error("--min-gps-ap applies to the Pareto objective only; drop it with --target-ms")
    if args.recorded and not Path(args.recorded).is_file():
        parser.error(f"--recorded: no report at {args.recorded} (e.g. bench/reports/search_efficiency.json)")
    if args.steps is None:
        args.steps = (20 if args.bench == "scaling" else 2) if args.quick else DEMO_STEPS
    if args.images is None:
        from nas.train.proxy import PROXY_DATA_IMAGES

        args.images = PROXY_DATA_IMAGES
    elif args.images < 10 or args.data or args.quick:
        parser.error(f"--images {args.images}: give at least 10 images, and not with --data or --quick (they bring their own data)")
    if args.out is None:  # another draw gets its own folders, never a resume of the default's (after the defaults: the tag reads them)
        args.out = f"results/bench-efficiency{_draw_tag(args)}"
    if args.quick:
        args.val_images = 2
    from nas.io import atomic_write_text

    REPORTS.mkdir(parents=True, exist_ok=True)
    report = {"overhead": overhead, "efficiency": efficiency, "scaling": scaling}[args.bench](args)
    print(json.dumps(report, indent=2))
    if args.bench == "efficiency":
        name = f"{_efficiency_stem(args, 'recorded_random' in report)}.json"
    else:
        name = f"search_{args.bench}{'_quick' if args.quick else ''}.json"
    atomic_write_text(REPORTS / name, json.dumps(report, indent=2) + "\n")  # a run killed mid-write leaves the last whole report
    return 0


if __name__ == "__main__":
    sys.exit(main())
