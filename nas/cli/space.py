"""``nas space ...``: summarise and sample search spaces."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from nas.cli.format import print_json

app = typer.Typer(help="Search spaces: summarise, sample.", no_args_is_help=True)

PathArg = Annotated[Path, typer.Argument(help="Search space YAML, e.g. search_spaces/densepose_mobile.yaml.")]


def _fmt(values: tuple) -> str:
    return ", ".join(".".join(map(str, v)) if isinstance(v, tuple) else str(v) for v in values)


@app.command("show")
def show(path: PathArg, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Summarise a search space: size, choices per stage, neck and head."""
    from nas.space.search_space import SearchSpace

    space = SearchSpace.from_yaml(path)
    if as_json:
        print_json({"name": space.name, "hash": space.hash, "size": space.size(), "deploy_input": list(space.deploy_input),
                    "proxy_input": list(space.proxy_input), "parameters": space.parameter_names()})
        return
    console = Console()
    console.print(f"[bold]{space.name}[/bold]  ({path}, hash {space.hash})")
    console.print(f"size: [bold]{space.size():.3e}[/bold] architectures ({space.size()})")
    console.print(f"deploy input {space.deploy_input[0]}x{space.deploy_input[1]}, proxy input {space.proxy_input[0]}x{space.proxy_input[1]}")
    console.print(f"stem: k{space.stem_kernel} s{space.stem_stride}, channels {_fmt(space.stem_channels)}, act {_fmt(space.stem_acts)}")
    table = Table("stage", "stride", "blocks", "widths", "depths", "acts")
    stride = space.stem_stride
    for i, st in enumerate(space.stages):
        stride *= st.stride
        table.add_row(f"s{i}", f"{st.stride} (->{stride})", _fmt(st.blocks), _fmt(st.widths), _fmt(st.depths), _fmt(st.acts))
    console.print(table)
    options = Table("block", "option", "choices")
    for block, choices in space.blocks.items():
        for key, values in choices.options.items():
            options.add_row(block, key, _fmt(values))
    console.print(options)
    levels = ", ".join(f"P{lo}-P{hi}" for lo, hi in space.neck_levels)
    console.print(f"neck: {_fmt(space.neck_variants)}; channels {_fmt(space.neck_channels)}; levels {levels} (none: P{space.neck_none_level}); "
                  f"depthwise {_fmt(space.neck_depthwise)}; bifpn repeats {_fmt(space.neck_repeats)}")
    console.print("head: " + ", ".join(f"{k} {_fmt(v)}" for k, v in space.head.items()))


# Most architectures one `space sample` draws: ~0.3 ms each (one core), so ~30 s and ~26 MB
# of spec strings; far more than a user reads, a search trains (hundreds to thousands) or
# `nas latency validate` measures (tens). A larger -n is a typo or a runaway script, and
# --json holds the whole list in memory before printing it.
MAX_SAMPLES = 100_000


@app.command("sample")
def sample(
    path: PathArg,
    n: Annotated[int, typer.Option("-n", "--num", min=1, help=f"How many architectures (at most {MAX_SAMPLES:,}).")] = 5,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of {id, arch}.")] = False,
) -> None:
    """Print sampled spec strings, one per line (each as soon as it is drawn)."""
    import numpy as np

    from nas.errors import SearchSpaceError
    from nas.space.search_space import SearchSpace

    if n > MAX_SAMPLES:
        raise SearchSpaceError(f"-n {n} is more than one `nas space sample` draws ({MAX_SAMPLES:,}, about 30 s); "
                               "for more, run it again with other --seed values")
    space = SearchSpace.from_yaml(path)
    rng = np.random.default_rng(seed)
    archs = (space.sample(rng) for _ in range(n))
    if as_json:
        print_json([{"id": a.id, "arch": a.to_string()} for a in archs])
        return
    try:
        for arch in archs:
            typer.echo(arch.to_string())
    except BrokenPipeError:  # `| head`: the reader has all it wants
        import os
        import sys

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
