"""Reading and validating DensePose-COCO annotation files.

A DensePose-COCO file is a COCO instances file whose person annotations may carry
``dp_x``, ``dp_y`` (points in the box frame, scaled to [0, 256]), ``dp_I`` (fine part
1..24), ``dp_U``, ``dp_V`` (in [0, 1]) and ``dp_masks`` (14 coarse-part RLE masks of
256x256 in the box frame; an absent part is ``[]``).

:func:`load_densepose_coco` checks everything except the RLE masks when the file is
read; masks are checked when decoded (:func:`decode_coarse_masks`), because parsing
every mask of the full DensePose-COCO up front takes longer than most runs need.
Every problem raises :class:`~nas.errors.DataError` naming the image id, the
annotation id and the field, or — with ``on_error="skip"`` — drops the annotation
(or image) and is counted in :attr:`DensePoseCoco.skipped`.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from nas.data.parts import N_COARSE_PARTS, N_FINE_PARTS
from nas.data.rle import rle_decode
from nas.errors import DataError
from nas.io import read_json

__all__ = [
    "DP_BOX_SIZE",
    "DP_FIELDS",
    "OnError",
    "DensePosePoints",
    "Instance",
    "ImageRecord",
    "DensePoseCoco",
    "load_densepose_coco",
    "decode_coarse_masks",
    "decode_box_mask",
    "parse_densepose_fields",
    "parse_bbox",
    "annotation_where",
]

DP_BOX_SIZE = 256
"""Side of DensePose's box frame: points lie in [0, 256], masks are 256x256."""

DP_FIELDS = ("dp_x", "dp_y", "dp_I", "dp_U", "dp_V")

OnError = Literal["raise", "skip"]


@dataclass(frozen=True)
class DensePosePoints:
    """DensePose annotation of one person, as stored in the file.

    Attributes:
        x: ``(P,)`` float32, box frame, [0, 256].
        y: ``(P,)`` float32, box frame, [0, 256].
        i: ``(P,)`` int64 fine part 1..24.
        u: ``(P,)`` float32 in [0, 1].
        v: ``(P,)`` float32 in [0, 1].
        masks: 14 RLE dicts (or None for an absent part), coarse-part order.
    """

    x: np.ndarray
    y: np.ndarray
    i: np.ndarray
    u: np.ndarray
    v: np.ndarray
    masks: tuple[dict[str, Any] | None, ...]


@dataclass(frozen=True)
class Instance:
    """One annotation of an image: a person box, maybe with DensePose data."""

    ann_id: int
    bbox: tuple[float, float, float, float]  # COCO x, y, w, h in image pixels
    is_crowd: bool
    dp: DensePosePoints | None


@dataclass(frozen=True)
class ImageRecord:
    """An image and its annotations."""

    image_id: int
    file_name: str
    path: Path
    height: int
    width: int
    instances: tuple[Instance, ...]

    @property
    def has_dp(self) -> bool:
        """Whether any instance carries DensePose points."""
        return any(inst.dp is not None for inst in self.instances)


@dataclass
class DensePoseCoco:
    """A parsed, validated DensePose-COCO file.

    Attributes:
        path: the annotation file.
        images: every image record, in file order.
        skipped: counts of what ``on_error="skip"`` dropped, by reason.
    """

    path: Path
    images: list[ImageRecord]
    skipped: Counter[str] = field(default_factory=Counter)


def _where(image_id: Any, ann_id: Any, fld: str) -> str:
    return f"image id {image_id}, annotation id {ann_id}, field {fld!r}"


