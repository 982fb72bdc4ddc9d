"""``nas profile``: measure every op of a search space on a device into a latency table."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the top-level ``profile`` command to ``app``."""
