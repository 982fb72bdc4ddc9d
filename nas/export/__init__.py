"""Export of chosen architectures: spec, proxy weights, ExecuTorch programs, model card."""

from __future__ import annotations

from nas.export.bundle import Exported, choose, export_run
from nas.export.pte import DTYPES, deployable, lower, run_pte

__all__ = ["DTYPES", "Exported", "choose", "deployable", "export_run", "lower", "run_pte"]
