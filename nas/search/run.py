"""``nas search``: start or resume a search run and drive it to its requested trials.

A run is resumable at any instant because its truth lives in two durable files: the
Optuna journal (every ask/tell appended) and ``trials.parquet`` (every outcome, written
before the matching tell). A new driver session (``--resume``):

0. refuses a dataset changed since the run began (:mod:`nas.search.dataset`);
1. settles journal trials still RUNNING (the previous driver died while they ran): one
   with a row is told its recorded outcome; one without is told FAIL and its parameters
   re-enqueued, so the same architecture runs again (not lost, counted once);
2. counts the trials already done and runs only the rest, plus baselines not yet done;
3. starts Ray Tune on a fresh experiment folder ``ray/session-<k>``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import TrialState

from nas.errors import Interrupted, SearchError
from nas.lock import folder_lock
from nas.runs.front import front_trials
from nas.runs.rows import FINISHED
from nas.runs.store import ResultsStore, journal_storage
from nas.search.cluster import alive_nodes, check_address, connect, disconnect, node_resources
from nas.search.config import SearchConfig
from nas.search.dataset import check_unchanged, record_dataset
from nas.search.prepare import Inputs, load_inputs
from nas.search.progress import Progress, TrialStartPrinter
from nas.search.resources import check_trial_device, packing
from nas.search.samplers import make_sampler
from nas.search.searcher import NasSearch, tell, trial_name
from nas.search.trial import run_trial, trial_settings

__all__ = ["SearchSummary", "run_search", "resume_search", "settle_running", "DRIVER_LOCK"]

DRIVER_LOCK = "driver.lock"


def _driver_lock(root: Path) -> AbstractContextManager[None]:
    return folder_lock(root, DRIVER_LOCK, "nas search driver", "continue the run with --resume")


@dataclass(frozen=True)
class SearchSummary:
    """What a driver session left behind."""

    out: Path
    requested: int
    done: int
    finished: int
    stopped: int
    rejected: int
    failed: int
    baselines_done: int
    note: str = ""


def settle_running(study: optuna.Study, store: ResultsStore, config: SearchConfig) -> list[int]:
    """Settle trials a dead driver left RUNNING; returns the numbers re-enqueued.

    A trial with no row never finished: it is failed and its choices enqueued again. A driver
    killed while the sampler was still suggesting leaves only some choices; the rerun keeps
    those and samples the rest."""
    requeued: list[int] = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        row = store.get(trial_name(trial.number))
        if row is not None:
            tell(study, trial.number, row, config.objective)
        else:
            study.tell(trial.number, state=TrialState.FAIL)
            study.enqueue_trial(trial.params, user_attrs={"rerun_of": trial.number})
            requeued.append(trial.number)
    return requeued


def _counts(store: ResultsStore, config: SearchConfig) -> tuple[int, list[str]]:
    """(search trials done, baselines done)."""
    rows = store.rows().values()
    done = sum(1 for r in rows if r.kind == "search" and r.counts)
    baselines = [r.baseline for r in rows if r.kind == "baseline" and r.counts]
    return done, baselines


def _prune_weights(store: ResultsStore, config: SearchConfig) -> None:
    """Keep ``model.pt`` of front trials (and the top 5 by reward) only; they are what gets exported."""
    rows = list(store.rows().values())
    keep = front_trials(rows, config.objective.min_gps_ap)
    if config.objective.kind == "reward":
        ranked = sorted((r for r in rows if r.status == FINISHED and math.isfinite(r.reward)), key=lambda r: -r.reward)
        keep |= {r.trial for r in ranked[:5]}
    for row in rows:
        weights = store.trial_dir(row.trial) / "model.pt"
        if row.trial not in keep and weights.is_file():
            weights.unlink()


def _session(store: ResultsStore) -> int:
    root = store.root / "ray"
    return len(list(root.glob("session-*"))) if root.is_dir() else 0


def _drive(config: SearchConfig, inputs: Inputs, store: ResultsStore, session: int) -> SearchSummary:
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    storage = journal_storage(store)
    done, baselines_done = _counts(store, config)
    baselines = [(n, a) for n, a in inputs.baselines if n not in baselines_done]
    progress = Progress(config.trials, done, len(baselines))
    sampler = make_sampler(config.sampler, config.seed, config.trials, session)
    searcher = NasSearch(inputs.space, inputs.table, config.objective, store, sampler, storage, baselines,
                         config.max_latency_ms, session, on_row=progress.row)
    requeued = settle_running(searcher.study, store, config)
    if requeued:
        progress.print(f"resume: re-running {len(requeued)} trial(s) the previous driver left unfinished: "
                       + ", ".join(trial_name(n) for n in requeued))
    remaining = max(0, config.trials - done)
    samples = remaining + len(baselines)
    progress.print(f"search {store.root}: {remaining} of {config.trials} trial(s) to run"
                   + (f" + baselines {', '.join(n for n, _ in baselines)}" if baselines else "")
                   + f" (session {session}, sampler {config.sampler}, objective {config.objective.kind})")
    if samples > 0:
        connect(config.address)  # only when there is work: a complete run resumes without Ray
        at_once = _report_packing(config, progress, store.root)
        metric, mode = config.objective.asha_metric
        scheduler = (ASHAScheduler(metric=metric, mode=mode, time_attr="training_iteration", max_t=config.proxy.evals,
                                   grace_period=1, reduction_factor=2) if config.asha else FIFOScheduler())
        settings = trial_settings(str(store.root.resolve()), str(Path(config.data).resolve()), config.proxy.to_dict(),
                                  config.to_dict()["objective"], config.cpus_per_trial, config.supernet_settings())
        trainable = tune.with_resources(tune.with_parameters(run_trial, settings=settings),
                                        {"cpu": config.cpus_per_trial, "gpu": config.gpus_per_trial})
        # On one node, a finished trial's worker process runs the next trial: that saves the
        # process start and the torch/nas imports (~4-5 s a trial on a 2-core machine). On a
        # cluster every trial gets a fresh worker, because a reused one pins the following
        # trials to its node (a 2-node test then ran every trial on one node).
        reuse = alive_nodes() == 1
        tuner = tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(search_alg=searcher, scheduler=scheduler, num_samples=samples, reuse_actors=reuse),
            run_config=tune.RunConfig(name=f"session-{session}", storage_path=str((store.root / "ray").resolve()),
                                      failure_config=tune.FailureConfig(max_failures=config.max_failures),
                                      callbacks=[TrialStartPrinter(progress)], verbose=0),
        )
        # Ctrl-C: Ray Tune would catch it, save its own experiment state (which --resume does
        # not need) and return as if the run had ended; let it stop the driver instead, as a
        # kill would, and say how to continue.
        os.environ.setdefault("TUNE_DISABLE_SIGINT_HANDLER", "1")
        try:
            with _pending_trials(at_once):
                tuner.fit()
        except KeyboardInterrupt:
            done_now, _ = _counts(store, config)
            raise Interrupted(f"the search stopped at {done_now} of {config.trials} trial(s); continue it with "
                              f"`nas search --out {store.root} --resume`") from None
    _prune_weights(store, config)
    return _summary(store, config, searcher.gave_up or "")


@contextmanager
def _pending_trials(at_once: int) -> Iterator[None]:
    """Let Tune start as many trials at once as the nodes hold.

    With a custom searcher Tune keeps one trial pending at a time: the next is created only
    once the previous one's worker has started (~5 s: process start and imports), so four
    trials packed on a GPU started one after the other, and short ones never overlapped (a
    4-trial test with 2-step trials ran them one by one). A value the user set is kept."""
    name = "TUNE_MAX_PENDING_TRIALS_PG"
    if name in os.environ:
        yield
        return
    os.environ[name] = str(max(1, at_once))
    try:
        yield
    finally:
        os.environ.pop(name, None)


def _report_packing(config: SearchConfig, progress: Progress, root: Path) -> int:
    """Print how many trials run at once and return it; a local instance that cannot hold one
    trial is an error (Tune would wait for resources forever), a cluster may still gain nodes."""
    nodes = node_resources()
    fits = packing(nodes, config.cpus_per_trial, config.gpus_per_trial)
    if fits.at_once == 0 and config.address is None:
        raise SearchError(f"this machine's Ray instance ({fits.cpus:g} CPU, {fits.gpus:g} GPU) cannot hold one trial of "
                          f"{config.cpus_per_trial:g} CPU and {config.gpus_per_trial:g} GPU; continue the run with "
                          f"`nas search --out {root} --resume` and a lower --cpus-per-trial or --gpus-per-trial (0: train on "
                          "CPU), or on a cluster with --address")
    progress.print(fits.note() + ("; waiting for a node that can hold one" if fits.at_once == 0 else ""))
    return fits.at_once


def _summary(store: ResultsStore, config: SearchConfig, note: str) -> SearchSummary:
    rows = [r for r in store.rows().values()]
    search = [r for r in rows if r.kind == "search"]
    count = lambda status: sum(1 for r in search if r.status == status)  # noqa: E731
    return SearchSummary(store.root, config.trials, sum(1 for r in search if r.counts), count("finished"), count("stopped"),
                         count("rejected"), count("failed"), sum(1 for r in rows if r.kind == "baseline" and r.counts), note)


def run_search(config: SearchConfig) -> SearchSummary:
    """Start a new run in ``config.out`` (which must not hold a run already)."""
    check_trial_device(config.proxy.device, config.gpus_per_trial)
    store = ResultsStore(config.out)
    if store.root.is_file():
        raise SearchError(f"--out {store.root} is a file; a search run is a folder (e.g. results/RUN): choose another --out")
    if store.exists():
        raise SearchError(f"{store.root} already holds a search run; continue it with --resume or choose another --out")
    inputs = load_inputs(config)
    check_address(config.address)
    with _driver_lock(store.root):
        if store.exists():  # another driver created it since the check above
            raise SearchError(f"{store.root} already holds a search run; continue it with --resume or choose another --out")
        store.save_config(config.to_dict())
        record_dataset(store.root, inputs.data)
        try:
            return _drive(config, inputs, store, session=0)
        finally:
            disconnect()  # the local instance (or the cluster connection) is not needed after the run


def resume_search(out: str | Path, address: str | None = None, cpus_per_trial: float | None = None,
                  gpus_per_trial: float | None = None, trials: int | None = None) -> SearchSummary:
    """Continue the run in ``out`` to its requested trials (or to ``trials``, when given)."""
    store = ResultsStore(out)
    store.load_config()  # not a run folder: refused before a lock file is made there
    with _driver_lock(store.root):  # the configuration is read under the lock: another driver may change it
        config = SearchConfig.from_dict(store.load_config()).with_cluster(address, cpus_per_trial, gpus_per_trial)
        return _resume(store, config, trials)


def _resume(store: ResultsStore, config: SearchConfig, trials: int | None) -> SearchSummary:
    if trials is not None:
        from dataclasses import replace

        done, _ = _counts(store, config)
        if trials < done:
            raise SearchError(f"--trials {trials} with --resume is the run's new total, but {store.root} already has {done} "
                              f"trial(s) done; give {done} or more (its requested total is {config.trials})")
        config = replace(config, trials=trials)
    check_trial_device(config.proxy.device, config.gpus_per_trial)
    inputs = load_inputs(config)
    check_unchanged(store.root, inputs.data)  # before anything is changed: a refused resume leaves the run as it was
    if trials is not None:
        store.save_config(config.to_dict())
    check_address(config.address)
    try:
        return _drive(config, inputs, store, session=_session(store))
    finally:
        disconnect()
