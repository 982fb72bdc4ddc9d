"""Distributed hardware-aware search: Ray Tune runs the trials, Optuna samples them.

:func:`run_search` starts a run, :func:`resume_search` continues one; the results land
in ``results/RUN/``, one trial row per trial (the run's data model is :mod:`nas.runs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nas._lazy import lazy_exports

if TYPE_CHECKING:
    from nas.search.config import SearchConfig
    from nas.search.objective import Objective, mnas_reward
    from nas.search.run import SearchSummary, resume_search, run_search

# imported on first use: Ray and Optuna take seconds to import
_EXPORTS = {
    "SearchConfig": "nas.search.config", "Objective": "nas.search.objective", "mnas_reward": "nas.search.objective",
    "SearchSummary": "nas.search.run", "resume_search": "nas.search.run", "run_search": "nas.search.run",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
