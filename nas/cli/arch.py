"""``nas arch ...``: inspect one architecture (spec string, reference name or arch.json)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from nas.cli.format import human, print_json

app = typer.Typer(help="Inspect architectures: sizes, MACs, per-stage layout.", no_args_is_help=True)

SpecArg = Annotated[str, typer.Argument(help="Spec string, reference name (e.g. mobilenet_v2) or path to arch.json.")]


@app.command("info")
def info(
    spec: SpecArg,
    input_size: Annotated[Optional[tuple[int, int]], typer.Option("--input", help="Input height and width (default: the spec's deploy size).")] = None,
    classifier: Annotated[Optional[int], typer.Option("--classifier", help="Add an ImageNet-style classifier with N classes (backbone only, no neck).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Params, MACs and the per-stage table of one architecture."""
    from nas.errors import SpecError
    from nas.model.summary import summarize
    from nas.train.config import run_input_problem
    from nas.space.references import resolve_arch

    arch = resolve_arch(spec)
    problem = None if input_size is None else run_input_problem(input_size, "--input")
    if problem:
        raise SpecError(problem)
    summary = summarize(arch, input_size, classifier)
    if as_json:
        print_json(summary.to_dict())
        return
    console = Console()
    h, w = summary.input
    what = f"backbone + classifier ({classifier} classes)" if classifier is not None else f"backbone + {arch.neck.variant} neck"
    console.print(f"[bold]{arch.id}[/bold]  {summary.arch}")
    console.print(f"{what} at {h}x{w}: [bold]{human(summary.params)}[/bold] params, [bold]{human(summary.macs)}[/bold] MACs")
    table = Table("stage", "block", "out ch", "stride", "resolution", "params", "token")
    for row in summary.stages:
        table.add_row(row.name, row.block, str(row.out_channels), str(row.stride), f"{row.resolution[0]}x{row.resolution[1]}", human(row.params), row.token)
    console.print(table)
    if classifier is None:
        console.print(f"backbone {human(summary.backbone_params)} params, neck {human(summary.neck_params)} params")


@app.command("list")
def list_references(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Named reference architectures."""
    from nas.space.references import REFERENCES, reference

    rows = {name: reference(name).to_string() for name in REFERENCES}
    if as_json:
        print_json(rows)
        return
    for name, text in rows.items():
        typer.echo(f"{name:20s} {text}")
