"""DensePose results files: one JSON list entry per detected person.

Each entry is ``{"image_id", "category_id", "bbox": [x, y, w, h], "score",
"uv_shape": [3, h, w], "uv_data": "<base64 PNG>"}`` as DensePose's evaluator reads
them. The PNG is an RGB image of the box's I, U, V maps: channel 0 is the fine part I
(0 = background, 1..24), channels 1 and 2 are U and V in [0, 1] scaled to 0..255 (so
U, V are quantised to steps of 1/255).

Files are written in the official format (:meth:`DensePoseResult.at_box_pixels`): the
box's width and height in whole pixels (truncated, as Detectron writes them) and the
maps at exactly that size, ``uv_shape == [3, int(h), int(w)]``, which DensePose's
evaluator indexes pixel by pixel. Maps of any size are read.

Everything read is validated; a problem raises :class:`~nas.errors.EvalError` naming
the entry (its index and image id) and the field.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from PIL import Image

from nas.data.parts import N_FINE_PARTS
from nas.errors import EvalError
from nas.eval.masks import box_pixel_size, resample_nearest
from nas.io import atomic_write_json, read_json

__all__ = [
    "DensePoseResult",
    "whole_pixel_box",
    "encode_iuv",
    "decode_iuv",
    "encode_densepose_result",
    "decode_densepose_result",
    "load_densepose_results",
    "save_densepose_results",
]

# Box sizes this close below a whole pixel count as it when writing (pixels).
_SNAP = 1e-6
# Largest per-box IUV map accepted (pixels); a real box is at most an image.
_MAX_UV_PIXELS = 4096 * 4096


@dataclass(frozen=True, eq=False)
class DensePoseResult:
    """One detection with its DensePose output.

    Attributes:
        image_id: COCO image id.
        category_id: COCO category id (1, person, for DensePose-COCO).
        bbox: ``(x, y, w, h)`` in image pixels.
        score: detection confidence (higher is better).
        iuv: ``(3, h, w)`` uint8 map over the box: I (0..24), round(255 U), round(255 V);
            any resolution (the official format's is the box's whole-pixel size).
    """

    image_id: int
    category_id: int
    bbox: tuple[float, float, float, float]
    score: float
    iuv: np.ndarray

    @property
    def labels(self) -> np.ndarray:
        """``(h, w)`` fine part 0..24 (0: background)."""
        return self.iuv[0]

    @property
    def u(self) -> np.ndarray:
        """``(h, w)`` U in [0, 1] (float32, quantised to 1/255)."""
        return self.iuv[1].astype(np.float32) / 255.0

    @property
    def v(self) -> np.ndarray:
        """``(h, w)`` V in [0, 1] (float32, quantised to 1/255)."""
        return self.iuv[2].astype(np.float32) / 255.0

    def at_box_pixels(self) -> DensePoseResult:
        """This detection in DensePose's official results format: the box's width and
        height truncated to whole pixels (at least 1; :func:`whole_pixel_box`) and the
        maps resampled to exactly that size by nearest neighbour (cell centres, the
        reading :mod:`nas.eval.gps` gives a map of another size). Itself when already so."""
        bbox = whole_pixel_box(self.bbox)
        rows, cols = box_pixel_size(bbox)
        if bbox == self.bbox and self.iuv.shape[1:] == (rows, cols):
            return self
        iuv = np.stack([resample_nearest(channel, rows, cols) for channel in self.iuv])
        return DensePoseResult(self.image_id, self.category_id, bbox, self.score, iuv)

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready results entry, in the official format (:meth:`at_box_pixels`)."""
        official = self.at_box_pixels()
        shape, data = _encode_uint8_iuv(official.iuv)
        return {
            "image_id": int(self.image_id),
            "category_id": int(self.category_id),
            "bbox": [float(b) for b in official.bbox],
            "score": float(self.score),
            "uv_shape": shape,
            "uv_data": data,
        }


def whole_pixel_box(bbox: Sequence[float]) -> tuple[float, float, float, float]:
    """``(x, y, int(w), int(h))``: a box with its width and height truncated to whole
    pixels (at least 1), as Detectron writes DensePose results (``int(x2 - x1)``); a
    size within 1e-6 below a whole number (float noise) rounds up to it."""
    x, y, w, h = (float(b) for b in bbox)
    # A size within 1e-6 below a whole pixel is that pixel: float noise of scaling, not a lost column.
    return x, y, float(max(1, int(w + _SNAP))), float(max(1, int(h + _SNAP)))


