"""``nas latency ...``: predict and validate latency from per-op tables."""

from __future__ import annotations

import typer

app = typer.Typer(help="Latency tables: predict an architecture's latency, validate a table end to end.", no_args_is_help=True)
