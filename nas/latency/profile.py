"""``nas profile``: measure every op key of a search space into a latency table, resumably.

Steps: derive the space's keys; open the table at ``out`` (a new one, or an existing one
of the same runtime, device, threads and dtype); build the programs of the keys it lacks
(parallel, cached); measure them in chunks, each chunk interleaved, saving the table
atomically after every chunk, so a killed run loses at most one chunk and the next run
measures only what is missing. Ops whose median is not yet stable to 1% get extra rounds.
Every chunk is timed together with the table's reference ops and divided by the chunk's
speed factor (:mod:`nas.latency.speed`); the factors are kept in meta.json.
"""

from __future__ import annotations

import datetime as _dt
import random
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from nas.errors import TableError
from nas.lock import folder_lock
from nas.latency.fill import FILL_COVER, FILL_SHARE, WHOLE_KIND_OPS, features_of, fill_design, fit_rows, fitted_kinds
from nas.latency.fingerprint import describe, device_name, differences
from nas.latency.keys import DEFAULT_ROIS, op_keys, space_keys
from nas.latency.opkinds import key_kind
from nas.latency.runtimes.base import LatencyRuntime
from nas.latency.speed import DEFAULT_REFERENCES, SpeedReference, choose_references
from nas.latency.stats import is_stable, summarize
from nas.latency.table import FORMAT, VERSION, LatencyTable
from nas.latency.transports.base import MeasureSettings, Transport
from nas.space.references import DENSEPOSE_BASELINES, reference
from nas.space.search_space import SearchSpace

__all__ = ["FillSettings", "KeySelection", "KindFit", "ProfileReport", "profile_space", "profile_keys", "space_and_baseline_keys", "new_meta", "open_table", "tool_version", "table_lock", "TABLE_LOCK"]

TABLE_LOCK = "writer.lock"


def table_lock(folder: Path) -> AbstractContextManager[None]:
    """One writer per table (a profile, or a validation storing its correction): two would
    each save their own rows over the other's."""
    return folder_lock(folder, TABLE_LOCK, "process writing this table (nas profile or nas latency validate)",
                       "run yours again: a profile measures only what is missing")

# meta.json fields that must match for a run to add rows to an existing table
_IDENTITY = ("runtime", "device", "threads", "dtype", "quantization")


def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nas")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class FillSettings:
    """How ``nas profile --fill`` chooses the ops it measures (:func:`nas.latency.fill.fill_design`)."""

    share: float = FILL_SHARE
    cover: int = FILL_COVER
    whole_kind_ops: int = WHOLE_KIND_OPS


@dataclass(frozen=True)
class KeySelection:
    """Which of the keys a table lacks one profile run measures (default: all of them).

    Attributes:
        samples: only the ops of this many architectures, drawn as ``nas latency validate
            --samples N --seed seed`` draws them: a partial table that validates the
            device in minutes instead of hours (the same command without it completes it).
        fill: only :func:`nas.latency.fill.fill_design`'s ops (seeded by ``seed``), the
            others fitted into fitted.csv (the same command without it measures them).
        seed: seed of ``samples`` and of ``fill``'s random share.
        limit: at most this many keys (a partial table; run again to go on).
        build: build missing programs; ``False`` measures only ops whose programs are
            already cached (e.g. built on a faster machine) and leaves the rest missing.

    The table's reference ops (:mod:`nas.latency.speed`) are measured whatever the
    selection, first.
    """

    samples: int | None = None
    fill: FillSettings | None = None
    seed: int = 0
    limit: int | None = None
    build: bool = True

    def __post_init__(self) -> None:
        if self.fill is not None and self.samples is not None:
            raise TableError("--fill and --samples choose the ops to measure in two different ways: pass one of them")


@dataclass(frozen=True)
class KindFit:
    """How one op kind was fitted by ``--fill``: its measured ops used, its ops fitted, and
    the model's cross-validated relative errors on the measured ones (median, p90)."""

    measured: int
    fitted: int
    cv_median_error: float
    cv_p90_error: float


@dataclass(frozen=True)
class ProfileReport:
    """What a profile run did.

    Attributes:
        total: keys the space needs.
        already: keys the table had before the run.
        measured: keys measured by this run.
        build_s: seconds spent building programs.
        measure_s: seconds spent measuring.
        fitted: keys predicted from the measured ones (``fill``), in fitted.csv.
        fill: per fitted kind, how it was fitted (``fill``; else empty).
    """

    total: int
    already: int
    measured: int
    build_s: float
    measure_s: float
    fitted: int = 0
    fill: dict[str, KindFit] = field(default_factory=dict)


