"""Options several commands share, so that one setting has one spelling everywhere.

The vocabulary: ``--budget-steps`` (``--budget-epochs``, ``--budget-seconds``) for a
training budget, ``--proxy-input H W`` for the proxy's input size, ``--samples N`` and
``--seed S`` for sampled architectures. Spellings replaced by it stay accepted for one
release, hidden from ``--help`` (:data:`RENAMED`), through :func:`either`.
"""

from __future__ import annotations

from typing import Annotated, Optional, TypeVar

import typer

from nas.errors import NasError

__all__ = ["RENAMED", "either", "BudgetStepsOpt", "StepsAliasOpt", "ProxyInputOpt", "InputAliasOpt"]

T = TypeVar("T")

# (command, old spelling, the spelling that replaces it): accepted, hidden, for one release
RENAMED: tuple[tuple[str, str, str], ...] = (
    ("train", "--input", "--proxy-input"),
    ("search", "--steps", "--budget-steps"),
    ("demo", "--steps", "--budget-steps"),
    ("profile", "--sample", "--samples"),
    ("profile", "--sample-seed", "--seed"),
)

BudgetStepsOpt = Annotated[Optional[int], typer.Option("--budget-steps", help="Proxy budget: N optimiser steps per training.")]
StepsAliasOpt = Annotated[Optional[int], typer.Option("--steps", hidden=True, help="Old spelling of --budget-steps.")]
ProxyInputOpt = Annotated[Optional[tuple[int, int]], typer.Option("--proxy-input", help="Proxy input height and width.")]
InputAliasOpt = Annotated[Optional[tuple[int, int]], typer.Option("--input", hidden=True, help="Old spelling of --proxy-input.")]


def either(value: T | None, old: T | None, flag: str, old_flag: str) -> T | None:
    """The value given under ``flag`` or under its old spelling ``old_flag`` (None: neither);
    both at once is refused rather than one silently winning."""
    if value is not None and old is not None:
        raise NasError(f"{old_flag} is the old spelling of {flag}: give {flag} only")
    return value if value is not None else old
