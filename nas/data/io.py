"""Atomic file writes: write a sibling temporary file, then rename it into place.

A crash or Ctrl-C mid-write leaves either the old file or no file, never half of one.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_write_bytes", "atomic_write_json", "atomic_save_npz"]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (same-directory temp file + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Serialise ``obj`` as compact JSON and write it atomically."""
    atomic_write_bytes(path, json.dumps(obj, separators=(",", ":")).encode("utf-8"))


def atomic_save_npz(path: str | os.PathLike[str], **arrays: np.ndarray) -> None:
    """Save arrays as a compressed ``.npz`` atomically (no pickled objects inside)."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())