def open_table(out: Path, meta: dict[str, Any]) -> LatencyTable:
    """The table at ``out``, created with ``meta`` if absent; a table of another runtime,
    device, thread count or dtype, or timed on another device (fingerprint), is refused
    rather than mixed."""
    if not (out / "meta.json").exists() and not (out / "table.csv").exists():
        return LatencyTable(out, meta)
    table = LatencyTable.load(out, rows_pending=True)
    clash = {f: (table.meta.get(f), meta.get(f)) for f in _IDENTITY if table.meta.get(f) != meta.get(f)}
    if "dtype" in clash or "quantization" in clash:
        held, now = (f"{m.get('dtype') or 'fp32'} ({m.get('quantization') or 'not quantized'})" for m in (table.meta, meta))
        raise TableError(f"{out} holds {held} latencies and this run measures {now}: a table holds one dtype and scheme, never "
                         f"both; profile into another --out, or resume it with --dtype {table.meta.get('dtype') or 'fp32'}")
    if clash:
        what = ", ".join(f"{f} {old!r} (table) vs {new!r} (now)" for f, (old, new) in clash.items())
        raise TableError(f"{out} holds a table measured differently: {what}; use another --out or the table's settings")
    recorded, current = table.meta.get("device_fingerprint"), meta.get("device_fingerprint")
    if recorded and current and (diff := differences(recorded, current)):
        raise TableError(
            f"{out} holds rows timed on another device: {describe(recorded)}; this device is {describe(current)} "
            f"({'; '.join(diff)}). A table holds one device's latencies: profile this device into another --out"
        )
    previous = table.meta.get("space")
    # a table from before fingerprints keeps none: its rows' device is unknown
    keep_unknown = ("created", "device_fingerprint", "cpu_model") if not recorded and len(table) else ("created",)
    table.meta.update({k: v for k, v in meta.items() if k not in keep_unknown})
    if previous and meta.get("space") and previous.get("hash") != meta["space"].get("hash"):
        # rows of another space stay valid (same device and runtime); remember that space
        others = [o for o in table.meta.get("other_spaces", []) if o.get("hash") not in (previous.get("hash"), meta["space"].get("hash"))]
        table.meta["other_spaces"] = [*others, previous]
    return table


def profile_keys(
    keys: list[str],
    table: LatencyTable,
    runtime: LatencyRuntime,
    transport: Transport,
    settings: MeasureSettings,
    workers: int = 1,
    chunk: int = 64,
    max_extra_rounds: int | None = None,
) -> ProfileReport:
    """Measure the ``keys`` the table lacks into it (see the module doc)."""
    todo = [k for k in dict.fromkeys(keys) if k not in table]
    already = len(set(keys)) - len(todo)
    refs = list(table.meta.get("speed_reference", {}).get("keys", []))
    start = time.perf_counter()
    runtime.prepare([*todo, *(r for r in refs if r not in todo)], workers=workers)
    build_s = time.perf_counter() - start
    random.Random(settings.seed).shuffle(todo)  # mix kinds and sizes in every chunk
    # references the table lacks go first: their rows define the table's nominal speed
    todo = [*(r for r in refs if r in todo), *(k for k in todo if k not in refs)]
    extra = settings.rounds if max_extra_rounds is None else max_extra_rounds
    start = time.perf_counter()
    bar = tqdm(total=len(todo), desc="measuring ops", unit="op", dynamic_ncols=True)
    try:
        for begin in range(0, len(todo), chunk):
            names = todo[begin : begin + chunk]
            speed = SpeedReference(refs, {r: table.rows[r].median_ms for r in refs if r in table})
            measured = speed.measure(transport, runtime, names, settings)
            samples, factors = measured.samples, [measured.factor]
            stats = {n: summarize(samples[n]) for n in names}
            unstable = [n for n in names if not is_stable(stats[n])]
            if unstable and extra > 0:
                more = speed.following(measured).measure(transport, runtime, unstable, replace(settings, rounds=extra, seed=settings.seed + 1))
                factors.append(more.factor)
                stats.update({n: summarize(samples[n] + more.samples[n]) for n in unstable})
            for name in names:
                table.add(name, stats[name])
            if refs:
                table.meta["speed_reference"].setdefault("factors", []).extend(round(f, 4) for f in factors)
            table.meta["updated"] = _now()
            table.save()
            bar.update(len(names))
    finally:
        bar.close()
    return ProfileReport(len(set(keys)), already, len(todo), build_s, time.perf_counter() - start)


