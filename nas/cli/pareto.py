"""``nas pareto``: the front of a search run, its hypervolume, PNG and HTML plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from nas.cli.format import print_json


def register(app: typer.Typer) -> None:
    """Add the top-level ``pareto`` command to ``app``."""

    @app.command("pareto")
    def pareto_command(
        run: Annotated[Path, typer.Argument(help="Search run folder (results/RUN).")],
        axis: Annotated[str, typer.Option("--axis", help="Cost axis: latency (ms) or params (M).")] = "latency",
        ref: Annotated[Optional[float], typer.Option("--ref", help="Hypervolume reference cost (default: the run's --max-latency-ms, else 1.1 x the costliest point).")] = None,
        plots: Annotated[Optional[Path], typer.Option("--plots", help="Folder for pareto.png and pareto.html (default: the run folder).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the front (arch strings and metrics) as JSON.")] = False,
    ) -> None:
        """Compute the Pareto front (GPS AP up, cost down) of RUN's finished trials, with its baselines."""
        from nas.pareto import analyse, front_lines, left_out_note, plot_html, plot_png, versus_baseline

        if plots is not None and plots.exists() and not plots.is_dir():  # checked before the work, not by the first write
            from nas.errors import ResultsError

            raise ResultsError(f"--plots {plots} is a file; give a folder for pareto.png and pareto.html")
        report = analyse(run, axis=axis, ref_cost=ref)
        note = left_out_note(report)
        if note:  # on stderr: --json output stays one JSON document
            typer.echo(note, err=True)
        folder = plots or run
        suffix = "" if axis == "latency" else f"_{axis}"
        png = plot_png(report, folder / f"pareto{suffix}.png")
        page = plot_html(report, folder / f"pareto{suffix}.html")
        if as_json:
            print_json(report.to_dict())
            return
        for line in front_lines(report):
            typer.echo(line)
        if report.axis == "latency" and any(p.baseline == "densemobile" for p in report.baselines):
            typer.echo("vs densemobile: " + versus_baseline(report))
        typer.echo(f"plots: {png}  {page}")