def _numbers(ann: dict[str, Any], key: str, where: str) -> np.ndarray:
    vals = ann[key]
    if not isinstance(vals, list):
        raise DataError(f"{where}: expected a list of numbers, got {type(vals).__name__}")
    try:
        arr = np.asarray(vals, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{where}: expected a list of numbers") from None
    if arr.ndim != 1:
        raise DataError(f"{where}: expected a flat list of numbers")
    if not np.isfinite(arr).all():
        raise DataError(f"{where}: contains NaN or infinity")
    return arr


def _parse_dp(ann: dict[str, Any], image_id: Any) -> DensePosePoints | None:
    ann_id = ann.get("id")
    present = [k for k in DP_FIELDS if k in ann]
    if not present:
        return None
    missing = [k for k in DP_FIELDS if k not in ann]
    if missing:
        raise DataError(f"{_where(image_id, ann_id, missing[0])}: missing while {present[0]!r} is present; "
                        "an annotation needs all of dp_x, dp_y, dp_I, dp_U, dp_V")
    arrs = {k: _numbers(ann, k, _where(image_id, ann_id, k)) for k in DP_FIELDS}
    n = arrs["dp_x"].size
    for k in DP_FIELDS[1:]:
        if arrs[k].size != n:
            raise DataError(f"{_where(image_id, ann_id, k)}: has {arrs[k].size} values but dp_x has {n}; "
                            "all dp_* lists must have the same length")
    i = arrs["dp_I"]
    bad = (i != np.round(i)) | (i < 1) | (i > N_FINE_PARTS)
    if bad.any():
        raise DataError(f"{_where(image_id, ann_id, 'dp_I')}: value {i[bad][0]:g} at index {int(np.argmax(bad))} "
                        f"is not a part number in 1..{N_FINE_PARTS}")
    for k, hi in (("dp_U", 1.0), ("dp_V", 1.0), ("dp_x", DP_BOX_SIZE), ("dp_y", DP_BOX_SIZE)):
        a = arrs[k]
        bad = (a < 0) | (a > hi)
        if bad.any():
            raise DataError(f"{_where(image_id, ann_id, k)}: value {a[bad][0]:g} at index {int(np.argmax(bad))} "
                            f"is outside [0, {hi:g}]")
    masks_raw = ann.get("dp_masks")
    if not isinstance(masks_raw, list) or len(masks_raw) != N_COARSE_PARTS:
        got = f"{len(masks_raw)} entries" if isinstance(masks_raw, list) else type(masks_raw).__name__
        raise DataError(f"{_where(image_id, ann_id, 'dp_masks')}: expected a list of {N_COARSE_PARTS} RLE masks "
                        f"(or [] for absent parts), got {got}")
    masks: list[dict[str, Any] | None] = []
    for k, m in enumerate(masks_raw):
        if not m:
            masks.append(None)
        elif isinstance(m, dict):
            masks.append(m)
        else:
            raise DataError(f"{_where(image_id, ann_id, f'dp_masks[{k}]')}: expected an RLE dict or [], "
                            f"got {type(m).__name__}")
    return DensePosePoints(
        x=arrs["dp_x"].astype(np.float32), y=arrs["dp_y"].astype(np.float32), i=i.astype(np.int64),
        u=arrs["dp_U"].astype(np.float32), v=arrs["dp_V"].astype(np.float32), masks=tuple(masks),
    )


def _parse_bbox(ann: dict[str, Any], image_id: Any) -> tuple[float, float, float, float]:
    where = _where(image_id, ann.get("id"), "bbox")
    b = ann.get("bbox")
    if not isinstance(b, list) or len(b) != 4:
        raise DataError(f"{where}: expected [x, y, width, height]")
    arr = _numbers(ann, "bbox", where)
    if arr[2] <= 0 or arr[3] <= 0:
        raise DataError(f"{where}: width and height must be positive, got {arr[2]:g} x {arr[3]:g}")
    return (float(arr[0]), float(arr[1]), float(arr[2]), float(arr[3]))


def load_densepose_coco(
    ann_json: str | os.PathLike[str], image_dir: str | os.PathLike[str], on_error: OnError = "raise"
) -> DensePoseCoco:
    """Read and validate a DensePose-COCO annotation file.

    Args:
        ann_json: the annotation JSON.
        image_dir: folder the images' ``file_name`` entries are relative to.
        on_error: ``"raise"`` (default) fails on the first problem; ``"skip"`` drops
            bad annotations and images whose file is missing, counting them.

    Returns:
        The parsed file.

    Raises:
        DataError: the file is unreadable or, with ``on_error="raise"``, malformed.
    """
    path = Path(ann_json)
    image_dir = Path(image_dir)
    data = read_json(path, DataError, "annotation file")
    if not image_dir.is_dir():
        raise DataError(f"image folder {image_dir} not found")
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) or not isinstance(
        data.get("annotations"), list
    ):
        raise DataError(f"{path}: not a COCO file (needs lists 'images' and 'annotations')")
    skipped: Counter[str] = Counter()

    def fail(msg: str, reason: str) -> None:
        if on_error == "raise":
            raise DataError(f"{path}: {msg}")
        skipped[reason] += 1

    per_image: dict[Any, list[Instance]] = {}
    for ann in data["annotations"]:
        if not isinstance(ann, dict):
            fail("an annotation is not a JSON object", "annotation")
            continue
        image_id = ann.get("image_id")
        try:
            bbox = _parse_bbox(ann, image_id)
            dp = _parse_dp(ann, image_id)
            if not isinstance(ann.get("id"), int):
                raise DataError(f"{_where(image_id, ann.get('id'), 'id')}: annotation id must be an integer")
        except DataError as exc:
            fail(str(exc), "annotation")
            continue
        inst = Instance(ann_id=int(ann["id"]), bbox=bbox, is_crowd=bool(ann.get("iscrowd", 0)), dp=dp)
        per_image.setdefault(image_id, []).append(inst)

    images: list[ImageRecord] = []
    for img in data["images"]:
        if not isinstance(img, dict) or not all(k in img for k in ("id", "file_name", "height", "width")):
            fail(f"image entry {img!r:.80} lacks one of id, file_name, height, width", "image")
            continue
        insts = tuple(per_image.get(img["id"], ()))
        file = image_dir / str(img["file_name"])
        if not file.is_file():
            ids = ", ".join(str(i.ann_id) for i in insts[:5]) or "none"
            fail(f"image id {img['id']} (annotation ids {ids}), field 'file_name': image file {file} not found; "
                 "check the image folder", "missing image")
            continue
        images.append(
            ImageRecord(image_id=int(img["id"]), file_name=str(img["file_name"]), path=file, height=int(img["height"]),
                        width=int(img["width"]), instances=insts)
        )
    return DensePoseCoco(path=path, images=images, skipped=skipped)


