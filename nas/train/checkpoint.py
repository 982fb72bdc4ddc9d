"""Atomic training checkpoints, loaded with ``weights_only=True`` (no unpickling of code)."""

from __future__ import annotations

import io
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from nas.errors import NasError
from nas.io import atomic_write_bytes

__all__ = ["save_checkpoint", "load_checkpoint", "CheckpointError", "load_tensors", "refused_content", "load_failure"]

# how PyTorch's safe unpickler names what it refused to load (a function, a class)
_REFUSED_GLOBAL = re.compile(r"GLOBAL (\S+)")


class CheckpointError(NasError):
    """A checkpoint that cannot be read or does not fit the run."""


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """Write ``state`` to ``path`` atomically."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def refused_content(path: Path, exc: BaseException) -> str | None:
    """When ``exc`` is the safe unpickler refusing something ``path`` refers to (a function,
    a class), a sentence saying what was refused; None for any other failure."""
    found = _REFUSED_GLOBAL.search(str(exc)) if isinstance(exc, pickle.UnpicklingError) else None
    if found is None:
        return None
    return (f"{path} holds a reference to `{found.group(1)}`, which saved weights never need: it was refused and "
            "nothing in it ran (a file not written by nas, or tampered with; do not load it another way)")


def load_failure(exc: BaseException) -> str:
    """Why a weights file could not be read, in a few words: PyTorch's safe-unpickler report
    advises loading the file unsafely, so only its finding is kept."""
    text = str(exc)
    if "weights_only" not in text:
        return f"{type(exc).__name__}: {exc}"
    found = re.search(r"WeightsUnpickler error:\s*(.+?)(?:\n\s*\n|$)", text, re.S)
    finding = " ".join(found.group(1).split()) if found else "unreadable content"
    return f"not a file torch.save wrote: {finding}"


def load_tensors(path: Path) -> Any:
    """``torch.load`` of tensors and plain data only (``weights_only``: nothing in the file
    runs); raises what :func:`torch.load` raises, which callers turn into their own error."""
    return torch.load(path, map_location="cpu", weights_only=True)


def load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        return load_tensors(path)
    except Exception as exc:  # corrupt zip, foreign pickle content, ...
        refused = refused_content(path, exc)
        raise CheckpointError(refused or f"cannot read checkpoint {path} ({load_failure(exc)}); delete it to start over") from None
