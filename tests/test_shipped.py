"""Shipped files found from any working directory; file-system errors as one CLI line."""

from __future__ import annotations

from pathlib import Path

import pytest

from nas.shipped import DEFAULT_SPACE, DEFAULT_TABLE, recorded_space, shipped
from tests.conftest import REPO


def test_defaults_found_from_another_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert shipped(DEFAULT_SPACE) == REPO / DEFAULT_SPACE
    assert (shipped(DEFAULT_TABLE) / "meta.json").is_file()
    # The shipped table records its space relative to the repository it was profiled in.
    assert recorded_space(shipped(DEFAULT_TABLE), DEFAULT_SPACE) == REPO / DEFAULT_SPACE


def test_working_directory_wins_and_unknown_paths_stay_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    local = tmp_path / DEFAULT_SPACE
    local.parent.mkdir(parents=True)
    local.write_text("stages: []\n")
    assert shipped(DEFAULT_SPACE).resolve() == local.resolve()
    assert shipped("search_spaces/nope.yaml") == Path("search_spaces/nope.yaml")
    assert recorded_space(tmp_path, "search_spaces/nope.yaml") == Path("search_spaces/nope.yaml")


def test_os_errors_exit_2_with_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from nas.cli import main
    from nas.space import search_space

    def refuse(path: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(search_space.SearchSpace, "from_yaml", staticmethod(refuse))
    code = main(["space", "show", str(REPO / DEFAULT_SPACE)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("error: Permission denied (") and DEFAULT_SPACE in err[0]
