"""Benchmark: DensePose evaluation time (GPS + GPSm + IOU) for N images x D detections.

Generates a synthetic dataset, builds D detections per image (the people's ground
truth with U/V noise, jittered copies and random false positives, random scores), and
times :func:`nas.eval.evaluate`, median of ``--runs``:

* cold: a freshly loaded body surface, so every geodesic row is computed (Dijkstra);
* warm: the same surface object again, as in a training run that evaluates repeatedly.

    python bench/bench_eval.py [--images 100] [--dets 20] [--size 256] [--runs 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from nas.data.surface import BodySurface
from nas.data.synth.generate import SynthConfig, generate_dataset
from nas.eval import DensePoseResult, evaluate, ground_truth_results, load_ground_truth


def make_results(gt_path: Path, dets: int, seed: int) -> list[DensePoseResult]:
    """``dets`` detections per image: noisy true positives, jittered duplicates, random boxes."""
    gt = load_ground_truth(gt_path)
    rng = np.random.default_rng(seed)
    people = ground_truth_results(gt, uv_noise=0.05, seed=seed)
    by_image: dict[int, list[DensePoseResult]] = {}
    for r in people:
        by_image.setdefault(r.image_id, []).append(r)
    out: list[DensePoseResult] = []
    for iid in sorted(gt.coco.imgs):
        h, w = gt.image_size(iid)
        mine = by_image.get(iid, [])[:dets]
        out += [DensePoseResult(r.image_id, 1, r.bbox, float(rng.uniform(0.5, 1.0)), r.iuv) for r in mine]
        for k in range(dets - len(mine)):
            if mine and k % 2 == 0:  # a jittered duplicate of a person
                src = mine[k // 2 % len(mine)]
                x, y, bw, bh = src.bbox
                box = (x + rng.normal(0, 0.1 * bw), y + rng.normal(0, 0.1 * bh), bw, bh)
                out.append(DensePoseResult(iid, 1, box, float(rng.uniform(0, 0.6)), src.iuv))
            else:  # a random box with random I, U, V
                bw, bh = rng.uniform(16, w / 2), rng.uniform(24, h / 1.5)
                box = (rng.uniform(0, w - bw), rng.uniform(0, h - bh), bw, bh)
                mh, mw = max(1, int(round(bh))), max(1, int(round(bw)))
                iuv = np.stack([rng.integers(0, 25, (mh, mw)), rng.integers(0, 256, (mh, mw)),
                                rng.integers(0, 256, (mh, mw))]).astype(np.uint8)
                out.append(DensePoseResult(iid, 1, box, float(rng.uniform(0, 0.5)), iuv))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--dets", type=int, default=20, help="detections per image")
    parser.add_argument("--size", type=int, default=256, help="image side, px")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        cfg = SynthConfig(images=args.images, size=args.size, seed=args.seed, val_fraction=0.0)
        data = generate_dataset(Path(tmp) / "synth", cfg, workers=2, progress=False)
        results = make_results(data.train_json, args.dets, args.seed)
        gt = load_ground_truth(data.train_json)
        n_people = len(gt.points)
        cold, warm = [], []
        metrics: dict[str, float] = {}
        for _ in range(args.runs):
            surface = BodySurface.load(data.surface)
            start = time.perf_counter()
            metrics = evaluate(data.train_json, results, surface)
            cold.append(time.perf_counter() - start)
        for _ in range(args.runs):
            start = time.perf_counter()
            evaluate(data.train_json, results, surface)
            warm.append(time.perf_counter() - start)
    print(f"images {args.images} x {args.dets} detections = {len(results)} detections, "
          f"{n_people} DensePose people, {args.size} px")
    print(f"evaluate (gps+gpsm+iou), median of {args.runs}: cold {statistics.median(cold):.2f} s, "
          f"warm {statistics.median(warm):.2f} s")
    print("  " + ", ".join(f"{k} {metrics[k]:.3f}" for k in ("gps_ap", "gpsm_ap", "iou_ap", "gps_ar")))


if __name__ == "__main__":
    main()
