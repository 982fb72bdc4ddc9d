"""Dependencies run one way: every module of ``nas/`` imports only from its own part of the
package or from the layers below it (DESIGN.md, "Layout and layers"), and no modules import
each other in a cycle.

Imports inside functions and under ``if TYPE_CHECKING:`` count like module-level ones: a
deferred import hides a dependency, it does not remove it. The graph is read from the
source with ``ast`` (nothing is imported), one node per module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.conftest import REPO

# The layers, bottom up: a module may import its own part (the top-level module or package
# under nas/ it belongs to, e.g. ``search`` for nas.search.run) and any part on a lower
# line. Parts on one line may import each other only where the line says so.
#
# - DESIGN.md puts layers, blocks and space on one line; the code orders them: blocks
#   build on layers, space parses block options from the block registry, neither looks up.
# - search, pareto and export share a line and are independent. DESIGN.md draws pareto and
#   export above search but says they never import it, and search must not import them
#   (the demo orchestrates all three): so none of the three imports another. They share the
#   run's data model below them (nas.runs); export picks front trials there
#   (nas.runs.front), not from pareto's report.
# - analysis (statistics of the benchmark reports: proxy fidelity, rankings) reads
#   hypervolumes from pareto and settings from runs, train and space; nothing in nas
#   imports it (bench/ and tests do): it sits above search, pareto and export.
# - supernet (nas.supernet) builds on model, space, blocks and layers; search may use it.
Line = tuple[tuple[str, ...], bool]  # (parts, whether parts of the line may import each other)

LAYERS: tuple[Line, ...] = (
    (("nas", "errors", "interrupts", "io", "lock", "_lazy", "registry", "shipped"), True),  # shared utilities
    (("layers",), False),
    (("blocks",), False),
    (("space",), False),
    (("data",), False),
    (("eval",), False),
    (("model",), False),
    (("latency",), False),
    (("train",), False),
    (("runs",), False),
    (("supernet",), False),
    (("search", "pareto", "export"), False),
    (("analysis",), False),
    (("demo",), False),
    (("cli", "__main__"), True),  # ``python -m nas`` runs the CLI
)

NAS = REPO / "nas"

Graph = Mapping[str, Iterable[str]]


def module_names(root: Path = NAS) -> dict[str, Path]:
    """Every module under ``root`` by dotted name (a package by its ``__init__``)."""
    names: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported_names(source: str, module: str, is_package: bool) -> set[tuple[str, str | None]]:
    """What ``source`` imports anywhere (module level, functions, TYPE_CHECKING blocks), as
    (module, name): ``import a.b`` gives ``("a.b", None)``, ``from a import b`` gives
    ``("a", "b")`` (``b`` a submodule or a name in ``a``); relative imports made absolute."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[tuple[str, str | None]] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.update((base, alias.name) for alias in node.names)
    return found


def import_graph(root: Path = NAS) -> tuple[dict[str, set[str]], list[str]]:
    """(module -> the modules of ``root`` it imports, imports naming no module there)."""
    modules = module_names(root)
    graph: dict[str, set[str]] = {}
    dangling: list[str] = []
    for module, path in modules.items():
        graph[module] = set()
        for base, name in imported_names(path.read_text(), module, path.name == "__init__.py"):
            if base.split(".")[0] != root.name:
                continue  # the standard library and third-party packages
            submodule = f"{base}.{name}"
            target = submodule if name and submodule in modules else base  # ``from a import b``: a.b if a module
            if target not in modules:
                dangling.append(f"{module} -> {submodule if name else base}: no such module in {root.name}/")
            elif target != module:
                graph[module].add(target)
    return graph, sorted(dangling)


