"""COCO run-length encoded (RLE) masks: validated decoding, encoding.

Decoding is done here in numpy rather than with ``pycocotools.mask.decode``: the C
decoder trusts the counts and writes past its buffer when they sum to more than
``h * w``, so a corrupt annotation file could crash the process. Every RLE is checked
first and a bad one raises :class:`ValueError` saying what is wrong; callers add the
image id, annotation id and field to it.

An RLE is a dict ``{"size": [h, w], "counts": ...}`` where ``counts`` is either the
compressed COCO string or a list of ints (uncompressed). Runs alternate 0, 1, 0, ...
starting with zeros, in column-major (Fortran) pixel order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pycocotools.mask as mask_utils

__all__ = ["rle_counts", "rle_decode", "rle_encode", "rle_area"]


def _counts_from_string(s: str) -> list[int]:
    """Parse COCO's compressed counts string (LEB128-like, 6-bit chars offset by 48)."""
    counts: list[int] = []
    p = 0
    n = len(s)
    while p < n:
        x = 0
        k = 0
        more = True
        while more:
            if p >= n:
                raise ValueError("compressed counts string ends inside a number")
            c = ord(s[p]) - 48
            if not 0 <= c < 64:
                raise ValueError(f"invalid character {s[p]!r} in compressed counts at offset {p}")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)  # sign extension of the last 5-bit group
        if len(counts) > 2:
            x += counts[-2]  # runs after the third are delta-coded against the run two back
        counts.append(x)
    return counts


def rle_counts(rle: Any) -> tuple[tuple[int, int], np.ndarray]:
    """Validate an RLE and return its ``(h, w)`` and run lengths.

    Args:
        rle: ``{"size": [h, w], "counts": str | bytes | list[int]}``.

    Returns:
        ``((h, w), counts)`` with ``counts`` an int64 array summing to ``h * w``.

    Raises:
        ValueError: the RLE is not a dict, has a bad size, bad counts or counts that do
            not sum to ``h * w``.
    """
    if not isinstance(rle, dict):
        raise ValueError(f"expected an RLE dict with 'size' and 'counts', got {type(rle).__name__}")
    size = rle.get("size")
    if (
        not isinstance(size, (list, tuple))
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in size)
    ):
        raise ValueError(f"RLE 'size' must be [height, width] of non-negative ints, got {size!r}")
    h, w = int(size[0]), int(size[1])
    raw = rle.get("counts")
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", errors="replace")
    if isinstance(raw, str):
        counts = _counts_from_string(raw)
    elif isinstance(raw, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
        counts = list(raw)
    else:
        raise ValueError("RLE 'counts' must be a compressed string or a list of ints")
    arr = np.asarray(counts, dtype=np.int64)
    if arr.size and arr.min() < 0:
        raise ValueError("RLE has a negative run length")
    total = int(arr.sum())
    if total != h * w:
        raise ValueError(f"RLE run lengths sum to {total}, expected height*width = {h * w}")
    return (h, w), arr


def rle_decode(rle: Any) -> np.ndarray:
    """Decode a validated RLE into a ``(h, w)`` uint8 mask of 0/1 (raises ValueError)."""
    (h, w), counts = rle_counts(rle)
    values = (np.arange(counts.size) % 2).astype(np.uint8)
    flat = np.repeat(values, counts)
    return flat.reshape(w, h).T.copy()


def rle_encode(mask: np.ndarray) -> dict[str, Any]:
    """Encode a 2-D binary mask as a JSON-ready compressed RLE dict."""
    m = np.asfortranarray(np.asarray(mask, dtype=np.uint8))
    rle = mask_utils.encode(m)
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": rle["counts"].decode("ascii")}


def rle_area(rle: Any) -> int:
    """Number of foreground pixels of an RLE (raises ValueError if malformed)."""
    _, counts = rle_counts(rle)
    return int(counts[1::2].sum())
