"""Data-layer throughput: synthetic generation and the augmenting loader.

Prints two figures, each the median of ``--repeats`` runs:

* generation: images/s of ``generate_dataset`` (render + JPEG + annotations, files
  written) at ``--size`` px with ``--workers`` processes, start-up included;
* loader: images/s of ``DensePoseDataset(train=True)`` (decode, flip, colour jitter,
  resize, masks) through a ``DataLoader`` with ``--loader-workers`` workers;
* check: images/s of :func:`nas.data.check.inspect_dataset` (``nas data check``, which
  ``nas train`` and ``nas search`` run first): annotations, masks and every image
  file's header, files in the page cache.

Usage::

    python bench/bench_data.py                # 200 images at 256 px, 2 workers
    python bench/bench_data.py --images 400 --workers 4 --loader-workers 4
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from nas.data import DensePoseDataset, collate
from nas.data.synth.generate import SynthConfig, generate_dataset


def bench_generation(root: Path, images: int, size: int, workers: int, repeats: int) -> tuple[float, Path]:
    rates = []
    out = root / "gen0"
    for r in range(repeats):
        out = root / f"gen{r}"
        t0 = time.perf_counter()
        generate_dataset(out, SynthConfig(images=images, size=size, seed=r), workers=workers, progress=False)
        rates.append(images / (time.perf_counter() - t0))
    return statistics.median(rates), out


def bench_loader(dataset_dir: Path, size: int, workers: int, batch_size: int, epochs: int, repeats: int) -> float:
    ds = DensePoseDataset(dataset_dir / "annotations" / "train.json", dataset_dir / "images",
                          input_size=(size, size), train=True)
    loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=True, num_workers=workers,
                                         collate_fn=collate, persistent_workers=workers > 0)
    for _ in loader:  # warm-up: worker start, file cache
        break
    rates = []
    for _ in range(repeats):
        n = 0
        t0 = time.perf_counter()
        for _ in range(epochs):
            for images, _targets in loader:
                n += images.shape[0]
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def bench_check(dataset_dir: Path, repeats: int) -> tuple[float, float]:
    """(images/s of the whole check, seconds of its median run) on ``dataset_dir``."""
    from nas.data.check import inspect_dataset

    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        report = inspect_dataset(dataset_dir)
        times.append(time.perf_counter() - t0)
    if report.problems:
        raise SystemExit(f"the generated dataset has problems: {report.problems[:3]}")
    median = statistics.median(times)
    return sum(s.images for s in report.splits) / median, median


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=200)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--loader-workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(1)  # the loader's work is per-sample numpy/PIL, as in training
    with tempfile.TemporaryDirectory() as tmp:
        gen, out = bench_generation(Path(tmp), a.images, a.size, a.workers, a.repeats)
        print(f"generation: {gen:.1f} images/s at {a.size} px "
              f"(median of {a.repeats} runs of {a.images} images, {a.workers} workers, files written)")
        load = bench_loader(out, a.size, a.loader_workers, a.batch_size, a.epochs, a.repeats)
        print(f"loader:     {load:.1f} images/s with augmentation (flip, colour jitter, resize to {a.size}, "
              f"256x256 masks; median of {a.repeats} runs, {a.loader_workers} workers, batch {a.batch_size})")
        rate, seconds = bench_check(out, a.repeats)
        print(f"check:      {rate:.0f} images/s ({seconds:.2f} s for {a.images} images with their annotations, "
              f"surface and image headers; median of {a.repeats} runs)")


if __name__ == "__main__":
    main()
