"""Runs ``nas search`` in a subprocess for the cluster and resume tests (the command
module is registered on a fresh Typer app: the tests do not depend on nas.cli's list)."""

from __future__ import annotations

import sys

import typer

from nas.cli import search
from nas.errors import NasError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.callback()
def main() -> None:
    """Test driver."""


search.register(app)

if __name__ == "__main__":
    try:
        app(args=sys.argv[1:], standalone_mode=False)
    except NasError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
