"""Latency tables: ``table.csv`` (one row per op key) + ``meta.json``, and prediction.

``table.csv`` columns: ``key,median_ms,p10_ms,p90_ms,std_ms,count`` (ms, batch 1;
``count`` timed samples kept). ``meta.json`` holds ``format`` (``nas-latency-table``),
``version``, the device, runtime and its version, threads, affinity, dtype (and, for int8,
the ``quantization`` scheme), date, the search space file and hash, the tool version, the
measurement settings and, when ``nas latency validate`` fitted one, a ``correction``.
Both files are written atomically.

A table profiled with ``nas profile --fill`` also holds ``fitted.csv`` (``key,median_ms``):
ops not measured but predicted from the measured ones (:mod:`nas.latency.fill`), with how
well that worked under ``fill`` in meta.json. Predictions use them; a measured row always
wins, and ``nas profile`` without ``--fill`` measures them (the file goes when none is left).
A table made by ``nas profile --adapt-from`` keeps its adapted rows there the same way
(:mod:`nas.latency.adapt`; ``fill.method`` is ``adapt``).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nas.errors import MissingKeysError, TableError
from nas.io import atomic_write_text
from nas.latency.keys import DEFAULT_ROIS, Op, arch_ops, op_keys
from nas.latency.opkinds import key_kind
from nas.latency.stats import OpStats
from nas.space.spec import ArchSpec

if TYPE_CHECKING:
    from nas.space.search_space import SearchSpace

__all__ = ["FORMAT", "VERSION", "COLUMNS", "FITTED_COLUMNS", "Prediction", "LatencyTable", "profile_command"]

FORMAT = "nas-latency-table"
VERSION = 1
COLUMNS = ("key", "median_ms", "p10_ms", "p90_ms", "std_ms", "count")
FITTED_COLUMNS = ("key", "median_ms")


@dataclass(frozen=True)
class Prediction:
    """A predicted latency.

    Attributes:
        latency_ms: predicted end-to-end latency (the corrected sum when the table has a
            correction, else the plain sum).
        sum_ms: plain sum of the op medians.
        breakdown: per op (in execution order), the op and its median ms.
        fitted: keys of the breakdown whose ms is fitted, not measured (``--fill`` tables).
        fitted_by: how those were predicted: ``fill`` (from this device's measured ops) or
            ``adapt`` (from another device's table, ``nas profile --adapt-from``).
    """

    latency_ms: float
    sum_ms: float
    breakdown: tuple[tuple[Op, float], ...]
    fitted: frozenset[str] = frozenset()
    fitted_by: str = "fill"

    @property
    def fitted_ms(self) -> float:
        """The part of the plain sum that comes from fitted rows."""
        return math.fsum(ms for op, ms in self.breakdown if op.key in self.fitted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "sum_ms": self.sum_ms,
            "fitted_ms": self.fitted_ms,
            "fitted_by": self.fitted_by,
            "breakdown": [{"part": op.part, "name": op.name, "key": op.key, "ms": ms, "fitted": op.key in self.fitted} for op, ms in self.breakdown],
        }


def profile_command(meta: dict[str, Any], path: str | Path) -> str:
    """The ``nas profile`` command that (re)fills the table at ``path``."""
    parts = ["nas profile", f"--space {meta.get('space', {}).get('path', 'SPACE.yaml')}", f"--runtime {meta.get('runtime', 'executorch')}", f"--device {meta.get('device', 'cpu')}", f"--threads {meta.get('threads', 1)}"]
    if meta.get("dtype", "fp32") != "fp32":
        parts.append(f"--dtype {meta['dtype']}")
    remote = meta.get("transport", {}).get("remote")
    if remote:
        parts.append(f"--remote '{remote}'")
    parts.append(f"--out {path}")
    command = " ".join(parts)
    others = [o.get("path") for o in meta.get("other_spaces", []) if o.get("path")]
    if others:  # the table served several spaces: the architecture may come from another
        command += " (for an architecture of another space, that space's --space: " + ", ".join(dict.fromkeys(others)) + ")"
    return command


class LatencyTable:
    """Per-op latencies of one device + runtime; sums them into architecture latencies.

    Args:
        path: the table folder.
        meta: meta.json content.
        rows: key -> statistics of the measured ops.
        fitted: key -> predicted median ms of ops not measured (``nas profile --fill``).
    """

    def __init__(self, path: str | Path, meta: dict[str, Any], rows: dict[str, OpStats] | None = None, fitted: dict[str, float] | None = None) -> None:
        self.path = Path(path)
        self.meta = meta
        self.rows: dict[str, OpStats] = dict(rows or {})
        self.fitted: dict[str, float] = {k: ms for k, ms in (fitted or {}).items() if k not in self.rows}
        self._ms = {**self.fitted, **{k: r.median_ms for k, r in self.rows.items()}}

    # -- files -----------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path, rows_pending: bool = False) -> LatencyTable:
        """Read and check a table folder; corrupt or foreign tables fail with what is wrong.

        ``rows_pending``: a meta.json without table.csv loads as a table with no rows yet
        (a first profile killed before its first rows were written), for ``nas profile``
        to resume."""
        path = Path(path)
        if path.is_file():
            raise TableError(f"{path} is a file, not a latency table: a table is a folder holding meta.json and table.csv "
                             "(latency_tables/NAME; create one with `nas profile --out latency_tables/NAME`)")
        meta_path, csv_path = path / "meta.json", path / "table.csv"
        pending = rows_pending and meta_path.is_file() and not csv_path.exists()
        if not meta_path.is_file() or not (csv_path.is_file() or pending):
            raise TableError(f"{path} is not a latency table: it needs meta.json and table.csv (create one with `nas profile --out {path}`)")
        try:
            meta = json.loads(meta_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise TableError(f"{meta_path} is corrupt (not JSON: {exc}); re-profile with `nas profile --out {path}`") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise TableError(f"{meta_path} is not a nas latency table (format {meta.get('format') if isinstance(meta, dict) else None!r}, expected {FORMAT!r})")
        if meta.get("version") != VERSION:
            raise TableError(f"{meta_path} has table version {meta.get('version')!r}; this tool reads version {VERSION}: re-profile it")
        fitted_path = path / "fitted.csv"
        fitted = _read_fitted(fitted_path) if fitted_path.is_file() else {}
        return cls(path, meta, {} if pending else _read_rows(csv_path), fitted)

    def save(self) -> None:
        """Write table.csv then meta.json, each atomically; a new table's meta.json also
        goes first, so that a kill before the rows land leaves a table that resumes."""
        if not (self.path / "meta.json").is_file():
            atomic_write_text(self.path / "meta.json", json.dumps(self.meta, indent=2, sort_keys=True) + "\n")
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for key in sorted(self.rows):
            r = self.rows[key]
            writer.writerow([key, f"{r.median_ms:.6f}", f"{r.p10_ms:.6f}", f"{r.p90_ms:.6f}", f"{r.std_ms:.6f}", r.count])
        atomic_write_text(self.path / "table.csv", buffer.getvalue())
        fitted_path = self.path / "fitted.csv"
        if self.fitted:
            if isinstance(self.meta.get("fill"), dict):
                self.meta["fill"]["rows"] = len(self.fitted)  # fewer once a profile measured some
            lines = [",".join(FITTED_COLUMNS), *(f"{k},{self.fitted[k]:.6f}" for k in sorted(self.fitted))]
            atomic_write_text(fitted_path, "\n".join(lines) + "\n")
        else:
            self.meta.pop("fill", None)
            fitted_path.unlink(missing_ok=True)
        atomic_write_text(self.path / "meta.json", json.dumps(self.meta, indent=2, sort_keys=True) + "\n")

    def add(self, key: str, stats: OpStats) -> None:
        """Add a measured row (it replaces a fitted one)."""
        self.rows[key] = stats
        self.fitted.pop(key, None)
        self._ms[key] = stats.median_ms

    def set_fitted(self, fitted: dict[str, float], summary: dict[str, Any]) -> None:
        """Replace the fitted rows (keys measured meanwhile are left out) and record how
        they were fitted under ``fill`` in meta.json."""
        for key in self.fitted:
            self._ms.pop(key, None)
        self.fitted = {k: ms for k, ms in fitted.items() if k not in self.rows}
        self._ms.update(self.fitted)
        self.meta["fill"] = summary

    @property
    def fitted_by(self) -> str:
        """How the fitted rows were predicted: ``fill`` or ``adapt`` (meta.json ``fill.method``)."""
        fill = self.meta.get("fill")
        return str(fill.get("method", "fill")) if isinstance(fill, dict) else "fill"

    def __contains__(self, key: str) -> bool:
        """Whether the op is measured (fitted rows are not: a profile measures them)."""
        return key in self.rows

    def __len__(self) -> int:
        """Measured rows."""
        return len(self.rows)

    # -- prediction --------------------------------------------------------------------
    @property
    def rois(self) -> int:
        return int(self.meta.get("rois", DEFAULT_ROIS))

    def missing(self, keys: list[str]) -> list[str]:
        return sorted({k for k in keys if k not in self._ms})

    def _missing_error(self, arch: ArchSpec, keys: list[str]) -> MissingKeysError:
        missing = self.missing(keys)
        shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
        return MissingKeysError(
            f"latency table {self.path} lacks {len(missing)} op(s) of architecture {arch.id}: {shown}; "
            f"profile them (only missing ops are measured) with: {profile_command(self.meta, self.path)}",
            missing,
        )

    def correct(self, ops_ms: list[tuple[str, float]]) -> float:
        """The predicted latency of a network from its ops' (key, ms): their sum, corrected
        by the table's fitted correction when it has one (:mod:`nas.latency.validate`): per
        op kind ``(scale + kind_scales[kind]) * ms``, or, as validations stored it before
        2026-12-05, ``scale * sum + per_op_ms * n_ops + offset_ms``."""
        c = self.meta.get("correction")
        if not c:
            return math.fsum(ms for _, ms in ops_ms)
        scale = float(c["scale"])
        if "kind_scales" in c:
            kinds = c["kind_scales"]
            return math.fsum((scale + float(kinds.get(key_kind(key), 0.0))) * ms for key, ms in ops_ms)
        return scale * math.fsum(ms for _, ms in ops_ms) + float(c["per_op_ms"]) * len(ops_ms) + float(c["offset_ms"])

    def check_space(self, space: SearchSpace, space_path: str | Path) -> None:
        """Refuse a space this table was not profiled for (by hash): it cannot cover it, and a
        missing-ops error on the first sampled architecture would not say why."""
        profiled = [self.meta.get("space", {})] + list(self.meta.get("other_spaces", []))
        if not any(s.get("hash") == space.hash for s in profiled):
            names = ", ".join(f"{s.get('name')} ({s.get('hash')})" for s in profiled if s) or "no space"
            raise TableError(f"latency table {self.path} was profiled for {names}, not for {space.name} ({space.hash}) from {space_path}; "
                             f"profile this space into it with `nas profile --space {space_path} --out {self.path}` or pass its own --table")

    def predict_ms(self, arch: ArchSpec) -> float:
        """Predicted latency in ms (the fast path a search calls)."""
        keys = op_keys(arch, self.rois)
        ms = self._ms
        try:
            ops_ms = [(k, ms[k]) for k in keys]
        except KeyError:
            raise self._missing_error(arch, keys) from None
        return self.correct(ops_ms)

    def predict(self, arch: ArchSpec) -> Prediction:
        """Predicted latency with the per-op breakdown."""
        ops = arch_ops(arch, self.rois)
        keys = [op.key for op in ops]
        if self.missing(keys):
            raise self._missing_error(arch, keys)
        breakdown = tuple((op, self._ms[op.key]) for op in ops)
        total = math.fsum(ms for _, ms in breakdown)
        return Prediction(self.correct([(op.key, ms) for op, ms in breakdown]), total, breakdown, frozenset(k for k in keys if k in self.fitted), self.fitted_by)


def _read_rows(csv_path: Path) -> dict[str, OpStats]:
    try:
        text = csv_path.read_text()
    except UnicodeDecodeError:
        raise TableError(f"{csv_path} is corrupt (not text)") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(header) != COLUMNS:
        raise TableError(f"{csv_path} has header {header!r}, expected {','.join(COLUMNS)}")
    rows: dict[str, OpStats] = {}
    for line, row in enumerate(reader, 2):
        if len(row) != len(COLUMNS):
            raise TableError(f"{csv_path} line {line} is corrupt: {len(row)} fields, expected {len(COLUMNS)}; delete the line and re-run `nas profile` to measure it again")
        key = row[0]
        try:
            values = [float(v) for v in row[1:5]]
            count = int(row[5])
        except ValueError:
            raise TableError(f"{csv_path} line {line} is corrupt: non-numeric value in {row!r}") from None
        if not all(math.isfinite(v) and v >= 0 for v in values) or values[0] <= 0 or count < 1:
            raise TableError(f"{csv_path} line {line} is corrupt: latencies must be finite and positive, count >= 1, got {row!r}")
        if key in rows:
            raise TableError(f"{csv_path} line {line}: key {key!r} appears twice")
        rows[key] = OpStats(values[0], values[1], values[2], values[3], count)
    return rows


def _read_fitted(csv_path: Path) -> dict[str, float]:
    try:
        lines = csv_path.read_text().splitlines()
    except UnicodeDecodeError:
        raise TableError(f"{csv_path} is corrupt (not text)") from None
    if not lines or tuple(lines[0].split(",")) != FITTED_COLUMNS:
        raise TableError(f"{csv_path} has header {lines[0] if lines else None!r}, expected {','.join(FITTED_COLUMNS)}")
    fitted: dict[str, float] = {}
    for line, text in enumerate(lines[1:], 2):
        key, _, value = text.rpartition(",")
        try:
            ms = float(value)
        except ValueError:
            ms = math.nan
        if not key or not math.isfinite(ms) or ms <= 0 or key in fitted:
            raise TableError(f"{csv_path} line {line} is corrupt ({text!r}): expected a new key and a positive ms; "
                             "delete fitted.csv and re-run `nas profile --fill` to fit the rows again")
        fitted[key] = ms
    return fitted
