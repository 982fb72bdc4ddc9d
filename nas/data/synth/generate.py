"""Write a synthetic DensePose-COCO dataset (the engine of ``nas data synth``).

Layout of the output folder::

    DIR/images/000001.jpg ...        RGB JPEGs, square, ``size`` px
    DIR/annotations.json             DensePose-COCO, every image (train + val)
    DIR/annotations/train.json       DensePose-COCO, the first images
    DIR/annotations/val.json         DensePose-COCO, the last ``val_fraction`` of images
    DIR/surface.npz                  the synthetic body surface (BodySurface.load)

Image ``k`` (id ``k``, 1-based) is rendered from ``SeedSequence([seed, k])`` alone, so
the dataset is the same for any number of workers; annotation ids are assigned in
image order after rendering. The dataset is rendered into a staging folder and renamed
into place whole, by one writer at a time (:mod:`nas.data.synth.staging`): an interrupted
or concurrent run leaves the old dataset or the new one, never a mix.
"""

from __future__ import annotations

import io
import multiprocessing as mp
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from PIL import Image
from tqdm import tqdm

from nas.io import atomic_write_bytes, atomic_write_json
from nas.data.synth.body import body_template
from nas.data.synth.scene import RenderedScene, SceneConfig, render_scene
from nas.data.synth.staging import check_replaceable, resolve_out, staged_dataset
from nas.errors import DataError

__all__ = ["SynthConfig", "SynthSummary", "generate_dataset", "render_image", "split_of", "image_file_name"]

# Most images one dataset holds: about four times DensePose-COCO's training set (~26k
# images with DensePose). Every image's annotations (~15 KB of JSON each, several times
# that as Python objects) are held until the JSON files are written at the end, and the
# render queue is built up front, so a count off by orders of magnitude would exhaust the
# memory before the first image; a larger set is several datasets (other --seed values).
MAX_IMAGES = 100_000
# Rendering processes per CPU core at most: more only queue for the cores (and each holds
# a copy of the body template), so a larger --workers is a typo.
MAX_WORKERS_PER_CORE = 4

GENERATOR_VERSION = 1
"""Bumped whenever the same seed would render different images."""

CATEGORY = {"id": 1, "name": "person", "supercategory": "person"}