def part_of(module: str) -> str:
    """The top-level module or package of nas/ that ``module`` belongs to (``nas`` itself
    for the package's ``__init__``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def upward_imports(graph: Graph, layers: tuple[Line, ...] = LAYERS) -> tuple[list[str], list[str]]:
    """(imports that reach a higher line or an independent part of their own, parts of nas/ in no layer)."""
    line_of = {part: (index, peers) for index, (parts, peers) in enumerate(layers) for part in parts}
    wrong: list[str] = []
    unplaced = sorted({part_of(m) for m in graph if part_of(m) not in line_of})
    for module, targets in sorted(graph.items()):
        here = part_of(module)
        if here not in line_of:
            continue
        line, peers = line_of[here]
        for target in sorted(targets):
            there = part_of(target)
            if there == here or there not in line_of:
                continue
            other = line_of[there][0]
            if other > line:
                wrong.append(f"{module} -> {target} (layer {there} above layer {here})")
            elif other == line and not peers:
                wrong.append(f"{module} -> {target} (layer {there} beside layer {here}: one line, independent)")
    return wrong, unplaced


def import_cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def _where_to_place(unplaced: list[str]) -> str:
    return (f"parts of nas/ in no layer: {', '.join(f'nas/{part}' for part in unplaced)}; place each in LAYERS of tests/test_layers.py "
            "(and on DESIGN.md's map) at the line its imports need")


def test_every_part_of_nas_is_in_a_layer():
    graph, _ = import_graph()
    _, unplaced = upward_imports(graph)
    assert not unplaced, _where_to_place(unplaced)


def test_no_module_imports_a_layer_above_its_own():
    graph, _ = import_graph()
    wrong, _ = upward_imports(graph)
    assert not wrong, "imports against DESIGN.md's layers:\n" + "\n".join(wrong)


def test_no_import_cycles():
    graph, _ = import_graph()
    cycles = import_cycles(graph)
    assert not cycles, "modules importing each other in a cycle (one line a cycle):\n" + "\n".join(", ".join(c) for c in cycles)


def test_every_import_of_nas_names_a_module_of_it():
    _, dangling = import_graph()
    assert not dangling, "\n".join(dangling)


# -- the checker itself: it must see what it is meant to catch ----------------------------

def test_imports_are_found_in_functions_and_type_checking_blocks_and_made_absolute():
    source = '''
from typing import TYPE_CHECKING
import os
from nas.errors import NasError
if TYPE_CHECKING:
    from nas.search.run import SearchSummary
def later():
    import nas.pareto.front
    from . import sibling
    from ..runs import store
'''
    assert imported_names(source, "nas.search.demo", is_package=False) == {
        ("typing", "TYPE_CHECKING"), ("os", None), ("nas.errors", "NasError"), ("nas.search.run", "SearchSummary"),
        ("nas.pareto.front", None), ("nas.search", "sibling"), ("nas.runs", "store")}
    assert imported_names("from .store import x", "nas.runs", is_package=True) == {("nas.runs.store", "x")}


def test_the_real_graph_holds_deferred_and_type_checking_imports():
    graph, _ = import_graph()
    assert len(graph) > 100 and sum(len(t) for t in graph.values()) > 200
    assert "nas.pareto" in graph["nas.demo"]  # imported inside run_demo
    assert "nas.search.run" in graph["nas.demo"]  # imported under TYPE_CHECKING (and in a function)
    assert "nas.runs.store" in graph["nas.pareto.analysis"]  # ``from nas.runs.store import ResultsStore``
    assert "nas.search" in graph["nas.cli.search"]  # ``from nas.search import run_search``: the package


def test_a_planted_upward_import_a_sideways_one_and_an_unplaced_part_are_reported():
    layers = ((("errors",), True), (("runs",), False), (("pareto", "export"), False))
    graph = {"nas.runs.rows": {"nas.errors", "nas.pareto.front"}, "nas.pareto.front": {"nas.runs.rows"},
             "nas.export.bundle": {"nas.pareto.front", "nas.runs.rows"}, "nas.errors": set(), "nas.analysis.tau": {"nas.errors"}}
    wrong, unplaced = upward_imports(graph, layers)
    assert wrong == ["nas.export.bundle -> nas.pareto.front (layer pareto beside layer export: one line, independent)",
                     "nas.runs.rows -> nas.pareto.front (layer pareto above layer runs)"]
    assert unplaced == ["analysis"]
    assert "place each in LAYERS of tests/test_layers.py" in _where_to_place(unplaced)


def test_a_planted_cycle_is_reported_with_every_module_in_it():
    graph = {"nas.a.x": {"nas.a.y"}, "nas.a.y": {"nas.b.z"}, "nas.b.z": {"nas.a.x"}, "nas.c": {"nas.a.x"},
             "nas.d.p": {"nas.d.q"}, "nas.d.q": {"nas.d.p"}, "nas.e": set()}
    assert import_cycles(graph) == [["nas.a.x", "nas.a.y", "nas.b.z"], ["nas.d.p", "nas.d.q"]]
    assert import_cycles({"nas.a": {"nas.b"}, "nas.b": set()}) == []


def test_a_planted_import_of_a_missing_module_is_reported(tmp_path):
    package = tmp_path / "nas"
    (package / "search").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "search" / "__init__.py").write_text("from nas.search.run import go\n")
    (package / "search" / "run.py").write_text("def go():\n    from nas.search.resume import settle\n    import nas.search.gone\n"
                                               "    from nas import search, lost\n")
    graph, dangling = import_graph(package)
    assert graph == {"nas": set(), "nas.search": {"nas.search.run"}, "nas.search.run": {"nas", "nas.search"}}
    assert dangling == ["nas.search.run -> nas.search.gone: no such module in nas/",
                        "nas.search.run -> nas.search.resume.settle: no such module in nas/"]