def profile_space(
    space_path: str | Path,
    out: str | Path,
    runtime: LatencyRuntime,
    transport: Transport,
    settings: MeasureSettings,
    selection: KeySelection = KeySelection(),
    *,
    baselines: Sequence[str] = DENSEPOSE_BASELINES,
    rois: int = DEFAULT_ROIS,
    workers: int = 1,
    chunk: int = 64,
    extra_rounds: int | None = None,
    speed_refs: int = DEFAULT_REFERENCES,
) -> ProfileReport:
    """Profile the keys of the space at ``space_path`` that ``selection`` chooses into the
    table folder ``out``.

    Args:
        selection: which missing keys this run measures (default: all).
        baselines: reference architectures whose ops are profiled too, deployed at the
            space's input size, so a search on this table can place them (DensePose
            R-CNN's baselines by default).
        workers: processes building programs.
        chunk: ops per measuring chunk (the table is saved after each).
        extra_rounds: timed runs added to unstable ops (default: ``settings.rounds``).
        speed_refs: reference ops timed in every chunk to divide out the machine's speed
            drift (:mod:`nas.latency.speed`); chosen when the table is created (0: none).
    """
    space = SearchSpace.from_yaml(space_path)
    keys = space_and_baseline_keys(space, baselines, rois)
    meta = new_meta(space_path, space, keys, runtime, transport, settings, rois, baselines, chunk)
    with table_lock(Path(out)):
        table = open_table(Path(out), meta)
        if speed_refs > 0 and "speed_reference" not in table.meta:
            table.meta["speed_reference"] = {"keys": choose_references(keys, speed_refs), "factors": []}
        refs = table.meta.get("speed_reference", {}).get("keys", [])
        missing = [k for k in keys if k not in table]
        features = _fill_features(keys, selection.fill)
        todo = _select(missing, keys, refs, features, selection, space, rois, runtime, table.fitted)
        run = profile_keys(todo, table, runtime, transport, settings, workers, chunk, extra_rounds)
        already = len(keys) - len(missing)
        if selection.fill is None:
            return ProfileReport(len(keys), already, run.measured, run.build_s, run.measure_s)
        fit = fit_rows({k: r.median_ms for k, r in table.rows.items()}, keys, features, selection.seed)
        table.set_fitted(fit.rows, fit.summary())
        table.save()
        kinds = {kind: KindFit(k["measured"], k["fitted"], k["cv_median_error"], k["cv_p90_error"]) for kind, k in fit.kinds.items()}
        return ProfileReport(len(keys), already, run.measured, run.build_s, run.measure_s, len(table.fitted), kinds)


def space_and_baseline_keys(space: SearchSpace, baselines: Sequence[str], rois: int) -> list[str]:
    """Every key `nas profile` times for ``space`` (shipped tables hold exactly these): the
    space's keys, then those only the baselines (deployed at the space's input) add."""
    keys = space_keys(space, rois)
    known = set(keys)
    for name in baselines:
        arch = replace(reference(name), input_size=space.deploy_input)
        extra = [k for k in dict.fromkeys(op_keys(arch, rois)) if k not in known]
        keys += extra
        known.update(extra)
    return keys


def new_meta(space_path: str | Path, space: SearchSpace, keys: list[str], runtime: LatencyRuntime, transport: Transport,
              settings: MeasureSettings, rois: int, baselines: Sequence[str], chunk: int) -> dict[str, Any]:
    """meta.json of this run's table: what was measured, how, where and with what."""
    meta: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        **runtime.info(),
        "transport": transport.describe(),
        "space": {"path": str(space_path), "name": space.name, "hash": space.hash, "keys": len(keys), "deploy_input": list(space.deploy_input)},
        "rois": rois,
        "baselines": list(baselines),
        "measurement": {"warmup": settings.warmup, "rounds": settings.rounds, "budget_ms": settings.budget_ms, "min_rounds": settings.min_rounds,
                        "interleaved": True, "chunk": chunk, "statistic": "median, far-out (Q3 + 3 IQR) slow samples dropped"},
        "tool_version": tool_version(),
        "created": _now(),
    }
    fingerprint = transport.fingerprint(runtime)
    meta["device_fingerprint"] = fingerprint
    meta["cpu_model"] = device_name(fingerprint) or meta.get("cpu_model")
    return meta


def _fill_features(keys: list[str], fill: FillSettings | None) -> dict[str, dict[str, float]]:
    """Cost features of the keys of the kinds ``fill`` fits (none without ``fill``)."""
    if fill is None:
        return {}
    return features_of([k for k in keys if key_kind(k) in fitted_kinds(keys, fill.whole_kind_ops)])


def _select(missing: list[str], keys: list[str], refs: list[str], features: dict[str, dict[str, float]], selection: KeySelection,
            space: SearchSpace, rois: int, runtime: LatencyRuntime, fitted: Mapping[str, float]) -> list[str]:
    """The ``missing`` keys ``selection`` chooses, reference ops first (a limit keeps them);
    with ``fitted`` rows (key -> ms) and neither ``--samples`` nor ``--fill``, heaviest first."""
    todo = missing
    if selection.samples is not None:
        from nas.latency.validate import sample_archs

        wanted = {k for arch in sample_archs(space, selection.samples, selection.seed) for k in op_keys(arch, rois)}
        todo = [k for k in todo if k in wanted or k in refs]
    if selection.fill is not None:
        fill = selection.fill
        design = set(fill_design(keys, features, fill.share, fill.cover, fill.whole_kind_ops, selection.seed))
        todo = [k for k in todo if k in design or k in refs]
    if not selection.build:
        unbuilt = set(runtime.unbuilt(todo)) - set(refs)  # references are built regardless
        todo = [k for k in todo if k not in unbuilt]
    if fitted and selection.samples is None and selection.fill is None:
        # completing a filled or adapted table: the heaviest ops in the space's networks
        # first, so that a part (--limit) replaces the fitted rows that weigh most
        from nas.latency.usage import by_weight, op_usage

        todo = by_weight(todo, op_usage(space, rois), fitted)
    todo = [*(r for r in refs if r in todo), *(k for k in todo if k not in refs)]
    return todo if selection.limit is None else todo[: selection.limit]


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()

