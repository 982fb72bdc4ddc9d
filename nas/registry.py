"""One small registry class for every name -> entry table of the project.

Blocks, neck variants and their builders, runtimes, transports, benchmark formats,
samplers, op kinds and key providers are each a :class:`Registry`: entries register
under a name (duplicates refused), a lookup of an unknown name fails with the list of
known ones, and every registry declares the :class:`Interface` its entries satisfy, so
one contract test suite (``tests/test_registries.py``) runs over every registry and every
entry the moment it registers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from nas.errors import NasError, RegistryError
from nas.io import excerpt

__all__ = ["Interface", "Registry", "instance_of", "subclass_of", "callable_with"]

T = TypeVar("T")


@dataclass(frozen=True)
class Interface:
    """What every entry of a registry must be.

    Attributes:
        description: said in the refusal of a non-conforming entry.
        accepts: whether an entry conforms.
    """

    description: str
    accepts: Callable[[Any], bool]


def instance_of(cls: type) -> Interface:
    """Entries are instances of ``cls``."""
    return Interface(f"an instance of {cls.__name__}", lambda entry: isinstance(entry, cls))


def subclass_of(cls: type) -> Interface:
    """Entries are classes deriving from ``cls``."""
    return Interface(f"a subclass of {cls.__name__}", lambda entry: isinstance(entry, type) and issubclass(entry, cls))


def callable_with(*parameters: str) -> Interface:
    """Entries are callables taking these positional parameters (their names are documentation)."""

    def accepts(entry: Any) -> bool:
        if not callable(entry):
            return False
        try:
            inspect.signature(entry).bind(*parameters)
        except TypeError:
            return False
        return True

    return Interface(f"a callable ({', '.join(parameters)})", accepts)


class Registry(Generic[T]):
    """Entries by name, in registration order (or sorted by name).

    Args:
        kind: what a name names, for messages (``block type``, ``runtime``).
        interface: what every entry must be; a non-conforming entry is refused.
        plural: the known names' label in the unknown-name error (default ``kind + "s"``;
            empty for a bare ``known: ...``).
        sort: list names sorted instead of in registration order.
        error: the error an unknown name raises (a :class:`~nas.errors.NasError`).
        admit: called as ``admit(name, entry)`` before registering; raises ``ValueError``
            to refuse a name the registry does not allow (an undeclared neck variant).
    """

    def __init__(
        self,
        kind: str,
        interface: Interface,
        *,
        plural: str | None = None,
        sort: bool = False,
        error: type[NasError] = RegistryError,
        admit: Callable[[str, T], None] | None = None,
    ) -> None:
        self.kind = kind
        self.interface = interface
        self.plural = f"{kind}s" if plural is None else plural
        self.sort = sort
        self.error = error
        self._admit = admit
        self._entries: dict[str, T] = {}

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self.names())})"

    # -- registering -------------------------------------------------------------------
    def register(self, name: str, entry: T) -> T:
        """Add ``entry`` under ``name``; a name registered before is refused."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        if not self.interface.accepts(entry):
            raise TypeError(f"{self.kind} {name!r} must be {self.interface.description}, got {entry!r}")
        if self._admit is not None:
            self._admit(name, entry)
        self._entries[name] = entry
        return entry

    def decorator(self, name: str, attribute: str | None = None) -> Callable[[T], T]:
        """``@registry.decorator(name)`` registers the decorated function or class; with
        ``attribute``, the class also gets ``name`` as that attribute (``cls.name``)."""

        def wrap(entry: T) -> T:
            self.register(name, entry)
            if attribute is not None:
                setattr(entry, attribute, name)
            return entry

        return wrap

    # -- looking up --------------------------------------------------------------------
    def get(self, name: str) -> T:
        """The entry of ``name``; an unknown name fails with the known ones."""
        try:
            return self._entries[name]
        except KeyError:
            raise self.error(self.unknown_message(name)) from None

    def unknown_message(self, name: str) -> str:
        known = f"known {self.plural}" if self.plural else "known"
        return f"unknown {self.kind} {excerpt(name)}; {known}: {', '.join(self.names())}"

    def names(self) -> list[str]:
        return sorted(self._entries) if self.sort else list(self._entries)

    def items(self) -> list[tuple[str, T]]:
        return [(name, self._entries[name]) for name in self.names()]

    def values(self) -> list[T]:
        return [self._entries[name] for name in self.names()]

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def replaced(self, name: str, entry: T) -> _Replaced[T]:
        """Context manager putting ``entry`` in place of the registered ``name`` for a while
        (tests swap in a fake entry), restoring the original on exit."""
        self.get(name)
        return _Replaced(self, name, entry)


class _Replaced(Generic[T]):
    def __init__(self, registry: Registry[T], name: str, entry: T) -> None:
        self.registry, self.name, self.entry = registry, name, entry

    def __enter__(self) -> T:
        entries = self.registry._entries
        self.original = entries[self.name]
        entries[self.name] = self.entry
        return self.entry

    def __exit__(self, *exc: object) -> None:
        self.registry._entries[self.name] = self.original
