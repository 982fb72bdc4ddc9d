"""One readable line per trial event on the driver's console (Tune's own table is off)."""

from __future__ import annotations

import math
import sys
import time
from typing import Any

from ray.tune import Callback

from nas.runs.rows import FINISHED, TrialRow

__all__ = ["Progress", "TrialStartPrinter"]


def _fmt(value: float, spec: str = ".2f") -> str:
    return format(value, spec) if math.isfinite(value) else "-"


class Progress:
    """Counts trials that used one of the run's ``--trials`` and prints each outcome."""

    def __init__(self, total: int, done: int, baselines: int) -> None:
        self.total, self.done, self.baselines = total, done, baselines
        self.started = time.monotonic()

    def print(self, message: str) -> None:
        # sys.stdout looked up at each call: Tune pickles its callbacks, a stream cannot be
        print(message, file=sys.stdout, flush=True)

    def row(self, row: TrialRow) -> None:
        if row.kind == "search" and row.counts:
            self.done += 1
        where = f"[{self.done}/{self.total}]" if row.kind == "search" else "[baseline]"
        if row.status == FINISHED:
            detail = (f"GPS AP {_fmt(row.gps_ap)}  GPSm AP {_fmt(row.gpsm_ap)}  {_fmt(row.latency_ms)} ms  "
                      f"{row.params / 1e6:.2f}M params  {_fmt(row.wall_seconds, '.0f')} s on {row.node}")
        elif row.status == "stopped":
            detail = f"stopped early at step {row.steps} (GPS AP {_fmt(row.gps_ap)}, {_fmt(row.latency_ms)} ms)"
        else:
            detail = row.error
        elapsed = time.monotonic() - self.started
        self.print(f"{where} {row.trial} {row.status:<8} {detail}  ({elapsed:.0f} s elapsed)")


class TrialStartPrinter(Callback):
    """Prints when Ray starts (or restarts, after a failure) a trial."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def on_trial_start(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        cfg = trial.config
        self.progress.print(f"          {cfg.get('trial')} started: {cfg.get('arch')} ({cfg.get('latency_ms', math.nan):.2f} ms)")

    def on_trial_recover(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self.progress.print(f"          {trial.config.get('trial')} failed (node lost or error); retrying")
