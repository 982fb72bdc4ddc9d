"""Where a dataset's files are: a dataset folder, or a descriptor YAML.

Every command that takes ``--data`` accepts either form:

* **a folder** in the layout ``nas data synth`` writes: ``annotations/train.json``,
  ``annotations/val.json``, one ``images/`` folder for both, and ``surface.npz``;
* **a descriptor**, a small YAML file naming each piece, for data in any layout, such as
  DensePose-COCO as it is downloaded::

      train:
        annotations: annotations/densepose_coco_2014_train.json
        images: train2014
      val:
        annotations: annotations/densepose_coco_2014_minival.json
        images: val2014
      surface: densepose_eval   # a surface.npz, or the folder of DensePose's evaluation files

  Relative paths resolve against the descriptor's folder.

:meth:`DatasetSource.fingerprint` records what the dataset was (the descriptor's content,
and each file's size and modification time), so a resumed search can refuse one changed
since the run began.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nas.errors import DataError
from nas.io import parse_yaml, read_text

if TYPE_CHECKING:
    from nas.data.surface import BodySurface

__all__ = ["DatasetSource", "Split", "SPLITS", "DESCRIPTOR_SUFFIXES", "MAX_DESCRIPTOR_BYTES", "open_surface",
           "surface_kind", "DESCRIPTOR_EXAMPLE"]

SPLITS = ("train", "val")
DESCRIPTOR_SUFFIXES = (".yaml", ".yml")
MAX_DESCRIPTOR_BYTES = 64 * 1024  # a descriptor is a dozen lines; anything near this is the wrong file
_SPLIT_KEYS = ("annotations", "images")
_TOP_KEYS = (*SPLITS, "surface")

DESCRIPTOR_EXAMPLE = ("train: {annotations: FILE.json, images: FOLDER}, val: {annotations: FILE.json, images: FOLDER}, "
                      "surface: surface.npz or the folder of DensePose's evaluation files")


@dataclass(frozen=True)
class Split:
    """One split of a dataset: its DensePose-COCO annotation file and its image folder."""

    annotations: Path
    images: Path


@dataclass(frozen=True)
class DatasetSource:
    """A dataset's files, from a folder or a descriptor (see the module docstring).

    Attributes:
        origin: what the user gave: the dataset folder or the descriptor file.
        train, val: the two splits.
        surface: a ``surface.npz``, or a folder holding DensePose's evaluation files.
        descriptor: the descriptor's text, or None for a dataset folder.
    """

    origin: Path
    train: Split
    val: Split
    surface: Path
    descriptor: str | None = None

    # -- reading -------------------------------------------------------------------
    @classmethod
    def load(cls, given: str | os.PathLike[str]) -> DatasetSource:
        """The dataset ``given`` names (a folder or a descriptor), every file checked to
        exist; :class:`~nas.errors.DataError` naming the missing or wrong piece otherwise."""
        path = Path(given)
        if str(given) == "":
            raise DataError("--data is empty; give a dataset folder (`nas data synth --out DIR`) or a descriptor YAML")
        if path.is_dir():
            return cls._from_folder(path)
        if path.is_file():
            if path.suffix.lower() not in DESCRIPTOR_SUFFIXES:
                raise DataError(f"{path} is a file but not a dataset descriptor (a .yaml or .yml file); give a dataset folder "
                                f"or a descriptor ({DESCRIPTOR_EXAMPLE})")
            return cls._from_descriptor(path)
        if path.suffix.lower() in DESCRIPTOR_SUFFIXES:
            raise DataError(f"dataset descriptor {path} does not exist; write one ({DESCRIPTOR_EXAMPLE}) or give a dataset folder")
        raise DataError(f"dataset {path} does not exist; give a dataset folder (`nas data synth --out {path}` writes one) "
                        "or a descriptor YAML")

    @classmethod
    def _from_folder(cls, root: Path) -> DatasetSource:
        images = root / "images"
        source = cls(root, Split(root / "annotations" / "train.json", images), Split(root / "annotations" / "val.json", images),
                     root / "surface.npz")
        missing = [str(p) for p in (source.train.annotations, source.val.annotations, images, source.surface) if not p.exists()]
        if missing:
            raise DataError(f"dataset folder {root} lacks {', '.join(missing)}; expected annotations/train.json, "
                            f"annotations/val.json, images/ and surface.npz (render one with: nas data synth --out {root} "
                            "--images 400 --overwrite), or give a descriptor YAML for data in another layout")
        return source

    @classmethod
    def _from_descriptor(cls, path: Path) -> DatasetSource:
        text = read_text(path, DataError, "dataset descriptor", MAX_DESCRIPTOR_BYTES)
        data = parse_yaml(text, path, DataError, "dataset descriptor")  # the text is kept for the run's record
        if not isinstance(data, dict):
            raise DataError(f"{path}: a dataset descriptor is a mapping with keys {', '.join(_TOP_KEYS)} "
                            f"({DESCRIPTOR_EXAMPLE})")
        _check_keys(path, data, _TOP_KEYS, "")
        base = path.parent

        def resolve(where: str, value: Any) -> Path:
            if not isinstance(value, str) or not value.strip():
                raise DataError(f"{path}: {where} must be a path (a non-empty string), got {value!r}")
            p = Path(os.path.expanduser(value))
            return p if p.is_absolute() else base / p

        splits = {}
        for name in SPLITS:
            entry = data[name]
            if not isinstance(entry, dict):
                raise DataError(f"{path}: {name} must be a mapping with annotations and images, got {entry!r}")
            _check_keys(path, entry, _SPLIT_KEYS, f"{name}.")
            ann, images = resolve(f"{name}.annotations", entry["annotations"]), resolve(f"{name}.images", entry["images"])
            if not ann.is_file():
                raise DataError(f"{path}: {name}.annotations {ann} " + ("is a folder; give the annotation JSON file"
                                                                         if ann.is_dir() else "does not exist"))
            if not images.is_dir():
                raise DataError(f"{path}: {name}.images {images} " + ("is a file; give the folder holding the images"
                                                                       if images.exists() else "does not exist"))
            splits[name] = Split(ann, images)
        surface = resolve("surface", data["surface"])
        if not surface.exists():
            raise DataError(f"{path}: surface {surface} does not exist; give a surface.npz or the folder of DensePose's "
                            "evaluation files (SMPL_subdiv.mat, SMPL_SUBDIV_TRANSFORM.mat, Pdist_matrix.pkl)")
        if surface.is_dir():
            from nas.data.surface import DENSEPOSE_EVAL_FILES

            missing = [f for f in DENSEPOSE_EVAL_FILES if not (surface / f).is_file()]
            if missing:
                raise DataError(f"{path}: surface folder {surface} lacks {', '.join(missing)} (DensePose's evaluation "
                                "files; UV_symmetry_transforms.mat is optional and enables flips)")
        return cls(path, splits["train"], splits["val"], surface, text)

    # -- using -------------------------------------------------------------------------
    def split(self, name: str) -> Split:
        """The ``train`` or ``val`` split."""
        if name not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {name!r}")
        return self.train if name == "train" else self.val

    def open_surface(self) -> BodySurface:
        """The body surface, read from whichever form it has."""
        return open_surface(self.surface)

    def fingerprint(self) -> dict[str, Any]:
        """What the dataset is now: the descriptor's text (None for a folder), and for
        each file its path, size and modification time, for each image folder its path
        and number of entries. Equal fingerprints: the same files, unchanged."""
        files: dict[str, Any] = {}
        for name in SPLITS:
            split = self.split(name)
            files[f"{name}.annotations"] = _file_state(split.annotations)
            files[f"{name}.images"] = {"path": str(split.images.resolve()), "entries": _count_entries(split.images)}
        if self.surface.is_dir():
            for child in sorted(p for p in self.surface.iterdir() if p.is_file()):
                files[f"surface/{child.name}"] = _file_state(child)
        else:
            files["surface"] = _file_state(self.surface)
        return {"origin": str(self.origin.resolve()), "descriptor": self.descriptor, "files": files}


def _check_keys(path: Path, data: dict[Any, Any], expected: tuple[str, ...], prefix: str) -> None:
    unknown = [str(k) for k in data if k not in expected]
    if unknown:
        raise DataError(f"{path}: unknown key {prefix}{unknown[0]}; a dataset descriptor has "
                        f"{', '.join(prefix + k for k in expected)}")
    missing = [k for k in expected if k not in data]
    if missing:
        raise DataError(f"{path}: missing {', '.join(prefix + k for k in missing)} ({DESCRIPTOR_EXAMPLE})")


def _file_state(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _count_entries(folder: Path) -> int:
    with os.scandir(folder) as entries:  # names only, no stat per file: quick on COCO's 82k images
        return sum(1 for _ in entries)


def surface_kind(path: Path) -> str:
    """``"densepose"`` for a folder of DensePose's evaluation files, ``"npz"`` otherwise."""
    return "densepose" if Path(path).is_dir() else "npz"


def open_surface(path: str | os.PathLike[str]) -> BodySurface:
    """A :class:`~nas.data.surface.BodySurface` from a ``surface.npz`` or from the folder
    of DensePose's evaluation files."""
    from nas.data.surface import BodySurface

    path = Path(path)
    if path.is_dir():
        return BodySurface.from_densepose_files(path)
    if not path.is_file():
        raise DataError(f"body surface {path} does not exist; give a surface.npz or the folder of DensePose's evaluation files")
    return BodySurface.load(path)
