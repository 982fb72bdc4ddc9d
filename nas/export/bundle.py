"""``nas export``: write the chosen architectures of a search run, ready to deploy.

Per architecture, ``OUT/<rank>-<trial>-<arch id>/``: ``arch.json``, ``model.pt`` (proxy
weights, ``weights_only`` loadable), ``model_fp32.pte`` (and ``model_int8.pte`` on
request, or by default when the run's latencies are int8, calibrated on training images of
the run's dataset or of ``calibration_data``) and ``MODEL_CARD.md``; ``OUT/index.json``
lists them.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from nas.errors import ExportError
from nas.export.calibration import CHECK_IMAGES, calibration_inputs, program_agreement
from nas.export.card import model_card
from nas.export.pte import deployable, lower
from nas.io import atomic_write_text, relative_path
from nas.runs.rows import FINISHED, TrialRow
from nas.runs.front import front_trials, learned_floor
from nas.runs.store import ResultsStore
from nas.space.spec import ArchSpec
from nas.train.checkpoint import load_failure, load_tensors, refused_content

__all__ = ["Exported", "choose", "export_run"]


@dataclass(frozen=True)
class Exported:
    trial: str
    folder: Path
    files: list[str]


def choose(store: ResultsStore, top: int | None, objective: str) -> list[TrialRow]:
    """Front trials (search trials only), best first: by reward for reward runs, else by GPS AP."""
    rows = list(store.rows().values())
    front = front_trials([r for r in rows if r.kind == "search"], learned_floor(store.load_config()))
    chosen = [r for r in rows if r.trial in front and r.status == FINISHED]
    key = (lambda r: -r.reward) if objective == "reward" and all(math.isfinite(r.reward) for r in chosen) else (lambda r: -r.gps_ap)
    chosen.sort(key=lambda r: (key(r), r.latency_ms))
    return chosen[:top] if top is not None else chosen


def export_run(run: str | Path, out: str | Path, top: int | None = None, dtypes: tuple[str, ...] | None = None,
               log: Callable[[str], None] = print, calibration_data: str | Path | None = None) -> list[Exported]:
    """Export the ``top`` best front architectures of ``run`` into ``out``.

    ``dtypes``: the programs written (default: fp32, plus int8 when the run's latencies are
    int8); a run ranked by int8 latency refuses a request without int8. int8 programs are
    calibrated on training images of ``calibration_data`` (a dataset folder or descriptor
    YAML; default: the run's own ``--data``), read before anything is written.
    """
    store = ResultsStore(run)
    config = store.load_config()
    chosen = choose(store, top, config.get("objective", {}).get("kind", "pareto"))
    if not chosen:
        floor = learned_floor(config)
        under = f"; trials under the run's learned floor ({floor:g} GPS AP, --min-gps-ap) are never on it" if floor > 0 else ""
        raise ExportError(f"{store.root} has no finished search trial on a front to export{under} (run `nas pareto "
                          f"{store.root}` to see its trials)")
    try:
        meta = json.loads((Path(config["table"]) / "meta.json").read_text())
    except (OSError, ValueError):
        meta = {}
    dtypes = _program_dtypes(store, config, meta, chosen, dtypes)
    calibration_dir = Path(calibration_data) if calibration_data is not None else Path(config["data"])
    calibration: dict[tuple[int, int], list[tuple[torch.Tensor, ...]]] = {}
    checks: dict[tuple[int, int], list[tuple[torch.Tensor, ...]]] = {}  # validation images int8 is compared on
    if "int8" in dtypes:  # one set per deploy input size, before any folder is written
        for size in sorted({ArchSpec.from_string(r.arch).input_size for r in chosen}):
            try:
                calibration[size] = calibration_inputs(calibration_dir, size)
                checks[size] = calibration_inputs(calibration_dir, size, count=CHECK_IMAGES, split="val")
            except ExportError as err:
                raise ExportError(f"{err}; pass --calibration-data DATA (a dataset folder or descriptor YAML like the one the run trained on)") from None
    out = Path(out)
    missing = [w for w in (store.trial_dir(r.trial) / "model.pt" for r in chosen) if not w.is_file()]
    if missing:
        raise ExportError(f"{missing[0]} is missing: the weights of front trial {missing[0].parent.name} were not kept "
                          "(was the run folder copied without trials/?)")
    weights = {r.trial: _read_weights(store.trial_dir(r.trial) / "model.pt") for r in chosen}  # all readable before any write
    exported: list[Exported] = []
    for rank, row in enumerate(chosen, 1):
        folder = out / f"{rank:02d}-{row.trial}-{row.arch_id}"
        # Written into a hidden sibling and renamed into place when complete: a failure (or
        # Ctrl-C) on the way leaves no half-filled architecture folder.
        partial = out / f".{folder.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        try:
            files, int8_note = _write_artefacts(partial, row, store, weights[row.trial], dtypes, calibration, checks, calibration_dir, log)
            files.append("MODEL_CARD.md")
            atomic_write_text(partial / "MODEL_CARD.md", model_card(row, config, meta, files, on_front=True, calibration=int8_note))
            shutil.rmtree(folder, ignore_errors=True)
            partial.rename(folder)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        exported.append(Exported(row.trial, folder, files))
        log(f"exported {row.trial}: GPS AP {row.gps_ap:.2f}, {row.latency_ms:.2f} ms -> {folder}")
    index = [{"trial": e.trial, "folder": e.folder.name, "files": e.files, **{k: getattr(r, k) for k in ("arch", "arch_id", "gps_ap", "gpsm_ap", "latency_ms", "params", "macs")}}
             for e, r in zip(exported, chosen)]
    atomic_write_text(out / "index.json", json.dumps({"run": relative_path(store.root, out), "exported": index}, indent=2) + "\n")
    return exported


def _program_dtypes(store: ResultsStore, config: dict[str, Any], meta: dict[str, Any], chosen: list[TrialRow],
                    dtypes: tuple[str, ...] | None) -> tuple[str, ...]:
    """The programs to write: the ``dtypes`` asked for, by default fp32 and the dtype the
    run's latencies were timed in (its table's, or its rows' when the table is gone)."""
    timed = meta.get("dtype") or next((r.latency_dtype for r in chosen if r.latency_dtype), "fp32")
    if dtypes is None:
        return tuple(dict.fromkeys(("fp32", timed)))
    if timed not in dtypes:
        raise ExportError(f"run {store.root} ranked its architectures by {timed} latency (table {config.get('table')}), but this export "
                          f"writes only {' and '.join(dtypes)} programs, whose latency the front was not chosen by; export with "
                          f"--{timed} (the default for this run), or search again on a {dtypes[0]} table")
    return dtypes


def _read_weights(path: Path) -> dict[str, Any]:
    """A trial's ``model.pt`` (``{"state_dict": ...}``); a damaged file raises ExportError."""
    try:
        saved = load_tensors(path)
    except Exception as exc:  # empty or truncated (EOFError), not a zip, foreign pickle content, ...
        refused = refused_content(path, exc)
        if refused:
            raise ExportError(refused) from None
        raise ExportError(f"cannot read {path} ({load_failure(exc)}): the weights of trial {path.parent.name} "
                          "are damaged (copy them again from where the run was made, or train the architecture again)") from None
    if not isinstance(saved, dict) or "state_dict" not in saved:
        raise ExportError(f"{path} holds no 'state_dict': not the weights a search trial writes")
    return saved


def _write_artefacts(folder: Path, row: TrialRow, store: ResultsStore, saved: dict[str, Any], dtypes: tuple[str, ...],
                     calibration: dict[tuple[int, int], list[tuple[torch.Tensor, ...]]],
                     checks: dict[tuple[int, int], list[tuple[torch.Tensor, ...]]], calibration_dir: Path,
                     log: Callable[[str], None]) -> tuple[list[str], str | None]:
    """arch.json, model.pt and one .pte per dtype into ``folder``; the files written and
    the int8 calibration note (None without int8)."""
    weights = store.trial_dir(row.trial) / "model.pt"
    arch = ArchSpec.from_string(row.arch)
    atomic_write_text(folder / "arch.json", arch.to_json(indent=2) + "\n")
    shutil.copyfile(weights, folder / "model.pt")
    files = ["arch.json", "model.pt"]
    module, inputs = deployable(arch, saved["state_dict"])
    int8_note = None
    for dtype in dtypes:
        log(f"export {row.trial} ({arch.id}): lowering {dtype} ExecuTorch program")
        program = lower(module, inputs, folder / f"model_{dtype}.pte", dtype, calibration.get(arch.input_size))
        files.append(f"model_{dtype}.pte")
        if dtype == "int8":
            int8_note = _int8_note(module, program, calibration[arch.input_size], checks[arch.input_size], calibration_dir)
    return files, int8_note


def _int8_note(module: torch.nn.Module, program: Path, calibration: list[tuple[torch.Tensor, ...]], checks: list[tuple[torch.Tensor, ...]],
               data_dir: Path) -> str:
    """What the int8 program was calibrated on and how close it stays to fp32 (median over
    the validation images ``checks``), for the model card."""
    with torch.no_grad():
        references = [module(*batch) for batch in checks]
    error, cosine = program_agreement(program, checks, references)
    return (f"{len(calibration)} training images of `{data_dir}`; on {len(checks)} of its validation images its features differ "
            f"from eager fp32 by a median {100 * error:.1f}% (relative L1; cosine similarity {cosine:.4f})")