def _quantise_iuv(labels: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    lab = np.asarray(labels)
    uu = np.asarray(u, dtype=np.float64)
    vv = np.asarray(v, dtype=np.float64)
    if lab.ndim != 2 or uu.shape != lab.shape or vv.shape != lab.shape:
        raise EvalError(f"I, U, V must be 2-D maps of one shape, got {lab.shape}, {uu.shape}, {vv.shape}")
    if lab.size == 0:
        raise EvalError("I, U, V maps are empty")
    if lab.dtype.kind == "f" and not np.array_equal(lab, np.round(lab)):
        raise EvalError("I must hold integer part labels 0..24")
    if lab.min() < 0 or lab.max() > N_FINE_PARTS:
        raise EvalError(f"I must be within 0..{N_FINE_PARTS}, got {lab.min()}..{lab.max()}")
    if not (np.isfinite(uu).all() and np.isfinite(vv).all()):
        raise EvalError("U and V must be finite")
    out = np.empty((3, *lab.shape), dtype=np.uint8)
    out[0] = lab
    out[1] = np.round(np.clip(uu, 0.0, 1.0) * 255.0)
    out[2] = np.round(np.clip(vv, 0.0, 1.0) * 255.0)
    return out


def _encode_uint8_iuv(iuv: np.ndarray) -> tuple[list[int], str]:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(np.moveaxis(iuv, 0, -1)), mode="RGB").save(buf, format="PNG")
    return [3, int(iuv.shape[1]), int(iuv.shape[2])], base64.b64encode(buf.getvalue()).decode("ascii")


def encode_iuv(labels: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[list[int], str]:
    """Encode one box's I, U, V maps as ``(uv_shape, uv_data)``.

    Args:
        labels: ``(h, w)`` fine part 0..24.
        u: ``(h, w)`` U in [0, 1] (clipped, then quantised to 1/255).
        v: ``(h, w)`` V in [0, 1].

    Returns:
        ``([3, h, w], base64 PNG string)``.

    Raises:
        EvalError: shapes differ, labels are out of range, or U/V are not finite.
    """
    return _encode_uint8_iuv(_quantise_iuv(labels, u, v))


def decode_iuv(uv_shape: Sequence[int], uv_data: str) -> np.ndarray:
    """Decode ``uv_data`` into a ``(3, h, w)`` uint8 I, 255 U, 255 V map.

    Raises:
        EvalError: the shape is not ``[3, h, w]``, the data is not a base64 RGB PNG of
            that size, or I holds values above 24.
    """
    if (
        not isinstance(uv_shape, (list, tuple))
        or len(uv_shape) != 3
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in uv_shape)
        or uv_shape[0] != 3
        or uv_shape[1] < 1
        or uv_shape[2] < 1
    ):
        raise EvalError(f"uv_shape must be [3, h, w] with positive integers h, w, got {uv_shape!r}")
    h, w = int(uv_shape[1]), int(uv_shape[2])
    if h * w > _MAX_UV_PIXELS:
        raise EvalError(f"uv_shape {h}x{w} is larger than any box this evaluator accepts ({_MAX_UV_PIXELS} px)")
    if not isinstance(uv_data, str):
        raise EvalError(f"uv_data must be a base64 string, got {type(uv_data).__name__}")
    try:
        raw = base64.b64decode(uv_data)
    except (binascii.Error, ValueError) as exc:
        raise EvalError(f"uv_data is not valid base64 ({exc})") from None
    try:
        with Image.open(io.BytesIO(raw)) as im:
            if im.format != "PNG" or im.mode != "RGB":
                raise EvalError(f"uv_data must be an 8-bit RGB PNG, got {im.format} {im.mode}")
            if im.size != (w, h):
                raise EvalError(f"uv_data is {im.size[1]}x{im.size[0]} but uv_shape says {h}x{w}")
            arr = np.asarray(im, dtype=np.uint8)
    except EvalError:
        raise
    except Exception as exc:  # PIL raises many types for truncated or corrupt data
        # (PIL's message names the in-memory buffer, e.g. <_io.BytesIO object at 0x...>: say what the bytes were)
        what = "empty" if not raw else f"{len(raw)} bytes starting {raw[:8]!r}"
        raise EvalError(f"uv_data is not a readable PNG ({what}; {type(exc).__name__})") from None
    iuv = np.ascontiguousarray(np.moveaxis(arr, -1, 0))
    if iuv[0].max() > N_FINE_PARTS:
        raise EvalError(f"uv_data channel I holds {int(iuv[0].max())}; parts are 0..{N_FINE_PARTS}")
    return iuv


