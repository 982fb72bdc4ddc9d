"""The README's Quick start and .ci/run must not drift apart."""

from __future__ import annotations

import re

from tests.conftest import REPO


def _quick_start_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)


def test_quick_start_has_exactly_two_commands() -> None:
    commands = _quick_start_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert all(c.startswith("pip install -c constraints.txt -e ") for c in commands)


def test_ci_runs_the_test_command_verbatim() -> None:
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert _quick_start_commands()[1] in ci
