"""A search run's data model: its trial rows, its results folder and its front's trials.

It sits below :mod:`nas.search` (which writes runs), :mod:`nas.pareto` and
:mod:`nas.export` (which read them), so those never need to import each other for it.
One :class:`TrialRow` per trial lives in ``results/RUN/`` (:class:`ResultsStore`);
:func:`front_trials` names the trials on the run's (GPS AP, latency) front.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nas._lazy import lazy_exports

if TYPE_CHECKING:
    from nas.runs.front import dominates, front_indices, front_trials, learned_floor
    from nas.runs.rows import FAILED, FINISHED, REJECTED, STATUSES, STOPPED, TrialRow
    from nas.runs.store import ResultsStore, journal_storage

# imported on first use: the store pulls in pandas and pyarrow, which a row does not need
_EXPORTS = {
    **dict.fromkeys(("FAILED", "FINISHED", "REJECTED", "STATUSES", "STOPPED", "TrialRow"), "nas.runs.rows"),
    **dict.fromkeys(("ResultsStore", "journal_storage"), "nas.runs.store"),
    **dict.fromkeys(("dominates", "front_indices", "front_trials", "learned_floor"), "nas.runs.front"),
}
__all__ = ["FAILED", "FINISHED", "REJECTED", "STATUSES", "STOPPED", "TrialRow", "ResultsStore", "journal_storage",
           "dominates", "front_indices", "front_trials", "learned_floor"]  # a literal, so linters see the names used; = the keys above
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
