"""``nas demo``: synthetic data, the shipped latency table, a small local search, the
Pareto front printed, plotted and exported (about 20 minutes on 2 CPU cores)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from nas.cli.options import StepsAliasOpt, renamed
from nas.cli.search import MAX_TRIALS


def register(app: typer.Typer) -> None:
    """Add the top-level ``demo`` command to ``app``."""
    from nas.demo import DemoSettings

    defaults = DemoSettings()

    @app.command("demo")
    def demo_command(
        ctx: typer.Context,
        out: Annotated[str, typer.Option("--out", help="Run folder (re-running continues it).")] = defaults.out,
        data: Annotated[str, typer.Option("--data", help="Dataset folder or descriptor YAML (a folder is rendered when absent).")] = defaults.data,
        table: Annotated[str, typer.Option("--table", help="Latency table (default: the shipped one).")] = defaults.table,
        space: Annotated[Optional[str], typer.Option("--space", help="Search space (default: the table's).")] = None,
        trials: Annotated[int, typer.Option("--trials", min=1, max=MAX_TRIALS, help=f"Searched architectures, at most {MAX_TRIALS:,} (baselines on top).")] = defaults.trials,
        budget_steps: Annotated[int, typer.Option("--budget-steps", min=1, help="Proxy steps per trial.")] = defaults.steps,
        old_steps: StepsAliasOpt = None,
        seed: Annotated[int, typer.Option("--seed", min=0)] = defaults.seed,
        min_gps_ap: Annotated[float, typer.Option("--min-gps-ap", help="GPS AP under which a candidate did not learn: never on the front (0: off).")] = defaults.min_gps_ap,
    ) -> None:
        """Run the whole job on this machine: data, search, Pareto front, export."""
        from nas.demo import run_demo

        settings = DemoSettings(out=out, data=data, table=table, space=space, trials=trials, steps=renamed(ctx, "budget_steps", "old_steps"),
                                seed=seed, min_gps_ap=min_gps_ap)
        summary = run_demo(settings, echo=typer.echo)
        typer.echo(f"demo done: {summary.done}/{summary.requested} trials in {summary.out}; "
                   f"see {summary.out}/pareto.png, pareto.html and export/")
