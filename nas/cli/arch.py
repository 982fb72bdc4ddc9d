"""``nas arch ...``: inspect one architecture (spec string, reference name or arch.json)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from nas.cli.format import human, print_json

app = typer.Typer(help="Inspect architectures: sizes, MACs, per-stage layout.", no_args_is_help=True)

SpecArg = Annotated[str, typer.Argument(help="Spec string, reference name (e.g. mobilenet_v2) or path to arch.json.")]

# `arch info` builds the network and runs it once (fvcore counts MACs on a real forward pass),
# so both sizes below allocate what they ask for.
# Classes of --classifier at most: published model sizes are quoted for ImageNet-1k's 1,000
# classes, and the largest common label set (ImageNet-21k) has 21,841; over 25,000 classes a
# 2,048-channel backbone's (r50) last layer is 51M weights, 205 MB in fp32.
MAX_CLASSES = 25_000
# Side of --input at most, pixels: DensePose R-CNN runs at 800 (short side) to 1,333 (long
# side). Memory and time grow with the pixels: densemobile took 0.6 GB / 9 s at 1,024 x 1,024
# and 1.5 GB / 21 s at 2,048 x 2,048, r50_fpn 1.0 GB at 1,024 (max RSS, 2 cores), so the
# 8,192 x 8,192 a proxy input may have would be ~16 times the 2,048 figures.
MAX_INFO_SIDE = 2048


@app.command("info")
def info(
    spec: SpecArg,
    input_size: Annotated[Optional[tuple[int, int]], typer.Option("--input", help="Input height and width (default: the spec's deploy size).")] = None,
    classifier: Annotated[Optional[int], typer.Option("--classifier", min=1, max=MAX_CLASSES, help=f"Add an ImageNet-style classifier with N classes, at most {MAX_CLASSES:,} (backbone only, no neck).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Params, MACs and the per-stage table of one architecture."""
    from nas.errors import SpecError
    from nas.train.config import RUN_INPUT_RANGE
    from nas.space.references import resolve_arch

    low = RUN_INPUT_RANGE[0]
    if input_size is not None and not all(low <= side <= MAX_INFO_SIDE for side in input_size):
        raise SpecError(f"--input {input_size[0]} {input_size[1]}: height and width must be in {low}..{MAX_INFO_SIDE} pixels "
                        "(the network is built and run at that size)")
    arch = resolve_arch(spec)
    from nas.model.summary import summarize  # torch: after the checks

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
