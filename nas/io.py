"""File I/O shared by the package: atomic writes and checked reads.

Atomic writes go to a sibling temporary file renamed into place, so a crash or Ctrl-C
mid-write leaves either the old file or no file, never half of one. Checked reads turn a
file a user gave that is too large or not UTF-8 text into one error naming the file and
where in it, instead of a decoding traceback or minutes of parsing.
"""

from __future__ import annotations

import errno
import io
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_save_npz", "read_json", "read_text", "read_yaml", "parse_yaml",
           "relative_path", "excerpt", "EXCERPT_CHARS"]


# Characters of a user's input an error message quotes: enough to recognise it; an input can
# be a 100,000-character string, and the message is one line a user reads.
EXCERPT_CHARS = 40


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """``value`` as an error message quotes it: its ``repr`` (quoted, line breaks escaped, so
    the message stays one line), cut to ``limit`` characters and ``...`` when longer."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."


def _read_umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it, so set it back at once
    os.umask(mask)
    return mask


# Read once at import, while nothing else runs: the two calls above are not thread-safe.
_FILE_MODE = 0o666 & ~_read_umask()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (same-directory temp file + ``os.replace``)."""
    path = Path(path)
    if path.is_dir():  # os.replace would fail naming the temporary file, which no user gave
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file owner-only (0600); give it the mode open() would, so
        # results on shared storage stay readable by the cluster's other users
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any, indent: int | None = None) -> None:
    """Serialise ``obj`` as JSON (compact unless ``indent``) and write it atomically."""
    separators = (",", ":") if indent is None else None
    atomic_write_text(path, json.dumps(obj, separators=separators, indent=indent))


def read_json(path: str | os.PathLike[str], error: type[Exception], what: str) -> Any:
    """Parse a JSON file; a missing or unreadable file raises ``error`` naming ``what`` and the path."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} {path} not found")
    try:
        with open(path, "rb") as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        raise error(f"{path}: not a readable JSON file ({exc})") from None


def read_text(path: str | os.PathLike[str], error: type[Exception], what: str, max_bytes: int) -> str:
    """The UTF-8 text of ``path``, a ``what`` a user gave (``"search space file"``: said
    after "a", so it should start with a consonant sound).

    A file over ``max_bytes`` is refused before it is read (a space or spec of that size
    would make parsing and sampling explode); bytes that are not UTF-8 raise ``error``
    naming the file, the line and the offending byte. Existence is the caller's check:
    its message says which file was expected.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise error(f"{path} is too large ({size:,} bytes; a {what} may have at most {max_bytes:,}): is it the right file?")
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(f"{path} is not UTF-8 text: line {line} holds byte 0x{data[exc.start]:02x} (a {what} must be UTF-8; "
                    "is it a binary file, or saved in another encoding?)") from None


def read_yaml(path: str | os.PathLike[str], error: type[Exception], what: str, max_bytes: int) -> Any:
    """The YAML document of ``path``: :func:`read_text`, then :func:`parse_yaml`."""
    return parse_yaml(read_text(path, error, what, max_bytes), path, error, what)


def parse_yaml(text: str, path: str | os.PathLike[str], error: type[Exception], what: str) -> Any:
    """The YAML document ``text`` (read from ``path``, named in errors), parsed safely.

    A mapping that gives a key twice is refused, naming the key and both lines: YAML
    parsers keep the last value silently, so a setting written twice would quietly lose
    one of them. Invalid YAML raises ``error`` with the parser's line and column.
    """
    import yaml

    class _UniqueKeys(yaml.SafeLoader):
        pass

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            line = key_node.start_mark.line + 1
            if isinstance(key, str | int | float | bool) and key in seen:
                raise error(f"{path}: line {line} gives {key!r} again (first on line {seen[key]}); "
                            f"a {what} names each key once: remove one of them")
            seen[key] = line
        return loader.construct_mapping(node, deep=deep)

    _UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    try:
        return yaml.load(text, Loader=_UniqueKeys)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{path}: not valid YAML{where}: {' '.join(problem.split())}") from None


def relative_path(path: str | os.PathLike[str], start: str | os.PathLike[str]) -> str:
    """``path`` as seen from the folder ``start``, with ``/`` separators, so a file written
    into a run (a model card, an export index) names no folder of the machine that wrote it;
    the path as given where there is no relative form (another drive on Windows)."""
    try:
        return Path(os.path.relpath(path, start)).as_posix()
    except ValueError:
        return str(path)


def atomic_save_npz(path: str | os.PathLike[str], **arrays: np.ndarray) -> None:
    """Save arrays as a compressed ``.npz`` atomically (no pickled objects inside)."""
    import numpy as np  # here: error messages and text reads need no numpy (the CLI imports this module early)

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())
