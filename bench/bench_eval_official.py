"""Benchmark: ``nas eval`` against DensePose's official evaluator, metric by metric.

Needs a local copy of the official evaluator, ``densepose_cocoeval.py`` of the 2019 COCO
DensePose challenge (DensePose repository, ``challenge/2019_COCO_DensePose/``), which
the project neither ships nor downloads, and the packages it imports (numpy, scipy,
pycocotools, h5py, opencv-python). The script:

1. generates a synthetic DensePose-COCO set (``nas data synth``'s generator), adds
   beside a quarter of its people an overlapping person without points (as COCO people
   DensePose-COCO left unannotated; box IoU mostly 0.8-0.95), and writes the synthetic body in DensePose's evaluation-file layout into a work folder:
   ``SMPL_subdiv.mat``, ``SMPL_SUBDIV_TRANSFORM.mat`` (vertices mapped to distance
   rows through a permutation, so the indirection is exercised), ``Pdist_matrix.pkl``
   (what ``nas`` reads) and ``Pdist_matrix.mat`` (HDF5, what the 2019 file reads), both
   the condensed geodesic matrix in DensePose's reversed layout;
2. writes prediction files with ``nas.eval.save_densepose_results`` (the official
   format: maps at the box's whole-pixel size): perfect, U/V noise, wrong parts on 30%
   of the pixels, jittered boxes, extra detections over people without points and
   crowds, duplicates with false positives, and maps at 56 x 56 (evaluated by ``nas``
   from memory as well as from the file);
3. scores each file with ``nas.eval.evaluate`` (defaults, with the official files as
   the surface) and with the official evaluator in GPS, GPSm and IOU modes, prints
   every metric of both and the largest difference, and the effect of each project
   option (``--wrong-part zero`` etc.) on the same files.

The official file is Python 2 code. It is loaded from the given path with these
compatibility edits, made in memory only, each required to match the file exactly:
``StringIO``/``str.decode('base64')`` -> ``io.BytesIO``/``base64.b64decode``; the
``np.int``/``np.float`` aliases removed from NumPy -> ``int``/``float``; the float
sample counts passed to ``np.linspace`` -> ``int``; and the SMPL mesh size constant
``n = 27554`` -> the synthetic body's vertex count. Nothing else is changed.

The official code fails on a detection in an image without any annotation (its
ignore-region lookup returns a list there), so detections are only made in images
that have at least one annotation.

    python bench/bench_eval_official.py --official PATH/densepose_cocoeval.py \\
        [--images 40] [--size 256] [--seed 0] [--work DIR] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import pickle
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

import numpy as np
from scipy.io import savemat
from scipy.spatial.distance import squareform

from nas.data.surface import BodySurface
from nas.data.synth.generate import SynthConfig, generate_dataset
from nas.eval import (
    DensePoseResult,
    GroundTruth,
    evaluate,
    ground_truth_results,
    load_ground_truth,
    save_densepose_results,
)
from nas.eval.masks import resample_nearest
from nas.eval.pairs import is_ignored_gt

MODES = {"gps": "GPS", "gpsm": "GPSm", "iou": "IOU"}
STATS = ("ap", "ap50", "ap75", "apm", "apl", "ar", "ar50", "ar75", "arm", "arl")
# Positions of those statistics in the official summarize()'s 18 'uv' stats.
OFFICIAL_STAT_INDEX = (0, 1, 6, 11, 12, 13, 14, 15, 16, 17)
OPTIONS = {  # each project option alone, then all of them together
    "--wrong-part zero": {"wrong_part": "zero"},
    "--placement frame256": {"placement": "frame256"},
    "--masks nearest": {"masks": "nearest"},
    "--ignore-rule per-threshold": {"ignore_rule": "per-threshold"},
    "all four": {"wrong_part": "zero", "placement": "frame256", "masks": "nearest", "ignore_rule": "per-threshold"},
}


# ----------------------------------------------------------------- official code
def _patches(n_vertices: int) -> list[tuple[str, str, int]]:
    """(old, new, expected count) of the compatibility edits listed in the docstring."""
    return [
        ("        import StringIO\n", "        import io, base64\n", 1),
        ("StringIO.StringIO(uvData.decode('base64'))", "io.BytesIO(base64.b64decode(uvData))", 1),
        ("np.round((0.95 - .5) / .05) + 1", "int(np.round((0.95 - .5) / .05) + 1)", 3),
        ("np.round((1.00 - .0) / .01) + 1", "int(np.round((1.00 - .0) / .01) + 1)", 3),
        ("astype(np.int)", "astype(int)", None),  # type: ignore[list-item]
        ("dtype=np.float)", "dtype=float)", None),  # type: ignore[list-item]
        ("        n = 27554\n", f"        n = {n_vertices}\n", 2),
    ]


def load_official(path: Path, n_vertices: int) -> types.ModuleType:
    """The official evaluator module from ``path``, with the compatibility edits."""
    src = path.read_text()
    for old, new, count in _patches(n_vertices):
        found = src.count(old)
        if found == 0 or (count is not None and found != count):
            sys.exit(f"error: {path} is not the expected densepose_cocoeval.py: {old.strip()!r} occurs {found} "
                     f"times, expected {count or 'some'}; use challenge/2019_COCO_DensePose/densepose_cocoeval.py")
        src = src.replace(old, new)
    module = types.ModuleType("densepose_cocoeval_official")
    module.__file__ = str(path)
    exec(compile(src, str(path), "exec"), module.__dict__)  # noqa: S102 (the user's own copy, read to compare)
    return module


def run_official(module: types.ModuleType, eval_dir: Path, gt_path: Path, results_path: Path) -> dict[str, float]:
    """Every metric of the official evaluator in GPS, GPSm and IOU modes (fractions)."""
    from pycocotools.coco import COCO

    out: dict[str, float] = {}
    for mode, calc in MODES.items():
        with contextlib.redirect_stdout(io.StringIO()):
            coco_gt = COCO(str(gt_path))
            coco_dt = coco_gt.loadRes(json.loads(results_path.read_text()))
            ev = module.denseposeCOCOeval(str(eval_dir), coco_gt, coco_dt, "uv")
            ev.evaluate(calc_mode=calc)
            ev.accumulate()
            ev.summarize()
        out.update({f"{mode}_{s}": float(ev.stats[i]) for s, i in zip(STATS, OFFICIAL_STAT_INDEX)})
    return out


# ------------------------------------------------------------ evaluation files
def write_official_surface(surface: BodySurface, folder: Path, seed: int) -> BodySurface:
    """Write the synthetic body as DensePose's evaluation files; returns it read back by ``nas``."""
    folder.mkdir(parents=True, exist_ok=True)
    n = surface.num_vertices
    geo = surface.geodesic_matrix(np.arange(n))
    geo = np.minimum(geo, geo.T)  # Dijkstra's two directions may differ in the last bit
    np.fill_diagonal(geo, 0.0)
    row = np.random.default_rng(seed).permutation(n)  # vertex v -> distance row row[v]
    dist = np.empty_like(geo)
    dist[np.ix_(row, row)] = geo
    # DensePose's condensed layout is scipy's over the reversed row order, reversed.
    pdist = squareform(dist[::-1, ::-1], checks=False)[::-1].astype(np.float64).reshape(-1, 1)
    col = lambda a: np.asarray(a, dtype=np.float64).reshape(-1, 1)  # noqa: E731 (MATLAB column vectors)
    savemat(folder / "SMPL_subdiv.mat", {"Part_ID_subdiv": surface.part.astype(np.int32).reshape(-1, 1), "U_subdiv": col(surface.uv[:, 0]),
                                         "V_subdiv": col(surface.uv[:, 1]), "vertex": np.asarray(surface.xyz).T})
    savemat(folder / "SMPL_SUBDIV_TRANSFORM.mat", {"index": col(row + 1)})
    with open(folder / "Pdist_matrix.pkl", "wb") as fh:
        pickle.dump({"Pdist_matrix": pdist}, fh)
    import h5py  # the 2019 evaluator reads an HDF5 .mat (it needs h5py itself)

    with h5py.File(folder / "Pdist_matrix.mat", "w") as fh:
        fh.create_dataset("Pdist_matrix", data=pdist)
    back = BodySurface.from_densepose_files(folder)
    pairs = np.random.default_rng(seed + 1).integers(0, n, (2, 2000))
    err = np.abs(back.geodesic(pairs[0], pairs[1]) - geo[pairs[0], pairs[1]]).max()
    if err > 1e-9:
        sys.exit(f"error: the written Pdist_matrix reads back wrong (max error {err:g} m)")
    return back


