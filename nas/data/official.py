"""Write a dataset in DensePose-COCO's official layout, from a synthetic dataset folder.

Behind ``nas data synth --layout densepose-coco``: a fresh clone gets a dataset laid out
exactly as DensePose-COCO is downloaded, with a descriptor, to try every command that
reads real data::

    OUT/annotations/densepose_coco_2014_train.json     over OUT/train2014/
    OUT/annotations/densepose_coco_2014_minival.json   over OUT/val2014/
    OUT/train2014/COCO_train2014_000000000001.jpg ...  (file_name as in the JSON)
    OUT/val2014/COCO_val2014_000000000009.jpg ...
    OUT/eval_data/SMPL_subdiv.mat                      DensePose's evaluation files, made
    OUT/eval_data/SMPL_SUBDIV_TRANSFORM.mat            from the synthetic body surface
    OUT/eval_data/Pdist_matrix.pkl
    OUT/eval_data/UV_symmetry_transforms.mat
    OUT/dataset.yaml                                   the descriptor (relative paths)

The evaluation files hold the synthetic body, not SMPL: every vertex is its own geodesic
target (``index`` is 1..N) and ``Pdist_matrix`` holds the surface's own geodesics in
metres (float32, as the mesh graph yields them), so evaluating with these files gives
the same numbers as with ``surface.npz``. The flip tables sample the body's exact mirror
map at U, V = k / 255. DensePose's own evaluator hard-codes SMPL's 27,554 geodesic
targets, so it reads only the real files; ``nas`` reads both.

The output is written into a staging folder beside ``OUT`` and renamed into place at the
end, one writer at a time, exactly as ``nas data synth`` writes its folders
(:mod:`nas.data.synth.staging`), so an interrupted run leaves no half-written dataset.
"""

from __future__ import annotations

import io
import os
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nas.data.parts import N_FINE_PARTS
from nas.data.surface import UV_TABLE_SIZE, BodySurface
from nas.data.synth.generate import SynthConfig, SynthSummary
from nas.data.synth.staging import check_replaceable, resolve_out, staged_dataset
from nas.errors import DataError
from nas.io import atomic_write_bytes, atomic_write_json, atomic_write_text, read_json

__all__ = ["OfficialLayout", "write_official_layout", "synth_official_layout", "write_densepose_eval_files",
           "uv_symmetry_tables", "condensed_geodesics", "OFFICIAL_SPLITS", "OFFICIAL_ENTRIES", "EVAL_FOLDER"]

OFFICIAL_SPLITS = {"train": ("densepose_coco_2014_train.json", "train2014"),
                   "val": ("densepose_coco_2014_minival.json", "val2014")}
"""Per split: DensePose-COCO's annotation file name and COCO's image folder."""

EVAL_FOLDER = "eval_data"
"""Folder of the evaluation files inside an official-layout dataset written here."""

OFFICIAL_ENTRIES = frozenset({"annotations", EVAL_FOLDER, "dataset.yaml", *(folder for _, folder in OFFICIAL_SPLITS.values())})
"""What an official-layout dataset written here holds; a folder with anything else is not replaced."""

_RENDER = "synthetic"  # the synthetic folder rendered inside the staging folder, then moved out of it

_ROWS_PER_CHUNK = 256  # Dijkstra sources per batch: 256 x N float64 rows in memory at once


@dataclass(frozen=True)
class OfficialLayout:
    """What :func:`write_official_layout` wrote (final paths)."""

    out: Path
    descriptor: Path
    train_json: Path
    val_json: Path
    train_images: int
    val_images: int
    surface: Path


def uv_symmetry_tables(surface: BodySurface) -> np.ndarray:
    """``(24, 2, 256, 256)`` flip tables in DensePose's ``UV_symmetry_transforms`` form.

    Cell ``[p - 1, c, r, k]`` is the U (``c = 0``) or V (``c = 1``) that ``surface``'s own
    flip gives the point ``(p, U = k / 255, V = r / 255)``, the cell's lower corner, which
    is where DensePose's lookup (truncating ``U * 255``) puts grid points.
    """
    if surface.mirror is None:
        raise DataError(f"{surface.name}: no left/right mirror map to build flip tables from")
    grid = np.arange(UV_TABLE_SIZE) / (UV_TABLE_SIZE - 1)
    u, v = np.meshgrid(grid, grid)  # u varies along columns, v along rows
    out = np.empty((N_FINE_PARTS, 2, UV_TABLE_SIZE, UV_TABLE_SIZE), dtype=np.float64)
    for p in range(1, N_FINE_PARTS + 1):
        _, fu, fv = surface.flip_iuv(np.full(u.shape, p), u, v)
        out[p - 1, 0], out[p - 1, 1] = fu, fv
    return out


