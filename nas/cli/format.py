"""Small helpers shared by CLI commands: number formatting and JSON output."""

from __future__ import annotations

import json
from typing import Any

import typer


def human(n: float) -> str:
    """3504872 -> '3.50M', 300774272 -> '300.8M', 4.09e9 -> '4.09G'."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            value = n / scale
            return f"{value:.2f}{unit}" if value < 10 else f"{value:.1f}{unit}"
    return str(int(n))


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=False))
