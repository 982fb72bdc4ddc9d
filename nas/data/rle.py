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

__all__ = ["rle_counts", "rle_decode", "rle_encode", "rle_area", "rles_valid"]


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
    try:
        arr = np.asarray(counts, dtype=np.int64)
    except OverflowError:
        raise ValueError("RLE has a run length too large for any mask") from None
    if arr.size and arr.min() < 0:
        raise ValueError("RLE has a negative run length")
    total = int(arr.sum())
    if total != h * w:
        raise ValueError(f"RLE run lengths sum to {total}, expected height*width = {h * w}")
    return (h, w), arr


def rles_valid(rles: list[Any]) -> np.ndarray:
    """Which of ``rles`` :func:`rle_counts` accepts, decided for all of them at once.

    Compressed strings are parsed together in a few numpy passes over their concatenation
    (a Python loop per character costs ~30 us per DensePose mask; DensePose-COCO has about
    half a million); anything else, and any string the batch rejects, goes through
    :func:`rle_counts` one by one, so the verdict is always :func:`rle_counts`'s. Use
    :func:`rle_counts` on a rejected RLE for the reason.

    Returns:
        A bool array, one entry per RLE.
    """
    ok = np.zeros(len(rles), dtype=bool)
    fast: list[int] = []
    for k, rle in enumerate(rles):
        size = rle.get("size") if isinstance(rle, dict) else None
        counts = rle.get("counts") if isinstance(rle, dict) else None
        if (isinstance(size, list) and len(size) == 2 and all(type(v) is int and v >= 0 for v in size)
                and isinstance(counts, str) and counts.isascii()):
            fast.append(k)
            continue
        try:
            rle_counts(rle)
            ok[k] = True
        except ValueError:
            pass
    if fast:
        chosen = [rles[k] for k in fast]
        ok[fast] = _compressed_valid([r["counts"] for r in chosen], [r["size"][0] * r["size"][1] for r in chosen])
        for k in np.asarray(fast)[~ok[fast]]:  # the batch rejects what no encoder writes; rle_counts has the last word
            try:
                rle_counts(rles[k])
                ok[k] = True
            except ValueError:
                pass
    return ok


_MAX_DELTA = 1 << 40  # pixels; a larger run (delta) goes to rle_counts, which decides exactly


def _compressed_valid(strings: list[str], totals: list[int]) -> np.ndarray:
    """For each compressed counts string: parses, no negative run, runs sum to its total.
    True is exact; False may be an RLE only rle_counts can accept (a run over 2^40)."""
    m = len(strings)
    lens = np.fromiter(map(len, strings), dtype=np.int64, count=m)
    total = np.asarray(totals, dtype=np.int64)
    ok = np.ones(m, dtype=bool)
    c = np.frombuffer("".join(strings).encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
    if c.size == 0:
        return total == 0  # no run at all: only a mask of no pixels
    owner_of_char = np.repeat(np.arange(m), lens)

    def reject(where: np.ndarray, owners: np.ndarray) -> None:
        ok[np.unique(owners[where])] = False

    bad = (c < 0) | (c >= 64)
    reject(bad, owner_of_char)
    c[bad] = 0
    last_char = np.cumsum(lens)[lens > 0] - 1  # the last character of each non-empty string
    ends_number = (c & 0x20) == 0  # a character without the continuation bit ends a number
    reject(~ends_number[last_char], owner_of_char[last_char])  # the string ends inside a number
    ends_number[last_char] = True  # so no number runs on into the next string
    ends = np.flatnonzero(ends_number)
    starts = np.r_[0, ends[:-1] + 1]
    group = np.arange(c.size) - np.repeat(starts, ends - starts + 1)  # 5-bit group within its number
    reject(group > 11, owner_of_char)  # over 60 bits: no mask has such a run (and int64 would overflow)
    group = np.minimum(group, 11)
    d = np.add.reduceat((c & 0x1F) << (5 * group), starts)
    d -= np.where((c[ends] & 0x10) != 0, np.left_shift(1, 5 * (group[ends] + 1)), 0)  # sign of the last group
    reject(np.abs(d) > _MAX_DELTA, owner_of_char[ends])  # so the running sums below stay exact in int64
    owner = owner_of_char[ends]
    is_first = np.r_[True, owner[1:] != owner[:-1]]  # the first run of each (non-empty) string
    present = np.flatnonzero(is_first)
    first = present[np.cumsum(is_first) - 1]  # each run's string's first run
    j = np.arange(ends.size) - first  # index of each run within its string
    # runs after the third are delta-coded against the run two back: two running sums per string
    runs = d.copy()
    for chain in ((j % 2 == 1), (j % 2 == 0) & (j >= 2)):
        cum = np.cumsum(np.where(chain, d, 0))
        base = np.where(first > 0, cum[first - 1], 0)
        runs = np.where(chain, cum - base, runs)
    reject(runs < 0, owner)
    sums = np.zeros(m, dtype=np.int64)  # an empty string holds no run: it sums to 0
    sums[owner[present]] = np.add.reduceat(runs, present)
    return ok & (sums == total)


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
