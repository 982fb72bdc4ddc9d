"""Locate a DensePose dataset folder (the layout ``nas data synth`` writes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nas.errors import DataError

__all__ = ["DatasetPaths"]


@dataclass(frozen=True)
class DatasetPaths:
    """``DIR/annotations/{train,val}.json``, ``DIR/images/`` and ``DIR/surface.npz``."""

    root: Path
    train: Path
    val: Path
    images: Path
    surface: Path

    @classmethod
    def from_dir(cls, root: str | Path) -> DatasetPaths:
        root = Path(root)
        if root.is_file():
            raise DataError(f"{root} is a file, not a dataset folder; give the folder `nas data synth --out DIR` wrote "
                            "(annotations/, images/, surface.npz)")
        paths = cls(root, root / "annotations" / "train.json", root / "annotations" / "val.json", root / "images", root / "surface.npz")
        missing = [str(p) for p in (paths.train, paths.val, paths.images, paths.surface) if not p.exists()]
        if missing:
            raise DataError(
                f"dataset folder {root} lacks {', '.join(missing)}; expected annotations/train.json, annotations/val.json, "
                f"images/ and surface.npz (create one with: nas data synth --out {root} --images 400)"
            )
        return paths
