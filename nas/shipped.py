"""Files the checkout ships: the default search space, a tiny one and the shipped latency table.

Their default paths are relative to the repository root. A command run from another
directory still finds them in the checkout ``nas`` was installed from (the Quick start's
editable install), so ``nas demo`` or ``nas search`` work from anywhere.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_SPACE", "TINY_SPACE", "DEFAULT_TABLE", "shipped", "recorded_space"]

DEFAULT_SPACE = "search_spaces/densepose_mobile.yaml"
TINY_SPACE = "search_spaces/tiny.yaml"  # minutes-long searches: tests, quick benchmarks, a first try
DEFAULT_TABLE = "latency_tables/cpu-executorch-xnnpack-t1"

# nas/shipped.py -> the repository root of an editable install
_CHECKOUT = Path(__file__).resolve().parent.parent


def shipped(relative: str) -> Path:
    """``relative`` in the working directory when it is there, else in the checkout; if
    neither has it, the path as given (so the caller's error names what was looked for)."""
    here = Path(relative)
    if here.is_absolute() or here.exists():
        return here
    there = _CHECKOUT / relative
    return there if there.exists() else here


def recorded_space(table: Path, recorded: str) -> Path:
    """The search space a table's meta.json records (a path relative to the repository it
    was profiled in): in the working directory, beside the table's own
    ``latency_tables/`` folder, or in the checkout; the path as given if none has it."""
    for candidate in (Path(recorded), table.resolve().parent.parent / recorded):
        if candidate.is_file():
            return candidate
    return shipped(recorded)