def add_unannotated_twins(src: Path, dst: Path, seed: int, share: float = 0.25) -> int:
    """Copy an annotation file, adding beside ``share`` of the people with points an
    overlapping person without points (box jittered by ~3%, box IoU mostly 0.8-0.95),
    like the COCO people DensePose-COCO left unannotated. Returns how many were added."""
    data = json.loads(src.read_text())
    rng = np.random.default_rng(seed)
    next_id = max(a["id"] for a in data["annotations"]) + 1
    twins = []
    for a in data["annotations"]:
        if "dp_x" not in a or a.get("iscrowd") or rng.random() >= share:
            continue
        x, y, w, h = a["bbox"]
        box = [x + rng.normal(0, 0.03 * w), y + rng.normal(0, 0.03 * h), w * (1 + rng.normal(0, 0.03)),
               h * (1 + rng.normal(0, 0.03))]
        twins.append({"id": next_id, "image_id": a["image_id"], "category_id": 1, "iscrowd": 0, "bbox": box,
                      "area": float(box[2] * box[3])})
        next_id += 1
    data["annotations"] += twins
    dst.write_text(json.dumps(data))
    return len(twins)


def _with(r: DensePoseResult, **kw: Any) -> DensePoseResult:
    f = {"image_id": r.image_id, "category_id": r.category_id, "bbox": r.bbox, "score": r.score, "iuv": r.iuv}
    f.update(kw)
    return DensePoseResult(**f)