# The per-annotation checks of load_densepose_coco, for nas.data.check, which runs them
# over a whole file collecting every problem instead of stopping at the first.
parse_densepose_fields = _parse_dp
parse_bbox = _parse_bbox
annotation_where = _where


def decode_coarse_masks(dp: DensePosePoints, image_id: int, ann_id: int) -> np.ndarray:
    """Decode the 14 coarse-part masks into one ``(256, 256)`` uint8 label map (0..14).

    Where masks overlap the later part wins, as in DensePose's own loader.

    Raises:
        DataError: a mask is not a valid 256x256 RLE (names image, annotation, field).
    """
    labels = np.zeros((DP_BOX_SIZE, DP_BOX_SIZE), dtype=np.uint8)
    for k, rle in enumerate(dp.masks):
        if rle is None:
            continue
        m = decode_box_mask(rle, _where(image_id, ann_id, f"dp_masks[{k}]"))
        labels[m > 0] = k + 1
    return labels


def decode_box_mask(rle: Any, where: str) -> np.ndarray:
    """One coarse-part RLE mask of the 256x256 box frame; errors start with ``where``."""
    try:
        m = rle_decode(rle)
    except ValueError as exc:
        raise DataError(f"{where}: bad RLE mask: {exc}") from None
    if m.shape != (DP_BOX_SIZE, DP_BOX_SIZE):
        raise DataError(f"{where}: mask is {m.shape[0]}x{m.shape[1]}, expected {DP_BOX_SIZE}x{DP_BOX_SIZE}")
    return m
