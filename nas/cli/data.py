"""``nas data ...``: synthetic DensePose generation and visualisation."""

from __future__ import annotations

import typer

app = typer.Typer(help="DensePose datasets: generate synthetic data, draw annotations.", no_args_is_help=True)