def _random_maps(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return np.stack([rng.integers(0, 25, (h, w)), rng.integers(0, 256, (h, w)), rng.integers(0, 256, (h, w))]).astype(np.uint8)


def _resample(iuv: np.ndarray, h: int, w: int) -> np.ndarray:
    return np.stack([resample_nearest(channel, h, w) for channel in iuv])


def prediction_sets(gt: GroundTruth, seed: int) -> dict[str, list[DensePoseResult]]:
    """The benchmark's detections, by file name (only in images with annotations)."""
    rng = np.random.default_rng(seed)
    annotated = {int(a["image_id"]) for a in gt.coco.dataset["annotations"]}

    def scored(results: list[DensePoseResult]) -> list[DensePoseResult]:
        return [_with(r, score=float(rng.uniform(0.3, 1.0))) for r in results]

    perfect = scored(ground_truth_results(gt))
    sets: dict[str, list[DensePoseResult]] = {"perfect": perfect}
    sets["uv_noise_0.05"] = scored(ground_truth_results(gt, uv_noise=0.05, seed=seed))
    sets["uv_noise_0.20"] = scored(ground_truth_results(gt, uv_noise=0.20, seed=seed))
    wrong = []
    for r in perfect:  # 30% of the person's pixels (so ~30% of the points) on another part
        iuv = r.iuv.copy()
        flip = (iuv[0] > 0) & (rng.random(iuv[0].shape) < 0.3)
        iuv[0][flip] = (iuv[0][flip] + rng.integers(0, 23, int(flip.sum()))) % 24 + 1
        wrong.append(_with(r, iuv=iuv))
    sets["wrong_part_30pct"] = wrong
    jitter = []
    for r in sets["uv_noise_0.05"]:  # shifted by fractions of a pixel and more, rescaled
        x, y, w, h = r.bbox
        box = (x + rng.normal(0, 0.04 * w), y + rng.normal(0, 0.04 * h), w * rng.uniform(0.9, 1.1), h * rng.uniform(0.9, 1.1))
        jitter.append(_with(r, bbox=box))
    sets["jittered_boxes"] = jitter
    extra = list(sets["uv_noise_0.05"])
    for a in gt.coco.dataset["annotations"]:  # over people without points and crowds
        if not is_ignored_gt(a, gt):
            continue
        x, y, w, h = (float(b) for b in a["bbox"])
        for spread in (0.02, 0.08):  # box IoU mostly >= 0.8, then mostly below
            box = (x + rng.normal(0, spread * w), y + rng.normal(0, spread * h), w * (1 + rng.normal(0, spread)),
                   h * (1 + rng.normal(0, spread)))
            box = (box[0], box[1], max(box[2], 2.0), max(box[3], 2.0))
            extra.append(DensePoseResult(int(a["image_id"]), 1, box, float(rng.uniform(0.2, 1.0)),
                                         _random_maps(rng, max(1, int(box[3])), max(1, int(box[2])))))
    sets["unannotated_overlap"] = extra
    dup = list(sets["uv_noise_0.05"])
    for r in sets["uv_noise_0.05"]:
        x, y, w, h = r.bbox
        dup.append(_with(r, bbox=(x + rng.normal(0, 0.1 * w), y + rng.normal(0, 0.1 * h), w, h), score=float(rng.uniform(0, 0.7))))
    for iid in sorted(annotated):
        ih, iw = gt.image_size(iid)
        for _ in range(2):
            w, h = rng.uniform(16, iw / 2), rng.uniform(24, ih / 1.5)
            box = (rng.uniform(0, iw - w), rng.uniform(0, ih - h), w, h)
            dup.append(DensePoseResult(iid, 1, box, float(rng.uniform(0, 0.5)), _random_maps(rng, int(h), int(w))))
    sets["duplicates_false_pos"] = dup
    sets["maps_56x56"] = [_with(r, iuv=_resample(r.iuv, 56, 56)) for r in sets["uv_noise_0.05"]]
    return sets


# ------------------------------------------------------------------------ main
def _max_diff(a: dict[str, float], b: dict[str, float]) -> tuple[float, str]:
    worst = max(a, key=lambda k: abs(a[k] - b[k]))
    return abs(a[worst] - b[worst]), worst


def _table(name: str, ours: dict[str, float], official: dict[str, float]) -> str:
    lines = [f"{name}", f"  {'metric':<10}{'nas':>8}{'official':>10}{'diff':>9}"]
    for k in ours:
        lines.append(f"  {k:<10}{ours[k]:8.4f}{official[k]:10.4f}{ours[k] - official[k]:9.4f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--official", type=Path, required=True, help="local copy of densepose_cocoeval.py (2019 challenge)")
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--size", type=int, default=256, help="image side, px")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=None, help="folder for the generated files (default: a temporary one)")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this JSON file")
    args = parser.parse_args()
    if not args.official.is_file():
        sys.exit(f"error: --official {args.official} not found; give the path of your copy of densepose_cocoeval.py")
    import importlib.util

    missing = [m for m in ("h5py", "cv2") if importlib.util.find_spec(m) is None]
    if missing:  # the official file imports both
        sys.exit(f"error: the official evaluator needs {', '.join(missing)}: pip install h5py opencv-python-headless")

    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        data = generate_dataset(work / "synth", SynthConfig(images=args.images, size=args.size, seed=args.seed,
                                                            val_fraction=0.0), workers=1, progress=False,
                                overwrite=True)
        surface = write_official_surface(BodySurface.load(data.surface), work / "eval_data", args.seed)
        official = load_official(args.official, surface.num_vertices)
        gt_path = work / "val_with_twins.json"
        twins = add_unannotated_twins(data.train_json, gt_path, args.seed)
        gt = load_ground_truth(gt_path)
        people = sum(1 for a in gt.coco.dataset["annotations"] if not is_ignored_gt(a, gt))
        print(f"{args.images} images, {people} people with points, "
              f"{len(gt.coco.dataset['annotations']) - people} ignore regions ({twins} of them unannotated people "
              f"overlapping annotated ones); surface {surface.num_vertices} vertices")
        report: dict[str, Any] = {"images": args.images, "size": args.size, "seed": args.seed, "people": people,
                                   "ignore_regions": len(gt.coco.dataset["annotations"]) - people,
                                   "unannotated_twins": twins, "files": {}}
        worst_all = 0.0
        for name, results in prediction_sets(gt, args.seed).items():
            path = work / f"{name}.json"
            save_densepose_results(path, results)
            t0 = time.perf_counter()
            ours = evaluate(gt, path, surface)
            t1 = time.perf_counter()
            theirs = run_official(official, work / "eval_data", gt_path, path)
            t2 = time.perf_counter()
            diff, key = _max_diff(ours, theirs)
            worst_all = max(worst_all, diff)
            print(_table(f"{name} ({len(results)} detections; nas {t1 - t0:.1f} s, official {t2 - t1:.1f} s)", ours, theirs))
            print(f"  largest |nas - official|: {diff:.4f} ({key})")
            entry: dict[str, Any] = {"detections": len(results), "nas": ours, "official": theirs, "max_abs_diff": diff}
            if name == "maps_56x56":  # the same detections from memory, maps not at box size
                mem = evaluate(gt, results, surface)
                d_mem, k_mem = _max_diff(mem, theirs)
                worst_all = max(worst_all, d_mem)
                entry["nas_from_memory_max_abs_diff"] = d_mem
                print(f"  from memory (56x56 maps): largest |nas - official|: {d_mem:.4f} ({k_mem})")
            effects = {}
            for label, kw in OPTIONS.items():
                alt = evaluate(gt, path, surface, **kw)  # type: ignore[arg-type]
                d, k = _max_diff(alt, theirs)
                effects[label] = {"max_abs_change": d, "metric": k, "gps_ap": alt["gps_ap"], "gpsm_ap": alt["gpsm_ap"],
                                  "iou_ap": alt["iou_ap"], "ap50": {m: alt[f"{m}_ap50"] for m in MODES}}
                print(f"  with {label:<28} largest change {d:.4f} ({k})")
            entry["options"] = effects
            report["files"][name] = entry
        report["max_abs_diff"] = worst_all
        print(f"\nlargest |nas - official| over every metric of every file: {worst_all:.4f}")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