def condensed_geodesics(surface: BodySurface) -> np.ndarray:
    """All-pairs geodesics (metres, float32) in DensePose's condensed ``Pdist_matrix`` order.

    The pair ``hi > lo`` sits at ``hi * (hi - 1) / 2 + lo`` (the lower triangle row by
    row): the index DensePose's evaluator computes, and :meth:`BodySurface.geodesic` reads.
    """
    n = surface.num_vertices
    out = np.empty(n * (n - 1) // 2, dtype=np.float32)
    targets = np.arange(n)
    for start in range(0, n, _ROWS_PER_CHUNK):
        rows = np.arange(start, min(n, start + _ROWS_PER_CHUNK))
        d = surface.geodesic(rows[:, None], targets[None, :])
        for r, hi in enumerate(rows):
            base = hi * (hi - 1) // 2
            out[base:base + hi] = d[r, :hi]
    if not np.isfinite(out).all():
        raise DataError(f"{surface.name}: some vertices are not connected; geodesics would be infinite")
    return out


def write_densepose_eval_files(surface: BodySurface, folder: str | os.PathLike[str]) -> None:
    """Write ``surface`` as DensePose's four evaluation files into ``folder``.

    ``SMPL_subdiv.mat`` (``Part_ID_subdiv`` as int32: DensePose indexes with it; ``U_subdiv``, ``V_subdiv`` as columns,
    ``vertex`` 3 x N in metres), ``SMPL_SUBDIV_TRANSFORM.mat`` (``index``, 1-based geodesic
    target of each vertex: here the vertex itself), ``Pdist_matrix.pkl`` (a pickled
    ``{"Pdist_matrix": (M, 1) float32}``, see :func:`condensed_geodesics`) and
    ``UV_symmetry_transforms.mat`` (see :func:`uv_symmetry_tables`).
    """
    from scipy.io import savemat

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if surface.xyz is None:
        raise DataError(f"{surface.name}: no 3-D vertex positions to write as 'vertex'")

    def mat(name: str, variables: dict[str, Any]) -> None:
        buf = io.BytesIO()
        savemat(buf, variables, do_compression=True)
        atomic_write_bytes(folder / name, buf.getvalue())

    n = surface.num_vertices
    mat("SMPL_subdiv.mat", {"Part_ID_subdiv": surface.part.astype(np.int32)[:, None], "U_subdiv": surface.uv[:, :1],
                            "V_subdiv": surface.uv[:, 1:], "vertex": surface.xyz.T.copy()})
    mat("SMPL_SUBDIV_TRANSFORM.mat", {"index": np.arange(1, n + 1, dtype=np.float64)[:, None]})
    pdist = condensed_geodesics(surface)[:, None]
    atomic_write_bytes(folder / "Pdist_matrix.pkl", pickle.dumps({"Pdist_matrix": pdist}, protocol=4))
    tables = uv_symmetry_tables(surface)
    cells: dict[str, np.ndarray] = {}
    for c, key in enumerate(("U_transforms", "V_transforms")):
        cell = np.empty((1, N_FINE_PARTS), dtype=object)  # a MATLAB cell array of 24 tables
        for k in range(N_FINE_PARTS):
            cell[0, k] = tables[k, c]
        cells[key] = cell
    mat("UV_symmetry_transforms.mat", cells)


def _descriptor_text() -> str:
    (train_json, train_dir), (val_json, val_dir) = OFFICIAL_SPLITS["train"], OFFICIAL_SPLITS["val"]
    return ("# DensePose-COCO layout written by `nas data synth --layout densepose-coco` (synthetic images)\n"
            f"train:\n  annotations: annotations/{train_json}\n  images: {train_dir}\n"
            f"val:\n  annotations: annotations/{val_json}\n  images: {val_dir}\n"
            f"surface: {EVAL_FOLDER}   # DensePose's evaluation files, made from the synthetic body\n")


def _place_images(data: dict[str, Any], src_images: Path, dst_images: Path, folder: str, move: bool) -> dict[str, Any]:
    """Put the split's images into ``dst_images`` under COCO 2014 names; the JSON to match."""
    dst_images.mkdir(parents=True, exist_ok=True)
    images = []
    for img in data["images"]:
        name = f"COCO_{folder}_{int(img['id']):012d}{Path(str(img['file_name'])).suffix}"
        src, dst = src_images / str(img["file_name"]), dst_images / name
        if not src.is_file():
            raise DataError(f"image id {img['id']}: {src} not found; the synthetic dataset is incomplete")
        if move:
            os.replace(src, dst)
        else:
            try:
                os.link(src, dst)  # same bytes, no copy, where the file system allows
            except OSError:
                shutil.copyfile(src, dst)
        images.append({**img, "file_name": name})
    return {**data, "images": images}


def write_official_layout(
    synth_dir: str | os.PathLike[str], out: str | os.PathLike[str], *, move: bool = False, overwrite: bool = False
) -> OfficialLayout:
    """Write the synthetic dataset folder ``synth_dir`` in DensePose-COCO's layout at ``out``.

    Written whole or not at all, one writer at a time, as ``nas data synth`` writes
    (:mod:`nas.data.synth.staging`).

    Args:
        synth_dir: a folder written by ``nas data synth`` (``annotations/{train,val}.json``,
            ``images/``, ``surface.npz``).
        out: the new dataset folder; must not hold a dataset unless ``overwrite``.
        move: move the images instead of linking or copying them (``synth_dir`` is
            deleted next).
        overwrite: replace the dataset ``out`` holds.

    Returns:
        The paths written.

    Raises:
        DataError: ``synth_dir`` is not a synthetic dataset, or ``out`` is taken.
    """
    target = resolve_out(out)
    check_replaceable(target, overwrite, OFFICIAL_ENTRIES)  # before the lock: a plain mistake needs no folder made
    src = Path(synth_dir)
    surface = BodySurface.load(src / "surface.npz")
    with staged_dataset(target) as stage:
        check_replaceable(target, overwrite, OFFICIAL_ENTRIES)  # again under the lock: another writer may have finished
        counts = _write_layout(src, stage, surface, move)
    return _written(target, counts)


def synth_official_layout(out: str | os.PathLike[str], config: SynthConfig, *, workers: int = 1, progress: bool = True,
                          overwrite: bool = False) -> tuple[SynthSummary, OfficialLayout]:
    """Render a synthetic dataset and write it in DensePose-COCO's layout at ``out``
    (``nas data synth --layout densepose-coco``). The render goes into the staging folder
    itself, so a killed run leaves nothing the next one does not clean up."""
    from nas.data.synth.generate import generate_dataset

    target = resolve_out(out)
    check_replaceable(target, overwrite, OFFICIAL_ENTRIES)  # before minutes of rendering
    with staged_dataset(target) as stage:
        check_replaceable(target, overwrite, OFFICIAL_ENTRIES)
        render = stage / _RENDER
        summary = generate_dataset(render, config, workers=workers, progress=progress)
        counts = _write_layout(render, stage, BodySurface.load(render / "surface.npz"), move=True)
        shutil.rmtree(render)
        for leftover in stage.glob(f".{_RENDER}.*"):  # the render's own lock file
            leftover.unlink()
    return summary, _written(target, counts)


def _write_layout(src: Path, dest: Path, surface: BodySurface, move: bool) -> dict[str, int]:
    counts = {}
    for split, (json_name, folder) in OFFICIAL_SPLITS.items():
        data = read_json(src / "annotations" / f"{split}.json", DataError, "annotation file")
        data = _place_images(data, src / "images", dest / folder, folder, move)
        atomic_write_json(dest / "annotations" / json_name, data)
        counts[split] = len(data["images"])
    write_densepose_eval_files(surface, dest / EVAL_FOLDER)
    atomic_write_text(dest / "dataset.yaml", _descriptor_text())
    return counts


def _written(out: Path, counts: dict[str, int]) -> OfficialLayout:
    return OfficialLayout(out=out, descriptor=out / "dataset.yaml",
                          train_json=out / "annotations" / OFFICIAL_SPLITS["train"][0],
                          val_json=out / "annotations" / OFFICIAL_SPLITS["val"][0],
                          train_images=counts["train"], val_images=counts["val"], surface=out / EVAL_FOLDER)
