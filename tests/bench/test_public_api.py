"""The benchmarks use the public API only: no private module or name of Optuna or of this
project (imported, or reached as an attribute of an imported module), no other benchmark
script imported as a module and nothing of the test suite (shared code lives in nas/), and
no edits of ``sys.path``."""

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


def _private_attributes(path: Path) -> list[str]:
    """``module._name`` uses of modules imported from Optuna or nas in ``path``."""
    tree = ast.parse(path.read_text())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.asname or alias.name.split(".")[0] for alias in node.names if alias.name.split(".")[0] in ("optuna", "nas")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("optuna", "nas"):
            modules |= {alias.asname or alias.name for alias in node.names}
    return [ast.unparse(node) for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr.startswith("_")
            and not node.attr.startswith("__") and isinstance(node.value, ast.Name) and node.value.id in modules]


def _sys_path_edits(path: Path) -> list[str]:
    return [ast.unparse(node) for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Attribute) and ast.unparse(node) == "sys.path"]


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_bench_script_uses_public_names_only(script: Path) -> None:
    others = {p.stem for p in SCRIPTS}
    assert not _private_attributes(script), f"{script.name} uses private names: {_private_attributes(script)}"
    assert not _sys_path_edits(script), f"{script.name} edits sys.path: import nas (installed) and nothing else of the checkout"
    for module, names in _imports(script):
        parts = module.split(".")
        assert parts[0] not in others, f"{script.name} imports the script {module}: move what it shares into nas/"
        assert parts[0] != "tests", f"{script.name} imports the test suite's {module}: move what it needs into nas/"
        if parts[0] in ("optuna", "nas"):
            private = [p for p in parts if p.startswith("_")] + [n for n in names if n.startswith("_")]
            assert not private, f"{script.name} imports private {module}: {private}"


def test_the_guard_sees_private_imports(tmp_path: Path) -> None:
    script = tmp_path / "bench_x.py"
    script.write_text("def f():\n    from optuna.samplers._tpe.sampler import _split_trials\n    from nas.search.run import _storage\n")
    assert _imports(script) == [("optuna.samplers._tpe.sampler", ["_split_trials"]), ("nas.search.run", ["_storage"])]


def test_the_guard_sees_private_attributes_and_path_edits(tmp_path: Path) -> None:
    script = tmp_path / "bench_x.py"
    script.write_text("import sys\nsys.path.insert(0, '.')\n\ndef f(self):\n    from nas.latency import programs\n"
                      "    programs._speed_up()\n    self._open = 1\n")
    assert _private_attributes(script) == ["programs._speed_up"]
    assert _sys_path_edits(script) == ["sys.path"]
