"""A search space or spec file that is not UTF-8 text, or far too large, is refused in one
line naming the file, by every command that reads one, before anything is written."""

from __future__ import annotations

import pytest

from nas.cli import main
from nas.space.references import MAX_ARCH_FILE_BYTES
from nas.space.search_space import MAX_SPACE_BYTES
from tests.conftest import REPO

TABLE = str(REPO / "latency_tables" / "cpu-executorch-xnnpack-t1")

# (command, the file kind it reads); SPACE / SPEC / DATA / OUT are filled in per case
COMMANDS = {
    "space show": ["space", "show", "SPACE"],
    "space sample": ["space", "sample", "SPACE", "-n", "1"],
    "search": ["search", "--space", "SPACE", "--table", TABLE, "--data", "DATA", "--trials", "1", "--out", "OUT"],
    "profile": ["profile", "--space", "SPACE", "--out", "OUT"],
    "latency validate": ["latency", "validate", "--table", TABLE, "--space", "SPACE", "--samples", "4", "--report-dir", "OUT"],
    "latency predict": ["latency", "predict", "--table", TABLE, "SPEC"],
    "arch info": ["arch", "info", "SPEC"],
    "train": ["train", "SPEC", "--data", "DATA", "--budget-steps", "1", "--out", "OUT"],
}


def _not_utf8(kind: str) -> tuple[bytes, str]:
    """A file valid but for one Latin-1 byte on line 2, and what the error must say."""
    body = b"name: caf\xe9\n" if kind == "SPACE" else b'{"stem":\n "caf\xe9"}'
    return b"# first line\n" + body if kind == "SPACE" else body, "is not UTF-8 text: line 2 holds byte 0xe9"


def _too_large(kind: str) -> tuple[bytes, str]:
    limit = MAX_SPACE_BYTES if kind == "SPACE" else MAX_ARCH_FILE_BYTES
    return b" " * (limit + 1), f"is too large ({limit + 1:,} bytes"


@pytest.mark.parametrize("problem", [_not_utf8, _too_large], ids=["not-utf8", "too-large"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_bad_input_file_is_one_error_line_and_writes_nothing(command, problem, tiny_dataset, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # anything a command wrote by mistake would land here
    argv = COMMANDS[command]
    kind = "SPACE" if "SPACE" in argv else "SPEC"
    content, expected = problem(kind)
    bad = tmp_path / ("space.yaml" if kind == "SPACE" else "arch.json")
    bad.write_bytes(content)
    out = tmp_path / "out"
    args = [{"SPACE": str(bad), "SPEC": str(bad), "DATA": str(tiny_dataset), "OUT": str(out)}.get(a, a) for a in argv]

    code = main(args)

    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert f"{bad} {expected}" in lines[0]
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [bad.name]  # no output folder, nothing else