def encode_densepose_result(
    image_id: int,
    bbox: Sequence[float],
    score: float,
    labels: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    category_id: int = 1,
) -> dict[str, Any]:
    """Build one results-file entry from a detection and its per-box I, U, V maps.

    Args:
        image_id: COCO image id.
        bbox: ``(x, y, w, h)`` in image pixels.
        score: detection confidence.
        labels: ``(h, w)`` fine part 0..24 over the box (any resolution).
        u: ``(h, w)`` U in [0, 1].
        v: ``(h, w)`` V in [0, 1].
        category_id: COCO category id (person = 1).

    Returns:
        A JSON-ready dict in DensePose's official results format: box width and height
        in whole pixels, maps resampled to them (:meth:`DensePoseResult.at_box_pixels`).

    Raises:
        EvalError: a field is invalid.
    """
    result = DensePoseResult(
        image_id=int(image_id),
        category_id=int(category_id),
        bbox=_check_bbox(bbox),
        score=_check_score(score),
        iuv=_quantise_iuv(labels, u, v),
    )
    return result.to_json()


def _check_bbox(bbox: Any) -> tuple[float, float, float, float]:
    if not isinstance(bbox, (list, tuple, np.ndarray)) or len(bbox) != 4:
        raise EvalError(f"bbox must be [x, y, width, height], got {bbox!r:.80}")
    try:
        vals = tuple(float(b) for b in bbox)
    except (TypeError, ValueError):
        raise EvalError(f"bbox must hold 4 numbers, got {bbox!r:.80}") from None
    if not all(math.isfinite(b) for b in vals):
        raise EvalError(f"bbox holds NaN or infinity: {list(vals)}")
    if vals[2] <= 0 or vals[3] <= 0:
        raise EvalError(f"bbox width and height must be positive, got {vals[2]:g} x {vals[3]:g}")
    return vals  # type: ignore[return-value]


def _check_score(score: Any) -> float:
    if isinstance(score, bool) or not isinstance(score, (int, float, np.floating, np.integer)):
        raise EvalError(f"score must be a number, got {type(score).__name__}")
    if not math.isfinite(float(score)):
        raise EvalError(f"score must be finite, got {score}")
    return float(score)


def _check_id(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise EvalError(f"{name} must be an integer, got {value!r:.40}")
    return int(value)


_FIELDS = ("image_id", "category_id", "bbox", "score", "uv_shape", "uv_data")


def decode_densepose_result(entry: Mapping[str, Any] | DensePoseResult, index: int | None = None) -> DensePoseResult:
    """Validate and decode one results entry.

    Args:
        entry: a results-file dict (or an already decoded result, returned as is).
        index: position of the entry in its file, used in error messages.

    Raises:
        EvalError: a field is missing or malformed; the message names the entry and field.
    """
    if isinstance(entry, DensePoseResult):
        return entry
    where = "results entry" if index is None else f"results entry {index}"
    if not isinstance(entry, Mapping):
        raise EvalError(f"{where}: expected a JSON object, got {type(entry).__name__}")
    if "image_id" in entry:
        where += f" (image_id {entry['image_id']!r:.20})"
    for name in _FIELDS:
        if name not in entry:
            raise EvalError(f"{where}: missing field {name!r}; an entry needs {', '.join(_FIELDS)}")
    field = "image_id"
    try:
        image_id = _check_id(entry["image_id"], "image_id")
        field = "category_id"
        category_id = _check_id(entry["category_id"], "category_id")
        field = "bbox"
        bbox = _check_bbox(entry["bbox"])
        field = "score"
        score = _check_score(entry["score"])
        field = "uv_data"
        iuv = decode_iuv(entry["uv_shape"], entry["uv_data"])
    except EvalError as exc:
        if field == "uv_data" and str(exc).startswith("uv_shape"):
            field = "uv_shape"
        raise EvalError(f"{where}, field {field!r}: {exc}") from None
    return DensePoseResult(image_id=image_id, category_id=category_id, bbox=bbox, score=score, iuv=iuv)


def load_densepose_results(
    source: str | os.PathLike[str] | Iterable[Mapping[str, Any] | DensePoseResult],
) -> list[DensePoseResult]:
    """Read a results JSON file (or an in-memory list of entries) and decode every entry.

    Raises:
        EvalError: the file is missing or not a JSON list, or an entry is malformed.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        data = read_json(path, EvalError, "results file")
        if not isinstance(data, list):
            raise EvalError(f"{path}: a DensePose results file is a JSON list of detections, got {type(data).__name__}")
        try:
            return [decode_densepose_result(e, k) for k, e in enumerate(data)]
        except EvalError as exc:
            raise EvalError(f"{path}: {exc}") from None
    if isinstance(source, Mapping):
        raise EvalError("results must be a list of entries (or a file path), got a single JSON object")
    return [decode_densepose_result(e, k) for k, e in enumerate(source)]


def save_densepose_results(
    path: str | os.PathLike[str], results: Iterable[DensePoseResult | Mapping[str, Any]]
) -> None:
    """Write results (decoded or entry dicts, validated first) as a JSON list, atomically."""
    entries = [decode_densepose_result(r, k).to_json() for k, r in enumerate(results)]
    atomic_write_json(path, entries)
