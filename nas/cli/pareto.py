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
        from nas.pareto import analyse, plot_html, plot_png

        report = analyse(run, axis=axis, ref_cost=ref)
        folder = plots or run
        suffix = "" if axis == "latency" else f"_{axis}"
        png = plot_png(report, folder / f"pareto{suffix}.png")
        page = plot_html(report, folder / f"pareto{suffix}.html")
        if as_json:
            print_json(report.to_dict())
            return
        typer.echo(f"{report.run}: {len(report.front)} on the front of {len(report.points)} finished trials; "
                   f"hypervolume {report.hypervolume:.4g} (ref AP 0, {report.reference[1]:.4g}); device {report.device}")
        typer.echo(f"{'trial':<16}{'GPS AP':>8}{'GPSm AP':>9}{'latency ms':>12}{'params M':>10}{'MACs M':>9}  arch id")
        for p in report.front + report.baselines:
            name = p.trial if p.kind == "search" else f"{p.baseline} (baseline{', beaten' if p.dominated_by_front else ''})"
            typer.echo(f"{name:<16}{p.gps_ap:>8.2f}{p.gpsm_ap:>9.2f}{p.latency_ms:>12.2f}{p.params / 1e6:>10.2f}{p.macs / 1e6:>9.0f}  {p.arch_id}")
        if report.excluded:
            typer.echo("not placed: " + ", ".join(f"{n} {k}" for k, n in sorted(report.excluded.items())))
        typer.echo(f"plots: {png}  {page}")
