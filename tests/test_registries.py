"""One contract for every registry of ``nas`` and every entry in it.

Registries are found by scanning: every module of ``nas/`` is imported (so every built-in
entry registers) and each module-level :class:`~nas.registry.Registry` is collected. A new
registry, or a new entry in one, is tested the moment it exists.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import nas
from nas.errors import NasError
from nas.registry import Registry, callable_with, instance_of, subclass_of

NAS = Path(nas.__file__).parent
_CONSTRUCTS = re.compile(r"^([A-Z_]+)(?:\s*:[^=\n]*)?\s*=\s*Registry\(", re.MULTILINE)


def _modules() -> list[str]:
    # nas.__main__ runs the command line when imported
    return [m.name for m in pkgutil.walk_packages(nas.__path__, "nas.") if m.name != "nas.__main__"]


def _constructed(module: object) -> set[str]:
    """Names a module assigns a new Registry to at its top level (read from its source)."""
    path = getattr(module, "__file__", None)
    return set(_CONSTRUCTS.findall(Path(path).read_text())) if path else set()


def _discover() -> dict[str, Registry]:
    """Every module-level registry, by the module that constructs it and its name there."""
    found: dict[str, Registry] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for attr in _constructed(module):
            registry = getattr(module, attr)
            assert isinstance(registry, Registry), f"{name}.{attr}"
            found[f"{name}.{attr}"] = registry
    return dict(sorted(found.items()))


REGISTRIES = _discover()
ENTRIES = [(label, name) for label, registry in REGISTRIES.items() for name in registry.names()]
PROBE = "no-such-entry-zz"


def test_every_registry_is_found() -> None:
    """Every module of nas/ that constructs a Registry was imported by the scan, and every
    Registry object reachable from a module is one of those found."""
    defining = {path for path in NAS.rglob("*.py") if _CONSTRUCTS.search(path.read_text()) and path.name != "__main__.py"}
    assert {Path(importlib.import_module(label.rsplit(".", 1)[0]).__file__) for label in REGISTRIES} == defining
    reachable = {id(v) for name in _modules() for v in vars(importlib.import_module(name)).values() if isinstance(v, Registry)}
    assert reachable == {id(registry) for registry in REGISTRIES.values()}
    # the registries the design names are all there
    kinds = {registry.kind for registry in REGISTRIES.values()}
    assert {"block type", "neck variant", "runtime", "transport", "sampler", "op kind", "op provider"} <= kinds


@pytest.mark.parametrize("label", sorted(REGISTRIES))
def test_registry_has_entries_and_an_interface(label: str) -> None:
    registry = REGISTRIES[label]
    assert len(registry) >= 1 and registry.interface.description
    assert registry.names() == (sorted(registry.names()) if registry.sort else registry.names())
    assert list(registry) == registry.names() == [name for name, _ in registry.items()]


@pytest.mark.parametrize(("label", "name"), ENTRIES)
def test_each_entry_is_found_and_conforms(label: str, name: str) -> None:
    registry = REGISTRIES[label]
    entry = registry.get(name)
    assert name in registry and registry[name] is entry
    assert registry.interface.accepts(entry), f"{label}[{name!r}] is not {registry.interface.description}"


@pytest.mark.parametrize(("label", "name"), ENTRIES)
def test_each_entry_refuses_a_second_registration(label: str, name: str) -> None:
    registry = REGISTRIES[label]
    before = registry.items()
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(name, registry.get(name))
    assert registry.items() == before


@pytest.mark.parametrize("label", sorted(REGISTRIES))
def test_unknown_names_fail_with_the_known_ones(label: str) -> None:
    registry = REGISTRIES[label]
    with pytest.raises(registry.error) as err:
        registry.get(PROBE)
    message = str(err.value)
    assert issubclass(registry.error, NasError)
    assert message.startswith(f"unknown {registry.kind} {PROBE!r}; known") and message.endswith(", ".join(registry.names()))
    assert PROBE not in registry


@pytest.mark.parametrize("label", sorted(REGISTRIES))
def test_non_conforming_entries_are_refused(label: str) -> None:
    registry = REGISTRIES[label]
    with pytest.raises(TypeError, match=f"must be {re.escape(registry.interface.description)}"):
        registry.register(PROBE, object())
    assert PROBE not in registry


# -- the Registry class itself ------------------------------------------------------------------
def test_registry_orders_names_and_words_its_errors() -> None:
    class Error(NasError):
        pass

    plain: Registry[int] = Registry("widget", instance_of(int))
    plain.register("b", 1)
    plain.register("a", 2)
    assert plain.names() == ["b", "a"] and plain.values() == [1, 2]
    with pytest.raises(NasError, match="unknown widget 'c'; known widgets: b, a"):
        plain.get("c")
    bare: Registry[int] = Registry("sampler", instance_of(int), plural="", sort=True, error=Error)
    bare.register("z", 1)
    bare.register("m", 2)
    with pytest.raises(Error, match="^unknown sampler 'q'; known: m, z$"):
        bare["q"]


def test_decorator_admission_and_replacement() -> None:
    def only_lowercase(name: str, entry: type) -> None:
        if name != name.lower():
            raise ValueError(f"{name!r} is not declared")

    classes: Registry[type] = Registry("runtime", subclass_of(object), admit=only_lowercase)

    @classes.decorator("fast", attribute="name")
    class Fast:
        pass

    assert classes.get("fast") is Fast and Fast.name == "fast"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="is not declared"):
        classes.register("Slow", Fast)
    with classes.replaced("fast", int) as swapped:
        assert swapped is int and classes.get("fast") is int
    assert classes.get("fast") is Fast
    functions: Registry[object] = Registry("op kind", callable_with("key"))
    with pytest.raises(TypeError, match=r"must be a callable \(key\)"):
        functions.register("two", lambda a, b: None)
