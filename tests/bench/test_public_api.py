"""The benchmarks use the public API only: no private module or name of Optuna or of this
project, and no other benchmark script imported as a module (shared code lives in nas/)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(BENCH.glob("*.py"))


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, imported names) of every import in ``path``, function-level ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_bench_script_uses_public_names_only(script: Path) -> None:
    others = {p.stem for p in SCRIPTS}
    for module, names in _imports(script):
        parts = module.split(".")
        assert parts[0] not in others, f"{script.name} imports the script {module}: move what it shares into nas/"
        if parts[0] in ("optuna", "nas"):
            private = [p for p in parts if p.startswith("_")] + [n for n in names if n.startswith("_")]
            assert not private, f"{script.name} imports private {module}: {private}"


def test_the_guard_sees_private_imports(tmp_path: Path) -> None:
    script = tmp_path / "bench_x.py"
    script.write_text("def f():\n    from optuna.samplers._tpe.sampler import _split_trials\n    from nas.search.run import _storage\n")
    assert _imports(script) == [("optuna.samplers._tpe.sampler", ["_split_trials"]), ("nas.search.run", ["_storage"])]
