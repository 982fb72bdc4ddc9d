"""Options several commands share, so that one setting has one spelling everywhere.

The vocabulary: ``--budget-steps`` (``--budget-epochs``, ``--budget-seconds``) for a
training budget, ``--proxy-input H W`` for the proxy's input size, ``--samples N`` and
``--seed S`` for sampled architectures. Spellings replaced by it stay accepted for one
release, hidden from ``--help`` (:data:`RENAMED`): each command declares the new
spelling itself (its own help and default) and the old one from here, and merges the two
with :func:`renamed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from nas.errors import NasError

if TYPE_CHECKING:
    from nas.data.source import DatasetSource

__all__ = ["RENAMED", "renamed", "checked_dataset", "StepsAliasOpt", "InputAliasOpt", "SampleAliasOpt", "SampleSeedAliasOpt"]

# (command, old spelling, the spelling that replaces it): accepted, hidden, through the
# release after 0.1.0, then removed with their *AliasOpt below and tests/cli/test_options.py's cases
RENAMED: tuple[tuple[str, str, str], ...] = (
    ("train", "--input", "--proxy-input"),
    ("search", "--steps", "--budget-steps"),
    ("demo", "--steps", "--budget-steps"),
    ("profile", "--sample", "--samples"),
    ("profile", "--sample-seed", "--seed"),
)

StepsAliasOpt = Annotated[Optional[int], typer.Option("--steps", min=1, hidden=True, help="Old spelling of --budget-steps.")]
InputAliasOpt = Annotated[Optional[tuple[int, int]], typer.Option("--input", hidden=True, help="Old spelling of --proxy-input.")]
SampleAliasOpt = Annotated[Optional[int], typer.Option("--sample", min=1, hidden=True, help="Old spelling of --samples.")]
SampleSeedAliasOpt = Annotated[Optional[int], typer.Option("--sample-seed", min=0, hidden=True, help="Old spelling of --seed.")]


def renamed(ctx: typer.Context, name: str, old_name: str) -> Any:
    """The value of the command's parameter ``name``, or of ``old_name`` (its old spelling)
    when only that was given on the command line; both at once is refused rather than one
    silently winning."""
    # compared by name: typer carries its own copy of click, whose ParameterSource is not click's
    given = {n for n in (name, old_name) if getattr(ctx.get_parameter_source(n), "name", "DEFAULT") != "DEFAULT"}
    if len(given) == 2:
        flags = {p.name: p.opts[0] for p in ctx.command.params}
        raise NasError(f"{flags[old_name]} is the old spelling of {flags[name]}: give {flags[name]} only")
    return ctx.params[old_name] if old_name in given else ctx.params[name]


def checked_dataset(data: str) -> DatasetSource:
    """The dataset a ``--data`` option names, checked whole (:func:`nas.data.check.check_dataset`;
    the body surface is read by the command itself): a bad image or annotation is refused
    before minutes of training, not during them."""
    import sys

    from nas.data.check import check_dataset
    from nas.data.source import DatasetSource

    source = DatasetSource.load(data)
    check_dataset(source, surface=False, progress=sys.stderr.isatty())
    return source