@dataclass(frozen=True)
class SynthConfig:
    """What to generate.

    Attributes:
        images: number of images.
        size: image side in pixels.
        seed: dataset seed; image ``k`` uses ``SeedSequence([seed, k])``.
        val_fraction: share of images (the last ones) in the validation split.
        jpeg_quality: JPEG quality 1..95.
        scene: scene sampler settings.
    """

    images: int
    size: int = 256
    seed: int = 0
    val_fraction: float = 0.2
    jpeg_quality: int = 92
    scene: SceneConfig = field(default_factory=SceneConfig)

    def __post_init__(self) -> None:
        if not 1 <= self.images <= MAX_IMAGES:
            raise DataError(f"--images must be within 1..{MAX_IMAGES:,}, got {self.images}; a larger set is several "
                            "datasets (other --seed values)")
        if not 32 <= self.size <= 4096:
            raise DataError(f"--size must be within 32..4096 px, got {self.size}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise DataError(f"--val-fraction must be in [0, 1), got {self.val_fraction}")
        if not 1 <= self.jpeg_quality <= 95:
            raise DataError(f"jpeg_quality must be in 1..95, got {self.jpeg_quality}")


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`generate_dataset` wrote."""

    out: Path
    all_json: Path
    train_json: Path
    val_json: Path
    surface: Path
    images: int
    train_images: int
    val_images: int
    annotations: int
    dp_annotations: int


def image_file_name(image_id: int) -> str:
    """File name of image ``image_id`` under ``DIR/images``."""
    return f"{image_id:06d}.jpg"


def split_of(image_id: int, config: SynthConfig) -> str:
    """``"train"`` or ``"val"``: the last ``round(images * val_fraction)`` images are val."""
    n_val = int(round(config.images * config.val_fraction))
    if config.val_fraction > 0 and config.images >= 2:
        n_val = max(n_val, 1)
    return "val" if image_id > config.images - n_val else "train"


def render_image(image_id: int, config: SynthConfig) -> RenderedScene:
    """Render image ``image_id`` (1-based) of the dataset described by ``config``."""
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, image_id]))
    return render_scene(rng, config.size, config.scene)


def _encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _render_and_write(job: tuple[int, SynthConfig, str]) -> list[dict[str, Any]]:
    image_id, config, image_dir = job
    scene = render_image(image_id, config)
    atomic_write_bytes(Path(image_dir) / image_file_name(image_id), _encode_jpeg(scene.image, config.jpeg_quality))
    return scene.annotations


def _results(jobs: list[tuple[int, SynthConfig, str]], workers: int) -> Iterator[list[dict[str, Any]]]:
    if workers <= 1:
        yield from map(_render_and_write, jobs)
        return
    # fork: workers inherit the body template already built by the parent.
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_leave_ctrl_c_to_the_parent) as pool:
        try:
            yield from pool.map(_render_and_write, jobs, chunksize=4)
        except BaseException:
            # Ctrl-C or a failed image: stop the workers now; leaving the pool would first
            # render every image already queued
            for process in list(pool._processes.values()):  # type: ignore[attr-defined]
                process.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _leave_ctrl_c_to_the_parent() -> None:
    """Ctrl-C reaches the whole process group: the workers leave it to the parent, which
    stops them (see :func:`_results`), so one interrupt ends the run once, without a
    traceback from every worker and a broken pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _coco(config: SynthConfig, split: str, images: list[dict[str, Any]], anns: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "info": {
            "description": f"nas synthetic DensePose ({split} split)",
            "version": str(GENERATOR_VERSION),
            "generator": {"name": "nas.data.synth", "version": GENERATOR_VERSION, "seed": config.seed,
                          "size": config.size, "images": config.images, "val_fraction": config.val_fraction,
                          "scene": asdict(config.scene)},
        },
        "licenses": [],
        "images": images,
        "categories": [dict(CATEGORY)],
        "annotations": anns,
    }


def generate_dataset(
    out: str | os.PathLike[str], config: SynthConfig, workers: int = 1, progress: bool = True, overwrite: bool = False
) -> SynthSummary:
    """Render ``config.images`` images and write the dataset folder ``out``.

    Args:
        out: output folder (created if needed; replaced whole, so it may hold only a dataset).
        config: what to generate.
        workers: processes rendering in parallel (the output does not depend on it).
        progress: show a tqdm progress bar on stderr.
        overwrite: replace a dataset already in ``out``.

    Returns:
        A summary with the paths written and the counts.

    Raises:
        DataError: ``out`` already holds a dataset and ``overwrite`` is false, holds
            other files, is empty or the current folder, or the arguments are invalid.
        FolderBusyError: another process is writing a dataset to ``out``.
    """
    cores = os.cpu_count() or 1
    if not 1 <= workers <= MAX_WORKERS_PER_CORE * cores:
        raise DataError(f"--workers must be within 1..{MAX_WORKERS_PER_CORE * cores} ({MAX_WORKERS_PER_CORE} per CPU core "
                        f"of this machine's {cores}), got {workers}")
    given = Path(out)
    target = resolve_out(out)
    check_replaceable(target, overwrite)  # before the lock: a plain mistake needs no folder made
    with staged_dataset(target) as stage:
        check_replaceable(target, overwrite)  # again under the lock: another writer may have finished since
        counts = _write_dataset(stage, config, workers, progress)
    all_json = given / "annotations.json"
    train_json = given / "annotations" / "train.json"
    val_json = given / "annotations" / "val.json"
    return SynthSummary(out=given, all_json=all_json, train_json=train_json, val_json=val_json, surface=given / "surface.npz",
                        images=config.images, **counts)


def _write_dataset(out: Path, config: SynthConfig, workers: int, progress: bool) -> dict[str, int]:
    """Render and write the whole dataset into the (staging) folder ``out``; the counts of
    :class:`SynthSummary` but the image count."""
    image_dir = out / "images"
    image_dir.mkdir(parents=True, exist_ok=True)
    template = body_template()  # built before forking so workers share it
    template.surface().save(out / "surface.npz")

    jobs = [(k, config, str(image_dir)) for k in range(1, config.images + 1)]
    images: dict[str, list[dict[str, Any]]] = {"train": [], "val": []}
    anns: dict[str, list[dict[str, Any]]] = {"train": [], "val": []}
    ann_id = 0
    n_dp = 0
    bar = tqdm(total=config.images, desc="synth", unit="img", disable=not progress, dynamic_ncols=True)
    try:
        for image_id, image_anns in zip(range(1, config.images + 1), _results(jobs, min(workers, config.images))):
            split = split_of(image_id, config)
            images[split].append(
                {"id": image_id, "file_name": image_file_name(image_id), "height": config.size, "width": config.size}
            )
            for a in image_anns:
                ann_id += 1
                anns[split].append({"id": ann_id, "image_id": image_id, **a})
                n_dp += "dp_I" in a
            bar.update(1)
    finally:
        bar.close()
    atomic_write_json(out / "annotations" / "train.json", _coco(config, "train", images["train"], anns["train"]))
    atomic_write_json(out / "annotations" / "val.json", _coco(config, "val", images["val"], anns["val"]))
    atomic_write_json(out / "annotations.json", _coco(config, "all", images["train"] + images["val"], anns["train"] + anns["val"]))
    return {"train_images": len(images["train"]), "val_images": len(images["val"]), "annotations": ann_id, "dp_annotations": n_dp}
