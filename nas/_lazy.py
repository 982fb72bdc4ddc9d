"""Lazy package exports (PEP 562): ``from nas.search import run_search`` imports the
defining module on first use, so importing one light submodule (a CLI default, the
device runner) does not pull in torch or Ray through the package's ``__init__``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` exporting each name from its submodule.

    Args:
        package: the package's ``__name__``.
        exports: public name -> module that defines it (absolute, e.g. ``nas.search.run``).
    """

    def __getattr__(name: str) -> Any:
        try:
            module = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
