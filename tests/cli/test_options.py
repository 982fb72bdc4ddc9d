"""One option vocabulary: each renamed option's old spelling is still accepted (the same
setting reaches the workflow), hidden from --help, and refused together with the new one."""

from __future__ import annotations

import re

import pytest

from nas.cli import main
from nas.cli.options import RENAMED
from nas.errors import NasError
from tests.conftest import DEFAULT_SPACE

SPEC = "densemobile"


class Captured(NasError):
    """Raised by a stand-in workflow with what the command handed it."""


def _given(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], target: str, position: int, argv: list[str]) -> object:
    """The argument at ``position`` the workflow ``target`` got when ``nas argv`` ran (the
    workflow itself replaced: nothing trains or measures)."""
    seen: list[object] = []

    def stand_in(*args: object, **kwargs: object) -> None:
        seen.append(args[position])
        raise Captured("stopped before any work")

    monkeypatch.setattr(target, stand_in)
    assert main(argv) == 2
    assert "stopped before any work" in capsys.readouterr().err
    return seen[0]


def _train(monkeypatch, capsys, *options: str) -> object:
    monkeypatch.setattr("nas.cli.train.checked_dataset", lambda data: data)  # no dataset: only the options are looked at
    return _given(monkeypatch, capsys, "nas.train.loop.train", 2, ["train", SPEC, "--data", "unused", *options])


def _search(monkeypatch, capsys, tmp_path, *options: str) -> object:
    argv = ["search", "--out", str(tmp_path / "run"), "--table", str(tmp_path), "--data", str(tmp_path), "--trials", "1", *options]
    return _given(monkeypatch, capsys, "nas.search.run.run_search", 0, argv).proxy  # type: ignore[attr-defined]


def _demo(monkeypatch, capsys, *options: str) -> object:
    return _given(monkeypatch, capsys, "nas.demo.run_demo", 0, ["demo", *options])


def _profile(monkeypatch, capsys, tmp_path, *options: str) -> object:
    argv = ["profile", "--space", str(DEFAULT_SPACE), "--out", str(tmp_path / "table"), "--runtime", "torch", "--baseline", "none", *options]
    return _given(monkeypatch, capsys, "nas.latency.profile.profile_space", 5, argv)


def test_train_input_is_the_old_spelling_of_proxy_input(monkeypatch, capsys) -> None:
    new = _train(monkeypatch, capsys, "--proxy-input", "128", "96")
    old = _train(monkeypatch, capsys, "--input", "128", "96")
    assert new.input_size == old.input_size == (128, 96)  # type: ignore[attr-defined]
    assert new == old


def test_search_steps_is_the_old_spelling_of_budget_steps(monkeypatch, capsys, tmp_path) -> None:
    new = _search(monkeypatch, capsys, tmp_path, "--budget-steps", "7")
    old = _search(monkeypatch, capsys, tmp_path, "--steps", "7")
    assert new.budget.steps == old.budget.steps == 7  # type: ignore[attr-defined]
    assert new == old


def test_demo_steps_is_the_old_spelling_of_budget_steps(monkeypatch, capsys) -> None:
    assert _demo(monkeypatch, capsys, "--budget-steps", "3").steps == 3  # type: ignore[attr-defined]
    assert _demo(monkeypatch, capsys, "--steps", "3").steps == 3  # type: ignore[attr-defined]
    assert _demo(monkeypatch, capsys).steps == 100  # type: ignore[attr-defined]  # neither: the demo's default


def test_profile_sample_is_the_old_spelling_of_samples(monkeypatch, capsys, tmp_path) -> None:
    assert _profile(monkeypatch, capsys, tmp_path, "--samples", "5").samples == 5  # type: ignore[attr-defined]
    assert _profile(monkeypatch, capsys, tmp_path, "--sample", "5").samples == 5  # type: ignore[attr-defined]


def test_profile_sample_seed_is_the_old_spelling_of_seed(monkeypatch, capsys, tmp_path) -> None:
    assert _profile(monkeypatch, capsys, tmp_path, "--samples", "5", "--seed", "4").seed == 4  # type: ignore[attr-defined]
    assert _profile(monkeypatch, capsys, tmp_path, "--samples", "5", "--sample-seed", "4").seed == 4  # type: ignore[attr-defined]
    assert _profile(monkeypatch, capsys, tmp_path).seed == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(("command", "old", "new"), RENAMED)
def test_old_spellings_are_hidden_from_help(command, old, new, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    assert main([command, "--help"]) == 0
    shown = set(re.findall(r"--[a-z][a-z0-9-]*", capsys.readouterr().out))
    assert new in shown and old not in shown


@pytest.mark.parametrize(("command", "argv"), [
    ("train", ["train", SPEC, "--data", "unused", "--input", "128", "96", "--proxy-input", "128", "96"]),
    ("search", ["search", "--out", "unused", "--table", "unused", "--data", "unused", "--trials", "1", "--steps", "3", "--budget-steps", "3"]),
    ("demo", ["demo", "--steps", "3", "--budget-steps", "3"]),
    ("profile", ["profile", "--space", "unused", "--out", "unused", "--runtime", "torch", "--sample", "2", "--samples", "2"]),
    ("profile", ["profile", "--space", "unused", "--out", "unused", "--runtime", "torch", "--sample-seed", "2", "--seed", "2"]),
])
def test_both_spellings_at_once_are_refused(command, argv, capsys, monkeypatch) -> None:
    for target in ("nas.train.loop.train", "nas.demo.run_demo", "nas.latency.profile.profile_space"):
        monkeypatch.setattr(target, lambda *a, **k: pytest.fail("the workflow ran"))
    assert main(argv) == 2
    assert re.search(r"error: --[a-z-]+ is the old spelling of --[a-z-]+: give --[a-z-]+ only", capsys.readouterr().err)
