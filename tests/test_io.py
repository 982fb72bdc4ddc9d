"""Atomic writes: the file appears whole, with the mode a plain open() would give it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nas.io import atomic_write_bytes, atomic_write_json, atomic_write_text, read_json, read_yaml


def test_round_trip_and_no_temporary_left(tmp_path: Path) -> None:
    atomic_write_json(tmp_path / "a" / "x.json", {"k": [1, 2]})
    assert read_json(tmp_path / "a" / "x.json", ValueError, "x") == {"k": [1, 2]}
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["x.json"]


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_mode_follows_the_umask(tmp_path: Path, umask: int) -> None:
    """mkstemp's files are owner-only; results on shared storage must stay readable."""
    probe = (f"import os; os.umask({umask:#o}); from nas.io import atomic_write_text; "
             f"atomic_write_text({str(tmp_path / 'atomic.txt')!r}, 'x'); open({str(tmp_path / 'plain.txt')!r}, 'w').close()")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    modes = {name: stat.S_IMODE(os.stat(tmp_path / name).st_mode) for name in ("atomic.txt", "plain.txt")}
    assert modes["atomic.txt"] == modes["plain.txt"] == 0o666 & ~umask


def test_failed_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "x.txt"
    atomic_write_text(target, "old")

    def replace_fails(src: str, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", replace_fails)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_text(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["x.txt"]  # temporary removed


def test_a_folder_in_the_way_is_named(tmp_path: Path) -> None:
    """The error names the path the caller gave, not the temporary file beside it."""
    (tmp_path / "out.png").mkdir()
    with pytest.raises(IsADirectoryError) as err:
        atomic_write_bytes(tmp_path / "out.png", b"x")
    assert err.value.filename == str(tmp_path / "out.png")
    assert list(tmp_path.iterdir()) == [tmp_path / "out.png"]  # nothing else written


def test_read_yaml_refuses_a_key_given_twice_at_any_depth(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("train:\n  images: a\n  annotations: x.json\n  images: b\n")
    with pytest.raises(ValueError, match=r"line 4 gives 'images' again \(first on line 2\); a descriptor names each key once"):
        read_yaml(path, ValueError, "descriptor", 1000)
    path.write_text("a: 1\nb: {c: 2, d: [1, 2]}\n")
    assert read_yaml(path, ValueError, "descriptor", 1000) == {"a": 1, "b": {"c": 2, "d": [1, 2]}}


def test_read_yaml_names_line_and_column_of_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("a: 1\nb: [1,\n")
    with pytest.raises(ValueError, match=r"d.yaml: not valid YAML at line 3, column 1: expected the node content"):
        read_yaml(path, ValueError, "descriptor", 1000)
