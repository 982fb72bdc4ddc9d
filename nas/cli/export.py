"""``nas export``: the chosen architectures of a search run, ready to deploy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    """Add the top-level ``export`` command to ``app``."""

    @app.command("export")
    def export_command(
        run: Annotated[Path, typer.Argument(help="Search run folder (results/RUN).")],
        out: Annotated[Path, typer.Option("--out", help="Folder to write one sub-folder per architecture into.")],
        top: Annotated[Optional[int], typer.Option("--top", min=1, help="Export the K best front architectures (default: the whole front).")] = None,
        int8: Annotated[Optional[bool], typer.Option("--int8/--no-int8", help="Also write an int8 program (PT2E XNNPACK quantizer, calibrated on training images); default: when the run's latency table is int8, where --no-int8 is refused.")] = None,
        calibration_data: Annotated[Optional[Path], typer.Option("--calibration-data", help="Dataset folder or descriptor YAML whose training images calibrate int8 (default: the run's --data).")] = None,
    ) -> None:
        """Write arch.json, model.pt, model_fp32.pte (XNNPACK) and MODEL_CARD.md per front architecture of RUN."""
        from nas.export import export_run

        exported = export_run(run, out, top=top, dtypes=None if int8 is None else ("fp32", "int8") if int8 else ("fp32",), log=typer.echo,
                              calibration_data=calibration_data)
        typer.echo(f"{len(exported)} architecture(s) exported to {out} (index.json lists them)")
