"""Draw one annotated image of a dataset folder (the engine of ``nas data show``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from nas.data.check import check_annotation_file
from nas.data.coco import DP_BOX_SIZE, ImageRecord, decode_coarse_masks, load_densepose_coco
from nas.data.image import read_rgb
from nas.data.vis import IUV, annotation_iuv, draw_densepose
from nas.errors import DataError

__all__ = ["dataset_annotation_files", "find_image", "exact_synthetic_iuv", "draw_dataset_image"]


def dataset_annotation_files(directory: str | os.PathLike[str]) -> list[Path]:
    """Annotation files of a dataset folder: ``annotations.json`` (every image) first, then
    ``annotations/*.json``."""
    d = Path(directory)
    files = [d / "annotations.json"] if (d / "annotations.json").is_file() else []
    files += sorted((d / "annotations").glob("*.json")) if (d / "annotations").is_dir() else []
    if not files:
        raise DataError(f"{d}: no annotations/*.json or annotations.json found; is this a dataset folder?")
    return files


def find_image(files: list[Path], image_dir: Path, image_id: int) -> tuple[Path, ImageRecord]:
    """The annotation file and record of ``image_id`` (searched in ``files`` in order)."""
    for f in files:
        for rec in load_densepose_coco(f, image_dir).images:
            if rec.image_id == image_id:
                return f, rec
    raise DataError(f"image id {image_id} not found in {', '.join(str(f) for f in files)}")


def exact_synthetic_iuv(ann_file: Path, rec: ImageRecord) -> list[IUV | None] | None:
    """Dense ground truth of a synthetic image, re-rendered from its seed.

    Returns None when the file is not from ``nas data synth`` or the re-rendered
    annotations do not match the file (e.g. another generator version).
    """
    from nas.data.synth.generate import GENERATOR_VERSION, SynthConfig, render_image
    from nas.data.synth.scene import SceneConfig, scene_from_dict

    with open(ann_file, "rb") as fh:
        info: dict[str, Any] = json.load(fh).get("info", {})
    gen = info.get("generator") if isinstance(info, dict) else None
    if not isinstance(gen, dict) or gen.get("name") != "nas.data.synth" or gen.get("version") != GENERATOR_VERSION:
        return None
    try:  # files written before scene settings were recorded used the defaults
        scene_config = scene_from_dict(gen["scene"]) if "scene" in gen else SceneConfig()
    except TypeError:  # settings of another generator revision
        return None
    cfg = SynthConfig(images=int(gen["images"]), size=int(gen["size"]), seed=int(gen["seed"]), scene=scene_config)
    scene = render_image(rec.image_id, cfg)
    if len(scene.annotations) != len(rec.instances) or any(
        list(a["bbox"]) != list(inst.bbox) for a, inst in zip(scene.annotations, rec.instances)
    ):
        return None
    out: list[IUV | None] = [None] * len(rec.instances)
    for person, k in enumerate(scene.person_annotation):
        if k < 0 or rec.instances[k].dp is None:
            continue
        x, y, w, h = (int(v) for v in rec.instances[k].bbox)
        mine = scene.person[y:y + h, x:x + w] == person
        out[k] = (
            np.where(mine, scene.part[y:y + h, x:x + w], 0).astype(np.uint8),
            np.where(mine, scene.uv[y:y + h, x:x + w, 0], 0).astype(np.float32),
            np.where(mine, scene.uv[y:y + h, x:x + w, 1], 0).astype(np.float32),
        )
    return out


def draw_dataset_image(
    directory: str | os.PathLike[str],
    image_id: int,
    *,
    annotations: str | os.PathLike[str] | None = None,
    image_dir: str | os.PathLike[str] | None = None,
    exact: bool = True,
    scale: float = 3.0,
) -> Figure:
    """Figure of image ``image_id``: parts, U/V iso-contours, dp points, boxes.

    Args:
        directory: dataset folder (``images/`` and ``annotations/``).
        image_id: COCO image id.
        annotations: a specific annotation file instead of the folder's.
        image_dir: image folder instead of ``directory/images``.
        exact: for synthetic data, draw the renderer's dense ground truth (else the
            dense map is interpolated from the sparse points, as for real data).
        scale: output pixels per image pixel.
    """
    d = Path(directory)
    files = [Path(annotations)] if annotations is not None else dataset_annotation_files(d)
    images = Path(image_dir) if image_dir is not None else d / "images"
    ann_file, rec = find_image(files, images, image_id)
    # masks of another size, bad RLE, ids given twice, annotations of unknown images and an
    # image file of another size than the JSON's are refused, not drawn
    check_annotation_file(ann_file, images, image_id)
    image = read_rgb(rec.path, rec.image_id, (rec.height, rec.width))
    boxes = np.array([[b[0], b[1], b[0] + b[2], b[1] + b[3]] for b in (i.bbox for i in rec.instances)]).reshape(-1, 4)
    dense = exact_synthetic_iuv(ann_file, rec) if exact else None
    iuvs: list[IUV | None] = []
    points: list[tuple[np.ndarray, np.ndarray] | None] = []
    for k, inst in enumerate(rec.instances):
        if inst.dp is None:
            iuvs.append(None)
            points.append(None)
            continue
        x, y, w, h = inst.bbox
        xy = np.c_[x + inst.dp.x * w / DP_BOX_SIZE, y + inst.dp.y * h / DP_BOX_SIZE]
        points.append((xy, inst.dp.i))
        if dense is not None and dense[k] is not None:
            iuvs.append(dense[k])
        else:
            coarse = decode_coarse_masks(inst.dp, rec.image_id, inst.ann_id)
            iuvs.append(annotation_iuv(inst.dp.x, inst.dp.y, inst.dp.i, inst.dp.u, inst.dp.v, coarse))
    source = "exact render" if dense is not None else "interpolated from points"
    n_dp = sum(i.dp is not None for i in rec.instances)
    title = f"image {image_id}: {len(rec.instances)} annotations, {n_dp} with DensePose ({source})"
    return draw_densepose(image, boxes, iuvs, points=points, crowd=[i.is_crowd for i in rec.instances],
                          scale=scale, title=title)
