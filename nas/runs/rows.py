"""The trial result row: one per trial of a search, the schema of ``trials.parquet``.

Statuses:

* ``finished``: trained for the whole proxy budget and evaluated; the only rows that
  enter the Pareto front and reach Optuna as COMPLETE with their values.
* ``stopped``: stopped early by the scheduler (ASHA); its metrics are partial, so it is
  told to Optuna as PRUNED and never enters the front.
* ``rejected``: over ``--max-latency-ms``; never trained (its latency is still told to
  Optuna as a violated constraint so the sampler learns to avoid the region).
* ``failed``: raised (or its node died) more often than the retries allow.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["TrialRow", "STATUSES", "FINISHED", "STOPPED", "REJECTED", "FAILED", "COLUMNS"]

FINISHED, STOPPED, REJECTED, FAILED = "finished", "stopped", "rejected", "failed"
STATUSES = (FINISHED, STOPPED, REJECTED, FAILED)

_NAN = float("nan")


@dataclass
class TrialRow:
    """One trial. Floats are NaN where a value does not exist (e.g. AP of a rejected trial).

    Attributes:
        trial: unique name in the run: ``t0007`` (Optuna trial number 7) or ``b-<baseline>``.
        number: Optuna trial number (-1 for baselines, which are not Optuna's suggestions).
        kind: ``search`` or ``baseline``.
        baseline: the reference name of a baseline, else ``""``.
        arch: canonical architecture string; ``arch_id`` its short hash.
        status: one of :data:`STATUSES`.
        steps: optimiser steps trained (the proxy budget used).
        progress: fraction of the proxy budget trained, 0..1.
        latency_ms: predicted latency on the run's table (ms, batch 1, deploy input).
        latency_dtype: the numeric flavour that latency was timed in, the table's dtype
            (``fp32`` or ``int8``; empty in rows written before it was recorded).
        params: parameters of the whole DensePose R-CNN.
        macs: multiply-adds of backbone + neck at the deploy input.
        gps_ap ... gpsm_ap75: DensePose AP in percent after the proxy training (or as scored
            from a supernet, see ``scorer``).
        scorer: what gave the AP: ``proxy`` (a proxy training) or ``supernet`` (weights
            inherited from a trained supernet, no training); empty in rows written before it
            was recorded and in trials that never finished.
        reward: MnasNet reward (``--objective reward``), else NaN.
        train_seconds: time spent in optimiser steps; wall_seconds: the whole trial
            (model build, counting, training, evaluation, saving).
        node: host (IP) the trial ran on.
        attempts: how many times the trial was started (1 + retries after failures).
        session: driver session that ran it (0 first, +1 per ``--resume``).
        error: the failure message of a failed trial, else ``""``.
    """

    trial: str
    number: int
    kind: str
    baseline: str
    arch: str
    arch_id: str
    status: str
    steps: int = 0
    progress: float = 0.0
    latency_ms: float = _NAN
    latency_dtype: str = ""
    params: int = -1
    macs: int = -1
    gps_ap: float = _NAN
    gps_ap50: float = _NAN
    gps_ap75: float = _NAN
    gpsm_ap: float = _NAN
    gpsm_ap50: float = _NAN
    gpsm_ap75: float = _NAN
    scorer: str = ""
    reward: float = _NAN
    train_seconds: float = _NAN
    wall_seconds: float = _NAN
    node: str = ""
    attempts: int = 0
    session: int = 0
    error: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"trial {self.trial}: unknown status {self.status!r}; known: {', '.join(STATUSES)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialRow:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for f in fields(cls):  # parquet/pandas hand back numpy scalars and None for missing values
            if f.name in values:
                v = values[f.name]
                if f.type == "int":
                    values[f.name] = -1 if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)
                elif f.type == "float":
                    values[f.name] = _NAN if v is None else float(v)
                else:
                    values[f.name] = "" if v is None else str(v)
        return cls(**values)

    @property
    def counts(self) -> bool:
        """Whether the trial used one of the run's ``--trials`` (rejected ones cost nothing)."""
        return self.status in (FINISHED, STOPPED, FAILED)


COLUMNS = tuple(f.name for f in fields(TrialRow))
