"""Distributed hardware-aware search: Ray Tune runs the trials, Optuna samples them.

:func:`run_search` starts a run, :func:`resume_search` continues one; the results land
in ``results/RUN/`` (:class:`ResultsStore`), one :class:`TrialRow` per trial.
"""

from __future__ import annotations

from nas.search.config import SearchConfig
from nas.search.objective import Objective, mnas_reward
from nas.search.rows import TrialRow
from nas.search.run import SearchSummary, resume_search, run_search
from nas.search.store import ResultsStore

__all__ = ["Objective", "ResultsStore", "SearchConfig", "SearchSummary", "TrialRow", "mnas_reward", "resume_search", "run_search"]
