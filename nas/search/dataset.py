"""The dataset a search run trains on, recorded in ``RUN/dataset.json``.

A run's trials are comparable only if they were all trained and scored on the same data.
The run records the dataset's fingerprint (:meth:`nas.data.source.DatasetSource.fingerprint`:
the descriptor's text, each file's size and modification time, each image folder's number of
entries) when it starts, and ``--resume`` refuses a dataset that differs from it, naming
each change. A run written before runs recorded their dataset has no ``dataset.json``: it
resumes, and the dataset as it is then is recorded for later resumes.

Paths are not compared: a run moved together with its data (its config.json naming them
relative to the run folder) resumes on the same files found at another place.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from nas.data.source import DatasetSource
from nas.errors import SearchError
from nas.io import atomic_write_json

__all__ = ["DATASET_FILE", "record_dataset", "check_unchanged", "dataset_changes"]

DATASET_FILE = "dataset.json"
FORMAT = "nas-search-dataset"
_SHOWN = 3  # changes named in the error; a re-rendered dataset changes every file


def record_dataset(root: Path, source: DatasetSource) -> None:
    """Write ``source``'s fingerprint into the run folder ``root``."""
    atomic_write_json(root / DATASET_FILE, {"format": FORMAT, **source.fingerprint()}, indent=2)


def _recorded(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SearchError(f"{path} is unreadable ({exc}); delete it to resume without comparing the dataset "
                          "(it is recorded anew)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), dict):
        raise SearchError(f"{path} is not a dataset record (format {FORMAT!r} with files); delete it to resume "
                          "without comparing the dataset (it is recorded anew)")
    return data


def check_unchanged(root: Path, source: DatasetSource) -> None:
    """Refuse to continue the run in ``root`` on ``source`` when it differs from the
    recorded dataset (:class:`~nas.errors.SearchError` naming each change and what to do);
    a run without a record gets one now."""
    path = root / DATASET_FILE
    if not path.is_file():
        record_dataset(root, source)
        return
    changes = dataset_changes(_recorded(path), source.fingerprint())
    if changes:
        named = "; ".join(changes[:_SHOWN]) + (f"; and {len(changes) - _SHOWN} more" if len(changes) > _SHOWN else "")
        raise SearchError(
            f"the dataset {source.origin} changed since the run {root} recorded it in {DATASET_FILE}: {named}. Its trials "
            "were trained and scored on the data as it was: restore it, or start a new run on the changed data (another "
            f"--out); if only the times changed (the files were copied), delete {path} and resume again to record the "
            "dataset as it is now")


def dataset_changes(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between two fingerprints, one phrase per change (empty: the same
    dataset). The files' paths are not compared (see the module docstring)."""
    changes = []
    if before.get("descriptor") != now.get("descriptor"):
        kind = {True: "a descriptor", False: "a dataset folder"}
        changes.append(f"the descriptor {now.get('origin')} was edited" if before.get("descriptor") and now.get("descriptor")
                       else f"{now.get('origin')} was {kind[bool(before.get('descriptor'))]}, now {kind[bool(now.get('descriptor'))]}")
    old, new = before["files"], now["files"]
    for key in sorted(old.keys() - new.keys()):
        changes.append(f"{key} {old[key].get('path')} is gone")
    for key in sorted(new.keys() - old.keys()):
        changes.append(f"{key} {new[key].get('path')} was added")
    for key in sorted(old.keys() & new.keys()):
        was, is_ = old[key], new[key]
        if {k: v for k, v in was.items() if k != "path"} != {k: v for k, v in is_.items() if k != "path"}:
            changes.append(f"{key} {is_.get('path')} was {_state(was)}, now {_state(is_)}")
    return changes


def _state(entry: dict[str, Any]) -> str:
    if "entries" in entry:
        return f"{entry['entries']} entries"
    return f"{entry.get('size')} bytes modified {_time(entry.get('mtime_ns'))}"


def _time(ns: Any) -> str:
    """A modification time (ns since the epoch) in UTC to the millisecond: two writes
    within one second still read differently."""
    if not isinstance(ns, int):
        return "at an unknown time"
    moment = datetime.fromtimestamp(ns // 1_000_000_000, tz=timezone.utc)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{ns // 1_000_000 % 1000:03d} UTC"
