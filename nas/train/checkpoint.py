"""Atomic training checkpoints, loaded with ``weights_only=True`` (no unpickling of code)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from nas.errors import NasError
from nas.io import atomic_write_bytes

__all__ = ["save_checkpoint", "load_checkpoint", "CheckpointError"]


class CheckpointError(NasError):
    """A checkpoint that cannot be read or does not fit the run."""


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """Write ``state`` to ``path`` atomically."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt zip, foreign pickle content, ...
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}; delete it to start over") from None
