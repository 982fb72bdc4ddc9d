"""Ray Tune's OptunaSearch adapted to hardware-aware DensePose search.

On top of :class:`ray.tune.search.optuna.OptunaSearch` (which sets up the Optuna study
with our sampler and JournalStorage), this searcher:

* suggests define-by-run through :meth:`SearchSpace.suggest` and predicts the latency
  of every suggestion from the table at once (stored as the trial's ``latency_ms``
  user attribute, and ``latency - max`` as its Optuna constraint when a maximum is set);
* rejects suggestions over ``--max-latency-ms`` before any training: the rejected trial
  is told to Optuna as COMPLETE with AP 0 and a violated constraint (the sampler learns
  to avoid the region), written as a ``rejected`` row, and never becomes a Ray trial;
* never trains an architecture twice: a suggestion equal to a finished search trial of
  the run is told to Optuna at once with that trial's values (user attribute
  ``repeat_of``), written as no row and not counted, and the sampler is asked again
  (the proxy is deterministic, so training it again would give the same numbers);
* emits the baselines first (they are not Optuna's suggestions and are never told);
* tells Optuna COMPLETE only for trials whose last report is the ``final`` one. A
  trial stopped by the scheduler (ASHA) reaches ``on_trial_complete`` with its partial
  last result, which stock OptunaSearch tells as COMPLETE: here it becomes PRUNED and a
  ``stopped`` row. Errors become FAIL and a ``failed`` row.

Every row is written to the results store *before* the matching ``tell``, so after a
driver crash the store is never behind the journal (see :func:`nas.search.run.settle_running`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import TrialState
from ray.tune.search import Searcher
from ray.tune.search.optuna import OptunaSearch

from nas.latency.table import LatencyTable
from nas.search.objective import Objective
from nas.runs.rows import FAILED, FINISHED, REJECTED, STOPPED, TrialRow
from nas.search.samplers import CONSTRAINT, LATENCY_ATTR, LEARNED_CONSTRAINT
from nas.runs.store import ResultsStore
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec

__all__ = ["NasSearch", "PendingTrial", "trial_name", "STUDY_NAME", "ARCH_ATTR", "REPEAT_ATTR", "MAX_CONSECUTIVE_REJECTS"]

STUDY_NAME = "nas"
ARCH_ATTR = "arch"
# Give up (and end the run short, saying why) after this many rejections in a row.
MAX_CONSECUTIVE_REJECTS = 200
# After this many repeated suggestions in a row the sampler has converged: the repeat is
# trained again (a search never stalls) rather than asked for once more.
MAX_CONSECUTIVE_REPEATS = 50
REPEAT_ATTR = "repeat_of"


def trial_name(number: int) -> str:
    return f"t{number:04d}"


@dataclass
class PendingTrial:
    """A suggestion handed to Ray and not yet complete."""

    name: str
    number: int
    baseline: str
    arch: ArchSpec
    latency_ms: float
    ot_trial: optuna.Trial | None
    last: dict[str, Any] | None = None
    reported: set[int] = field(default_factory=set)  # steps told to Optuna as intermediate values


class NasSearch(OptunaSearch):
    """OptunaSearch with latency prediction, rejection, baselines and stop-aware telling.

    Args:
        space: the search space (suggested define-by-run).
        table: latency table of the target device.
        objective: what Optuna optimises.
        store: the run's results store (rows are written here).
        sampler: the Optuna sampler (with the latency constraint where it supports one).
        storage: Optuna storage (JournalStorage of the run).
        baselines: (name, architecture) pairs to train first.
        max_latency_ms: reject suggestions predicted slower than this.
        session: driver session number recorded in the rows.
        on_row: called with every row written (progress printing).
    """

    def __init__(
        self,
        space: SearchSpace,
        table: LatencyTable,
        objective: Objective,
        store: ResultsStore,
        sampler: optuna.samplers.BaseSampler,
        storage: optuna.storages.BaseStorage,
        baselines: list[tuple[str, ArchSpec]],
        max_latency_ms: float | None = None,
        session: int = 0,
        on_row: Callable[[TrialRow], None] | None = None,
    ) -> None:
        self.nas_space = space
        self.table = table
        self.objective = objective
        self.store = store
        self.max_latency_ms = max_latency_ms
        self.session = session
        self.on_row = on_row or (lambda row: None)
        self._baselines = list(baselines)
        self._pending: dict[str, PendingTrial] = {}
        # finished search trials by architecture string: repeats are answered from here
        self._finished = {r.arch: r for r in store.rows().values() if r.kind == "search" and r.status == FINISHED}
        self.gave_up: str | None = None  # why suggesting stopped early, if it did
        super().__init__(space=self._define_by_run, metric=objective.metrics, mode=objective.modes,
                         sampler=sampler, storage=storage, study_name=STUDY_NAME)

    def _define_by_run(self, trial: optuna.Trial) -> dict[str, Any]:
        """Only used by OptunaSearch's own machinery; :meth:`suggest` calls the space directly."""
        return {ARCH_ATTR: self.nas_space.suggest(trial).to_string()}

    @property
    def study(self) -> optuna.Study:
        assert self._ot_study is not None
        return self._ot_study

    # -- suggesting ------------------------------------------------------------------
    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if self._baselines:
            name, arch = self._baselines.pop(0)
            pending = PendingTrial(f"b-{name}", -1, name, arch, self.table.predict_ms(arch), None)
            return self._hand_out(trial_id, pending)
        rejects = repeats = 0
        while rejects < MAX_CONSECUTIVE_REJECTS:
            ot_trial = self.study.ask()
            arch = self.nas_space.suggest(ot_trial)
            arch_string = arch.to_string()
            latency = self.table.predict_ms(arch)
            ot_trial.set_user_attr(LATENCY_ATTR, latency)
            ot_trial.set_user_attr(ARCH_ATTR, arch_string)
            if self.max_latency_ms is not None:
                ot_trial.set_constraint(CONSTRAINT, latency - self.max_latency_ms)
            pending = PendingTrial(trial_name(ot_trial.number), ot_trial.number, "", arch, latency, ot_trial)
            if self.max_latency_ms is not None and latency > self.max_latency_ms:
                self._reject(pending)
                rejects += 1
                continue
            earlier = self._finished.get(arch_string)
            if earlier is not None and repeats < MAX_CONSECUTIVE_REPEATS:
                ot_trial.set_user_attr(REPEAT_ATTR, earlier.trial)
                tell(self.study, ot_trial.number, earlier, self.objective)
                repeats += 1
                continue
            self._ot_trials[trial_id] = ot_trial
            return self._hand_out(trial_id, pending)
        self.gave_up = (f"{MAX_CONSECUTIVE_REJECTS} suggestions in a row were over --max-latency-ms {self.max_latency_ms}; "
                        "raise the limit or use a search space with faster choices")
        return Searcher.FINISHED

    def _hand_out(self, trial_id: str, pending: PendingTrial) -> dict[str, Any]:
        self._pending[trial_id] = pending
        return {"trial": pending.name, "arch": pending.arch.to_string(), "latency_ms": pending.latency_ms, "baseline": pending.baseline}

    def _reject(self, pending: PendingTrial) -> None:
        row = self._row(pending, REJECTED, None)
        self._write(row)
        assert pending.ot_trial is not None
        self.study.tell(pending.ot_trial, self.objective.values(0.0, pending.latency_ms), state=TrialState.COMPLETE)

    # -- results ---------------------------------------------------------------------
    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        pending = self._pending.get(trial_id)
        if pending is None:
            return
        pending.last = dict(result)
        if pending.ot_trial is not None and not isinstance(self.metric, list):
            # single objective: intermediate values let Optuna's own pruners see the curve
            step = int(result.get("steps", 0))
            if step not in pending.reported:  # a retried trial reports its steps again
                pending.reported.add(step)
                pending.ot_trial.report(float(result[self.metric]), step)

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False) -> None:
        pending = self._pending.pop(trial_id, None)
        if pending is None:
            return
        last = result or pending.last
        if error:
            status = FAILED
        elif last is not None and last.get("final"):
            status = FINISHED
        elif last is not None:
            status = STOPPED
        else:  # removed before it ever ran (the run ended): leave it to a later session
            if pending.ot_trial is not None:
                self.study.tell(pending.ot_trial, state=TrialState.FAIL)
                self.study.enqueue_trial(pending.ot_trial.params)
            return
        row = self._row(pending, status, last)
        self._write(row)
        if pending.ot_trial is not None:
            tell(self.study, pending.ot_trial.number, row, self.objective)
            if status == FINISHED:
                self._finished.setdefault(row.arch, row)

    def _row(self, pending: PendingTrial, status: str, result: dict[str, Any] | None) -> TrialRow:
        r = result or {}
        nan = float("nan")

        def metric(key: str) -> float:
            value = r.get(key)
            return float(value) if value is not None else nan

        row = TrialRow(
            trial=pending.name, number=pending.number, kind="baseline" if pending.baseline else "search",
            baseline=pending.baseline, arch=pending.arch.to_string(), arch_id=pending.arch.id, status=status,
            steps=int(r.get("steps", 0)), progress=float(r.get("progress", 0.0)), latency_ms=pending.latency_ms,
            latency_dtype=self.table.meta.get("dtype", "fp32"), params=int(r.get("params", -1)), macs=int(r.get("macs", -1)),
            gps_ap=metric("gps_ap"), gps_ap50=metric("gps_ap50"), gps_ap75=metric("gps_ap75"),
            gpsm_ap=metric("gpsm_ap"), gpsm_ap50=metric("gpsm_ap50"), gpsm_ap75=metric("gpsm_ap75"), scorer=str(r.get("scorer", "")),
            reward=metric("reward"), train_seconds=metric("train_seconds"), wall_seconds=metric("wall_seconds"),
            node=str(r.get("node", "")), attempts=int(r.get("attempt", 0)), session=self.session,
            error="trial raised or its node died more often than --max-failures allows; see its log.txt" if status == FAILED else "",
        )
        if status == REJECTED:
            row.error = f"predicted {pending.latency_ms:.3f} ms > --max-latency-ms {self.max_latency_ms}"
        return row

    def _write(self, row: TrialRow) -> None:
        self.store.put(row)
        self.on_row(row)

    # -- Tune's experiment checkpoints ---------------------------------------------------
    # The state that matters lives in the Optuna journal and trials.parquet (both durable
    # at every tell); Tune's pickled snapshot of the searcher is not used to resume.
    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "w") as handle:
            json.dump({"state": "see study.journal and trials.parquet", "time": time.time()}, handle)

    def restore(self, checkpoint_path: str) -> None:
        return None


def _set_constraint(study: optuna.Study, number: int, key: str, value: float) -> None:
    """``Trial.set_constraint`` on the running trial ``number`` of ``study``."""
    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    optuna.Trial(study, trial_id).set_constraint(key, value)


def tell(study: optuna.Study, number: int, row: TrialRow, objective: Objective) -> None:
    """Tell Optuna the outcome recorded in ``row`` (finished -> COMPLETE, with the "learned"
    constraint under the Pareto objective; stopped -> PRUNED; rejected -> COMPLETE with AP
    0 and its latency; failed -> FAIL)."""
    if row.status == FINISHED:
        violation = objective.learned_violation(row.gps_ap)
        if violation is not None:
            _set_constraint(study, number, LEARNED_CONSTRAINT, violation)
        study.tell(number, objective.values(row.gps_ap, row.latency_ms), state=TrialState.COMPLETE)
    elif row.status == REJECTED:
        study.tell(number, objective.values(0.0, row.latency_ms), state=TrialState.COMPLETE)
    elif row.status == STOPPED:
        study.tell(number, state=TrialState.PRUNED)
    else:
        study.tell(number, state=TrialState.FAIL)


