"""Ground truth for evaluation: a validated DensePose-COCO file as a pycocotools COCO.

Only what evaluation uses is checked: image sizes, annotation ids, boxes, crowd flags
and the DensePose points (``dp_x``, ``dp_y`` in the 256-box frame, ``dp_I`` 1..24,
``dp_U``, ``dp_V`` in [0, 1]). Images need not exist on disk. A problem raises
:class:`~nas.errors.DataError` naming the image id, annotation id and field.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from pycocotools.coco import COCO

from nas.data.coco import DP_BOX_SIZE, DP_FIELDS
from nas.data.parts import N_FINE_PARTS
from nas.errors import DataError
from nas.io import read_json

__all__ = ["GtPoints", "GroundTruth", "load_ground_truth"]


@dataclass(frozen=True)
class GtPoints:
    """The DensePose points of one annotation, in image pixels.

    Two placements of the same points (:mod:`nas.eval.options`): DensePose-COCO's
    256-cell box frame, as the data loader reads them, and the official evaluator's
    ``/ 255`` (computed in its order of operations, so truncation agrees bit for bit).

    Attributes:
        x: ``(P,)`` float64 image x of each point (``bbox_x + dp_x * bbox_w / 256``).
        y: ``(P,)`` float64 image y.
        i: ``(P,)`` int64 fine part 1..24.
        u: ``(P,)`` float64 U in [0, 1].
        v: ``(P,)`` float64 V in [0, 1].
        x255: ``(P,)`` float64 image x as DensePose's evaluator places it
            (``dp_x * bbox_w / 255 + bbox_x``).
        y255: ``(P,)`` float64 image y likewise.
    """

    x: np.ndarray
    y: np.ndarray
    i: np.ndarray
    u: np.ndarray
    v: np.ndarray
    x255: np.ndarray
    y255: np.ndarray

    def image_xy(self, placement: str) -> tuple[np.ndarray, np.ndarray]:
        """Image positions under a placement: ``"official"`` (``/ 255``) or ``"frame256"``."""
        return (self.x255, self.y255) if placement == "official" else (self.x, self.y)


@dataclass
class GroundTruth:
    """A loaded annotation file.

    Attributes:
        coco: the pycocotools index over the file (stdout-silent).
        points: DensePose points by annotation id, for annotations that have them.
        name: where the file came from, used in messages.
        mask_cache: image-sized person-mask RLEs by (mask rule, annotation id), filled by the
            evaluator so repeated evaluations against one ground truth decode masks once.
    """

    coco: COCO
    points: dict[int, GtPoints]
    name: str
    mask_cache: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

    def image_size(self, image_id: int) -> tuple[int, int]:
        """``(height, width)`` of an image."""
        img = self.coco.imgs[image_id]
        return int(img["height"]), int(img["width"])


def _int_field(obj: Mapping[str, Any], key: str, where: str, minimum: int | None = None) -> int:
    val = obj.get(key)
    if isinstance(val, bool) or not isinstance(val, (int, np.integer)):
        raise DataError(f"{where}, field {key!r}: expected an integer, got {val!r:.40}")
    if minimum is not None and val < minimum:
        raise DataError(f"{where}, field {key!r}: must be at least {minimum}, got {val}")
    return int(val)


def _numbers(ann: Mapping[str, Any], key: str, where: str) -> np.ndarray:
    vals = ann[key]
    if not isinstance(vals, (list, tuple)):
        raise DataError(f"{where}, field {key!r}: expected a list of numbers, got {type(vals).__name__}")
    try:
        arr = np.asarray(vals, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{where}, field {key!r}: expected a list of numbers") from None
    if arr.ndim != 1 or not np.isfinite(arr).all():
        raise DataError(f"{where}, field {key!r}: expected a flat list of finite numbers")
    return arr


def _check_annotation(ann: Any, image_ids: set[int], where: str) -> GtPoints | None:
    if not isinstance(ann, dict):
        raise DataError(f"{where}: an annotation is not a JSON object")
    ann_id = _int_field(ann, "id", where)
    image_id = ann.get("image_id")
    where = f"{where}, image id {image_id!r:.20}, annotation id {ann_id}"
    if image_id not in image_ids:
        raise DataError(f"{where}, field 'image_id': no image with this id in 'images'")
    _int_field(ann, "category_id", where)
    bbox = ann.get("bbox")
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        raise DataError(f"{where}, field 'bbox': expected [x, y, width, height]")
    b = _numbers(ann, "bbox", where)
    if b[2] <= 0 or b[3] <= 0:
        raise DataError(f"{where}, field 'bbox': width and height must be positive, got {b[2]:g} x {b[3]:g}")
    if "area" in ann and (
        isinstance(ann["area"], bool) or not isinstance(ann["area"], (int, float)) or not math.isfinite(ann["area"])
    ):
        raise DataError(f"{where}, field 'area': expected a finite number")
    present = [k for k in DP_FIELDS if k in ann]
    if not present:
        return None
    missing = [k for k in DP_FIELDS if k not in ann]
    if missing:
        raise DataError(f"{where}, field {missing[0]!r}: missing while {present[0]!r} is present")
    arr = {k: _numbers(ann, k, where) for k in DP_FIELDS}
    n = arr["dp_x"].size
    for k in DP_FIELDS[1:]:
        if arr[k].size != n:
            raise DataError(f"{where}, field {k!r}: has {arr[k].size} values but dp_x has {n}")
    i = arr["dp_I"]
    bad = (i != np.round(i)) | (i < 1) | (i > N_FINE_PARTS)
    if bad.any():
        raise DataError(f"{where}, field 'dp_I': value {i[bad][0]:g} is not a part number in 1..{N_FINE_PARTS}")
    for k, hi in (("dp_U", 1.0), ("dp_V", 1.0), ("dp_x", float(DP_BOX_SIZE)), ("dp_y", float(DP_BOX_SIZE))):
        a = arr[k]
        if ((a < 0) | (a > hi)).any():
            raise DataError(f"{where}, field {k!r}: value {a[(a < 0) | (a > hi)][0]:g} is outside [0, {hi:g}]")
    return GtPoints(
        x=b[0] + arr["dp_x"] * b[2] / DP_BOX_SIZE,
        y=b[1] + arr["dp_y"] * b[3] / DP_BOX_SIZE,
        i=i.astype(np.int64),
        u=arr["dp_U"],
        v=arr["dp_V"],
        x255=arr["dp_x"] * b[2] / 255.0 + b[0],
        y255=arr["dp_y"] * b[3] / 255.0 + b[1],
    )


def _from_dataset(data: Any, name: str) -> GroundTruth:
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("images", "annotations")):
        raise DataError(f"{name}: not a COCO file (needs lists 'images' and 'annotations')")
    cats = data.get("categories")
    if not isinstance(cats, list) or not cats:
        raise DataError(f"{name}: needs a non-empty 'categories' list (DensePose-COCO: person, id 1)")
    image_ids: set[int] = set()
    for k, img in enumerate(data["images"]):
        where = f"{name}: images[{k}]"
        if not isinstance(img, dict):
            raise DataError(f"{where}: not a JSON object")
        iid = _int_field(img, "id", where)
        _int_field(img, "height", f"{where} (id {iid})", minimum=1)
        _int_field(img, "width", f"{where} (id {iid})", minimum=1)
        if iid in image_ids:
            raise DataError(f"{where}: duplicate image id {iid}")
        image_ids.add(iid)
    points: dict[int, GtPoints] = {}
    seen: set[int] = set()
    for ann in data["annotations"]:
        pts = _check_annotation(ann, image_ids, name)
        if ann["id"] in seen:
            raise DataError(f"{name}: annotation id {ann['id']} appears twice; ids must be unique")
        seen.add(ann["id"])
        if pts is not None:
            points[int(ann["id"])] = pts
    coco = COCO()
    # pycocotools' COCOeval writes flags into annotation dicts: keep the caller's intact.
    coco.dataset = {**data, "annotations": [dict(a) for a in data["annotations"]]}
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
        coco.createIndex()
    return GroundTruth(coco=coco, points=points, name=name)


def load_ground_truth(source: str | os.PathLike[str] | COCO | Mapping[str, Any]) -> GroundTruth:
    """Load and validate a DensePose-COCO annotation file.

    Args:
        source: path of the JSON file, a pycocotools ``COCO`` built from one, or the
            parsed JSON dict.

    Raises:
        DataError: the file is missing, unreadable or malformed.
    """
    if isinstance(source, COCO):
        return _from_dataset(source.dataset, "ground truth")
    if isinstance(source, Mapping):
        return _from_dataset(dict(source), "ground truth")
    path = Path(source)
    return _from_dataset(read_json(path, DataError, "annotation file"), str(path))
