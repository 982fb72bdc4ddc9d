"""A dataset folder written whole or not at all, by one writer at a time.

The writer renders into a staging folder beside the target, ``PARENT/.NAME.synth-new``
(same parent, so the same file system and renames are atomic), and renames it to
``PARENT/NAME`` only once every file is written. Over an existing dataset the old one is
renamed aside to ``PARENT/.NAME.synth-old`` first, the new one renamed in, then the old
one deleted: at every instant one whole dataset exists, and readers of ``NAME`` see the
old dataset or the new one, never a mix. Both renames run with Ctrl-C held back.

A writer killed (SIGKILL, power loss) at any instant leaves one of these states, which
the next writer of the same folder repairs under the lock before it starts:

* ``.NAME.synth-new`` only beside ``NAME``: a render cut short; deleted.
* ``.NAME.synth-old`` and no ``NAME``: killed between the two renames; the old dataset is
  whole under the hidden name and is renamed back to ``NAME`` (the new one, not known to
  be whole once its writer is gone, is deleted).
* ``.NAME.synth-old`` beside a ``NAME``: killed after the swap, while deleting the old
  dataset; its rest is deleted.

One writer at a time: the writer holds :func:`nas.lock.folder_lock` on
``PARENT/.NAME.synth-lock`` from its checks to the swap, so a second ``nas data synth``
into the same folder stops at once with :class:`~nas.lock.FolderBusyError` naming the
first one's pid. The lock file stays beside the dataset (a lock file deleted while
another process waits on it would let two writers in).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nas.errors import DataError
from nas.interrupts import interrupts_deferred
from nas.lock import folder_lock

__all__ = ["DATASET_ENTRIES", "check_replaceable", "resolve_out", "staged_dataset", "staging_folder"]

DATASET_ENTRIES = frozenset({"images", "annotations", "annotations.json", "surface.npz"})
"""What a synthetic dataset folder holds; a folder with anything else is not replaced."""


def staging_folder(out: Path) -> Path:
    """Where the dataset for ``out`` is rendered before it is renamed into place."""
    return out.parent / f".{out.name}.synth-new"


def _old_folder(out: Path) -> Path:
    return out.parent / f".{out.name}.synth-old"


def resolve_out(out: str | os.PathLike[str], option: str = "--out") -> Path:
    """``out`` as an absolute path, refused when it cannot be a dataset folder renamed into
    place: empty (``--out ''`` meant the current folder), or the current folder or one
    holding it (renaming it would pull the ground from under the shell). ``option``: the
    option the folder was given as, named in the errors."""
    raw = os.fspath(out)
    if not raw.strip():
        raise DataError(f"{option} is empty; give the dataset folder to write, e.g. {option} data/synth")
    path = Path(os.path.abspath(raw))
    if path.is_symlink():  # replace the folder it points to, not the link
        path = path.resolve()
    cwd = Path.cwd().resolve()
    if path == cwd:
        raise DataError(f"{option} {raw} is the current folder (so is an empty {option} ''); a dataset is written to a folder of "
                        f"its own: give a new folder, e.g. {option} data/synth")
    if path in cwd.parents:
        raise DataError(f"{option} {raw} holds the current folder; a dataset is written to a folder of its own: give a new "
                        f"folder, e.g. {option} data/synth")
    return path


def _recover(out: Path) -> None:
    """Repair what a writer killed at any instant left (see the module docstring)."""
    new, old = staging_folder(out), _old_folder(out)
    if new.exists():
        shutil.rmtree(new)
    if old.exists():
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # made since, by hand: the old dataset goes back in its place
        if out.exists():
            shutil.rmtree(old)
        else:
            os.rename(old, out)


def _fsync_dir(folder: Path) -> None:
    """Make renames in ``folder`` durable (the entries, not only the files, on disk)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(new: Path, out: Path) -> None:
    old = _old_folder(out)
    with interrupts_deferred():  # Ctrl-C between the renames would leave no dataset at NAME
        replaced = out.exists() and any(out.iterdir())
        if replaced:
            os.rename(out, old)
        elif out.exists():
            out.rmdir()  # an empty folder the user made for the dataset
        os.rename(new, out)
        _fsync_dir(out.parent)
    if replaced:
        shutil.rmtree(old)


@contextmanager
def staged_dataset(out: Path) -> Iterator[Path]:
    """Lock ``out`` against other writers, repair what a killed writer left, and yield a
    fresh staging folder to write the dataset into; on a normal exit it replaces ``out``
    whole, on an exception (a bad input, Ctrl-C) it is deleted and ``out`` is untouched.

    Raises:
        FolderBusyError: another writer holds ``out``.
    """
    with folder_lock(out.parent, f".{out.name}.synth-lock", "nas data synth", "run this one again", target=out):
        _recover(out)
        new = staging_folder(out)
        new.mkdir()
        try:
            yield new
        except BaseException:
            shutil.rmtree(new, ignore_errors=True)
            raise
        _publish(new, out)


def check_replaceable(out: Path, overwrite: bool, entries: frozenset[str] = DATASET_ENTRIES, option: str = "--out") -> None:
    """Refuse to replace a folder holding more than a dataset (its other files would be
    deleted with it), or a dataset without ``overwrite``. ``entries``: what a dataset of
    the layout being written holds (the synthetic folder's by default).

    An existing folder holding only parts of a dataset without annotations (left by a
    version of this writer that wrote in place) is replaced without ``overwrite``.
    """
    if not out.exists():
        return
    if not out.is_dir():
        raise DataError(f"{option} {out} is a file, not a folder; choose a folder for the dataset")
    names = sorted(p.name for p in out.iterdir())
    others = [n for n in names if n not in entries]
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise DataError(f"{option} {out} holds files that are not a dataset ({shown}); a dataset replaces its whole folder, "
                        "so choose a new or empty folder")
    holds = (out / "annotations.json").exists() or (out / "annotations").exists()
    if holds and not overwrite:
        raise DataError(f"{out} already holds a dataset; pass --overwrite or choose another {option} folder")
