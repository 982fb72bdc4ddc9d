"""The results folder of a search run, ``results/RUN/``.

Layout::

    config.json        the resolved search configuration (what ``--resume`` reuses)
    dataset.json       the dataset's fingerprint (what ``--resume`` checks; nas.search.dataset)
    trials.parquet     one row per trial (:class:`nas.runs.rows.TrialRow`), the truth
    trials.csv         the same rows as CSV, for a quick look
    study.journal      the Optuna study (JournalStorage; ``optuna-dashboard study.journal``)
    trials/<trial>/    per trial: log.txt, metrics.json, model.pt (kept for Pareto trials)
    ray/               Ray Tune's own experiment folders, one per driver session

Only the driver writes the tables; each write replaces the whole file atomically, so a
driver killed at any instant leaves the previous complete table behind.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from nas.errors import ResultsError
from nas.interrupts import interrupts_deferred
from nas.io import atomic_write_bytes, atomic_write_text
from nas.runs.rows import COLUMNS, TrialRow

if TYPE_CHECKING:
    from optuna.storages import JournalStorage

__all__ = ["ResultsStore", "journal_storage"]

# config.json entries that name files or folders (the run's own, its data, space and table):
# absolute as a search writes them, or relative to the run folder in a run committed or
# moved with its inputs (results/demo-example)
RUN_PATHS = ("out", "data", "space", "table")
_ARROW_TYPES = {"int": pa.int64(), "float": pa.float64(), "str": pa.string()}


def _schema() -> pa.Schema:
    from dataclasses import fields

    return pa.schema([(f.name, _ARROW_TYPES[str(f.type)]) for f in fields(TrialRow)])


class ResultsStore:
    """Reads and writes one run folder.

    Args:
        root: the run folder (created on first write).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        # the run's files
        self.config_path = self.root / "config.json"
        self.parquet_path = self.root / "trials.parquet"
        self.csv_path = self.root / "trials.csv"
        self.journal_path = self.root / "study.journal"
        self._rows: dict[str, TrialRow] | None = None

    def trial_dir(self, trial: str) -> Path:
        return self.root / "trials" / trial

    def exists(self) -> bool:
        return self.config_path.is_file()

    # -- config ----------------------------------------------------------------------
    def save_config(self, config: dict[str, Any]) -> None:
        atomic_write_text(self.config_path, json.dumps(config, indent=2, sort_keys=True) + "\n")

    def load_config(self) -> dict[str, Any]:
        if self.root.is_file():
            raise ResultsError(f"{self.root} is a file, not a search run folder; give the folder a search wrote (nas search --out results/RUN)")
        if not self.config_path.is_file():
            raise ResultsError(f"{self.root} is not a search run folder: it has no config.json (start one with `nas search --out {self.root}`)")
        try:
            data = json.loads(self.config_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ResultsError(f"{self.config_path} is corrupt (not JSON: {exc})") from None
        if not isinstance(data, dict):
            raise ResultsError(f"{self.config_path} is corrupt: expected a JSON object")
        for key in RUN_PATHS:  # a relative path was written relative to the run folder
            value = data.get(key)
            if isinstance(value, str) and value and not os.path.isabs(value):
                data[key] = os.path.normpath(self.root / value)
        return data

    # -- rows ------------------------------------------------------------------------
    def rows(self) -> dict[str, TrialRow]:
        """Every trial row by trial name (read once, then kept in memory by this writer)."""
        if self._rows is None:
            if self.parquet_path.is_file():  # the truth; trials.csv is its copy
                try:
                    records = pq.read_table(self.parquet_path).to_pylist()
                except (pa.ArrowInvalid, OSError) as exc:
                    raise ResultsError(f"{self.parquet_path} is corrupt ({exc}); trials.csv holds the same rows") from None
                rows = [TrialRow.from_dict(record) for record in records]
                source, where = self.parquet_path, [f"row {n}" for n in range(1, len(rows) + 1)]
            elif self.csv_path.is_file():  # a copied or trimmed run folder (results/demo-example)
                rows = self._csv_rows()
                source, where = self.csv_path, [f"row {n} (line {n + 1})" for n in range(1, len(rows) + 1)]
            else:
                rows, source, where = [], self.csv_path, []
            self._rows = {}
            for row, at in zip(rows, where):
                problem = _damage(row) or (f"trial {row.trial} is given twice" if row.trial in self._rows else None)
                if problem:
                    self._rows = None
                    raise ResultsError(f"{source} {at}: {problem}; the file is damaged or was edited: fix or remove "
                                       "that row, or restore the file from a copy")
                self._rows[row.trial] = row
        return self._rows

    def _csv_rows(self) -> list[TrialRow]:
        """The rows of trials.csv, read when trials.parquet is absent; an empty cell is a
        missing value (-1, NaN or an empty string by the column's type)."""
        _check_csv_shape(self.csv_path)
        try:
            frame = pd.read_csv(self.csv_path, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise ResultsError(f"{self.csv_path} is corrupt ({exc})".replace("\n", " ")) from None
        if "trial" not in frame.columns:
            raise ResultsError(f"{self.csv_path} is not a trials table: it has no 'trial' column")
        try:
            return [TrialRow.from_dict({k: (None if v == "" else v) for k, v in record.items()})
                    for record in frame.to_dict("records")]
        except (TypeError, ValueError) as exc:
            raise ResultsError(f"{self.csv_path} is corrupt ({exc})") from None

    def get(self, trial: str) -> TrialRow | None:
        return self.rows().get(trial)

    def put(self, row: TrialRow) -> None:
        """Insert or replace the row of ``row.trial`` and rewrite both tables atomically."""
        self.put_many([row])

    def put_many(self, rows: list[TrialRow]) -> None:
        """Insert or replace several rows, then rewrite both tables once."""
        table = self.rows()
        for row in rows:
            table[row.trial] = row
        self._write()

    def frame(self) -> pd.DataFrame:
        """All rows as a DataFrame in trial order (baselines first, then Optuna number)."""
        rows = sorted(self.rows().values(), key=lambda r: (r.kind != "baseline", r.number, r.trial))
        return pd.DataFrame([r.to_dict() for r in rows], columns=list(COLUMNS))

    def _write(self) -> None:
        frame = self.frame()
        table = pa.Table.from_pandas(frame, schema=_schema(), preserve_index=False)
        sink = io.BytesIO()
        pq.write_table(table, sink)
        atomic_write_bytes(self.parquet_path, sink.getvalue())
        atomic_write_text(self.csv_path, frame.to_csv(index=False))


def _damage(row: TrialRow) -> str | None:
    """What no search writes in ``row``: a latency (predicted from a table of times) that
    is negative or infinite. Missing values (NaN) are not damage: a trial not yet
    predicted has none, and AP may be undefined (see :mod:`nas.pareto.analysis`)."""
    if not math.isnan(row.latency_ms) and not 0 <= row.latency_ms < math.inf:
        return f"trial {row.trial}: latency_ms {row.latency_ms:g} is not a time (ms, at least 0)"
    return None


def _check_csv_shape(path: Path) -> None:
    """Refuse a trials.csv cut mid-row or with a row of the wrong width: pandas would fill
    the missing cells as missing values and a shortened number would read as another."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ResultsError(f"{path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
                          "restore it from a copy") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return
    row = 0
    for row, record in enumerate(reader, start=1):
        if record and len(record) != len(header):
            trial = f" (trial {record[0][:40]})" if record[0] else ""
            raise ResultsError(f"{path} row {row} (line {reader.line_num}){trial} has {len(record)} of the header's "
                               f"{len(header)} fields: the file is cut or damaged; restore it from a copy "
                               "(trials.parquet, when the run has one, holds the same rows)")
    if row and not text.endswith("\n"):
        raise ResultsError(f"{path} ends in the middle of row {row} (line {reader.line_num}, no line end after it): the file "
                           "was cut; restore it from a copy, or end the file with a line break if that row is whole")


def journal_storage(store: ResultsStore) -> JournalStorage:
    """The run's Optuna study storage, the append-only ``study.journal`` (its folder created).

    Optuna is imported here, not at module level: reading a run's rows (``nas pareto``,
    ``nas export``) does not need it, and it is slow to import."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    class WholeAppends(JournalFileBackend):
        """Appends that Ctrl-C cannot cut: lock, write and release run whole (see
        :mod:`nas.interrupts`), so an interrupted driver leaves neither a stale lock nor
        a half line, and stops with its resume hint."""

        def append_logs(self, logs: list[dict[str, Any]]) -> None:
            with interrupts_deferred():
                super().append_logs(logs)

    store.root.mkdir(parents=True, exist_ok=True)
    return JournalStorage(WholeAppends(str(store.journal_path)))
