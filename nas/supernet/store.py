"""A trained supernet's folder: what ``nas supernet train`` writes and scoring reads.

- ``checkpoint.pt``: weights, optimiser, scaler, RNG and step, to resume training exactly;
- ``supernet.pt``: the weights alone with the space and settings they were trained with
  (what scoring loads; the checkpoint may be deleted once training is done);
- ``supernet.json``: the same description for people: space, settings, steps done,
  seconds, the loss curve.

Every file is written atomically, so an interrupted write leaves the previous one whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas.errors import SupernetError
from nas.io import atomic_write_json
from nas.space.search_space import SearchSpace
from nas.supernet.config import SupernetTrainConfig
from nas.supernet.supernet import Supernet
from nas.train.checkpoint import load_failure, load_tensors, refused_content, save_checkpoint

__all__ = ["CHECKPOINT", "WEIGHTS", "META", "FORMAT", "TrainedSupernet", "save_weights", "load_supernet", "space_of",
           "require_same_space"]

CHECKPOINT = "checkpoint.pt"
WEIGHTS = "supernet.pt"
META = "supernet.json"
FORMAT = 1  # bumped when the weights file changes incompatibly


@dataclass
class TrainedSupernet:
    """A supernet loaded from its folder.

    Attributes:
        supernet: the weights, in evaluation mode, on the CPU.
        space: the space it was trained on.
        config: how it was trained.
        steps: optimiser steps it was trained for.
        folder: where it was read from.
    """

    supernet: Supernet
    space: SearchSpace
    config: SupernetTrainConfig
    steps: int
    folder: Path


def describe(space: SearchSpace, config: SupernetTrainConfig, step: int, **extra: Any) -> dict[str, Any]:
    """The description stored with the weights: format, space (its source and hash), settings, steps."""
    return {"format": FORMAT, "space_name": space.name, "space_hash": space.hash, "space": space.source,
            "config": config.to_dict(), "step": step, **extra}


def save_weights(folder: Path, supernet: Supernet, description: dict[str, Any]) -> None:
    """Write ``supernet.pt`` (weights + description) and ``supernet.json`` (description)."""
    save_checkpoint({**description, "model": supernet.state_dict()}, folder / WEIGHTS)
    atomic_write_json(folder / META, description, indent=2)


def _read(path: Path, what: str) -> dict[str, Any]:
    try:
        saved = load_tensors(path)
    except FileNotFoundError:
        raise SupernetError(f"{path.parent} holds no {path.name}: not a supernet folder (`nas supernet train --out "
                            f"{path.parent}` writes one)") from None
    except Exception as exc:  # truncated zip, foreign pickle content, ...
        refused = refused_content(path, exc)
        raise SupernetError(refused or f"cannot read {what} {path} ({load_failure(exc)}); train the supernet again "
                            "or restore the file") from None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT or "model" not in saved:
        raise SupernetError(f"{path} is not a supernet {what} of this version of nas (format {FORMAT}); train the supernet again")
    return saved


def space_of(saved: dict[str, Any], path: Path) -> SearchSpace:
    """The search space a saved supernet was trained on."""
    try:
        space = SearchSpace.from_dict(saved["space"])
    except Exception as exc:
        raise SupernetError(f"{path}: its search space no longer parses ({exc}); train the supernet again") from None
    return space


def require_same_space(trained: SearchSpace, given: SearchSpace, where: Path) -> None:
    """Refuse a space other than the one the supernet at ``where`` was trained on."""
    if given.hash != trained.hash:
        raise SupernetError(f"the supernet in {where} was trained on search space {trained.name!r} (hash {trained.hash}), "
                            f"not on {given.name!r} (hash {given.hash}); score with the space it was trained on, "
                            "or train a supernet for this space with `nas supernet train`")


def load_supernet(folder: str | Path, space: SearchSpace | None = None) -> TrainedSupernet:
    """The supernet ``nas supernet train`` wrote to ``folder`` (its ``supernet.pt``), in
    evaluation mode on the CPU; with ``space``, refuses a supernet of another space."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SupernetError(f"supernet folder {folder} does not exist; train one with `nas supernet train --out {folder}`")
    path = folder / WEIGHTS
    saved = _read(path, "weights file")
    trained = space_of(saved, path)
    if space is not None:
        require_same_space(trained, space, folder)
    supernet = Supernet(trained)
    try:
        supernet.load_state_dict(saved["model"])
    except RuntimeError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SupernetError(f"{path}: its weights do not fit the supernet of its space ({first}); "
                            "it was written by another version of nas: train the supernet again") from None
    return TrainedSupernet(supernet.eval(), trained, SupernetTrainConfig.from_dict(saved["config"]), int(saved["step"]), folder)

