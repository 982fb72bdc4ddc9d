"""``nas latency ...``: predict and validate latency from per-op tables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nas.cli.format import print_json
from nas.cli.profile import MAX_SAMPLES, MAX_WORKERS_PER_CORE, BenchOpt, CpusOpt, PythonOpt, RemoteDirOpt, RemoteOpt, TemplateOpt, check_workers

if TYPE_CHECKING:
    from nas.latency.validate import Metrics

app = typer.Typer(help="Latency tables: predict an architecture's latency, validate a table end to end.", no_args_is_help=True)

TableOpt = Annotated[Path, typer.Option("--table", help="Latency table folder, e.g. latency_tables/cpu-executorch-xnnpack-t1.")]
# a table's predicted rows by how they were made (meta.json fill.method): the label, the profile option
_FITTED_BY = {"fill": ("fitted", "nas profile --fill"), "adapt": ("adapted", "nas profile --adapt-from")}


@app.command("predict")
def predict(
    table: TableOpt,
    spec: Annotated[str, typer.Argument(help="Spec string, reference name or arch.json path.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON with latency_ms and the per-op breakdown.")] = False,
) -> None:
    """Predicted latency of an architecture, with its per-op breakdown."""
    from rich.console import Console
    from rich.table import Table

    from nas.latency.table import LatencyTable
    from nas.space.references import resolve_arch

    arch = resolve_arch(spec)
    lut = LatencyTable.load(table)
    result, dtype = lut.predict(arch), lut.meta.get("dtype", "fp32")
    if as_json:
        print_json({"arch": arch.to_string(), "id": arch.id, "table": str(table), "dtype": dtype, **result.to_dict()})
        return
    console = Console()
    view = Table("part", "op", "key", "ms")
    for op, ms in result.breakdown:
        view.add_row(op.part, op.name, op.key, f"{ms:.3f}" + (f" ({_FITTED_BY.get(result.fitted_by, _FITTED_BY['fill'])[0]})" if op.key in result.fitted else ""))
    console.print(view)
    console.print(f"[bold]{arch.id}[/bold]: {result.latency_ms:.2f} ms predicted, {dtype} (plain sum {result.sum_ms:.2f} ms over {len(result.breakdown)} ops)")
    if result.fitted:
        n_fitted = sum(op.key in result.fitted for op, _ in result.breakdown)
        label, how = _FITTED_BY.get(result.fitted_by, _FITTED_BY["fill"])
        console.print(f"{n_fitted} of the ops ({result.fitted_ms:.2f} ms) are {label}, not measured ({how}); "
                      f"a profile without {how.split()[-1]} measures them")


@app.command("validate")
def validate(
    table: TableOpt,
    space: Annotated[Path | None, typer.Option("--space", help="Space to sample from (default: the table's space).")] = None,
    samples: Annotated[int, typer.Option("--samples", max=MAX_SAMPLES, help=f"Architectures measured end to end (4 to {MAX_SAMPLES:,}).")] = 50,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    warmup: Annotated[int, typer.Option("--warmup", min=0)] = 3,
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Timed runs per model and pass.")] = 9,
    passes: Annotated[int, typer.Option("--passes", min=1, help="Separate passes over all models; two or more also report how well the measurement repeats itself.")] = 2,
    workers: Annotated[int, typer.Option("--workers", min=1, help=f"Processes building programs in parallel (at most {MAX_WORKERS_PER_CORE} per CPU core).")] = 2,
    cache: Annotated[Path | None, typer.Option("--cache")] = None,
    report_dir: Annotated[Path | None, typer.Option("--report-dir", help="Where validation.json/png go (default: the table folder).")] = None,
    remote: RemoteOpt = None,
    remote_dir: RemoteDirOpt = None,
    bench: BenchOpt = None,
    bench_template: TemplateOpt = None,
    python: PythonOpt = "python3",
    cpus: CpusOpt = "f0",
    other_device: Annotated[
        bool, typer.Option("--other-device", help="Measure on a device other than the table's: how well the table transfers (report in <table>/other-devices/ID/, no correction stored).")
    ] = False,
) -> None:
    """Measure sampled architectures end to end and compare with the table's predictions."""
    from nas.errors import TableError
    from nas.latency.runtimes import get_runtime
    from nas.latency.table import LatencyTable
    from nas.latency.transports import MeasureSettings, make_transport
    from nas.latency.profile import table_lock
    from nas.latency.validate import check_samples, validate_table
    from nas.shipped import recorded_space
    from nas.space.search_space import SearchSpace

    # bad input, a folder that is no table and a space it does not cover: refused before a lock file lands
    check_samples(samples)
    check_workers(workers)
    first = LatencyTable.load(table)
    recorded = first.meta.get("space", {}).get("path")
    if space is None and not recorded:
        raise TableError(f"{table}/meta.json names no search space; pass --space")
    space_path = space or recorded_space(table, recorded)
    loaded = SearchSpace.from_yaml(space_path)
    first.check_space(loaded, space_path)  # a missing-ops error on the first sample would not say why
    with table_lock(table):  # a profile saving rows meanwhile would lose them to this validation's save
        lut = LatencyTable.load(table)
        meta = lut.meta
        rt = get_runtime(meta["runtime"], device=meta.get("device", "cpu"), threads=int(meta.get("threads", 1)), dtype=meta.get("dtype", "fp32"), cache=cache)
        transport = make_transport(remote, remote_dir, bench, bench_template, python, cpus)
        report = validate_table(lut, loaded, rt, transport, MeasureSettings(warmup, rounds, seed), samples, seed, workers,
                                report_dir=report_dir, passes=passes, other_device=other_device)
    if as_json:
        print_json(report.to_dict(rows=False))
        return
    typer.echo(f"{report.samples} architectures on {meta['runtime']}/{meta.get('device')} ({meta.get('threads')} thread(s), {report.dtype})")
    if report.fitted_ops:
        label, how = _FITTED_BY.get(lut.fitted_by, _FITTED_BY["fill"])
        typer.echo(f"the table has {report.fitted_ops} {label} ops beside {report.measured_ops} measured ({how})")
    typer.echo(f"{'plain sums, all:':<21} {_scores(report.plain_sum)}")
    for name, m in (("plain_sum", report.heldout.plain_sum), ("corrected", report.heldout.corrected)):
        typer.echo(f"{name + ', held-out:':<21} {_scores(m)}")
    if report.speed_reference:
        (low, high), r = report.speed_reference.span, report.raw_measured
        typer.echo(f"machine speed during the measurement: x{low:.3f}-{high:.3f} of the table's (divided out; against the raw medians: MAPE {r.mape:.2f}%, ±10% {100 * r.within_10:.0f}%)")
    if report.other_device:
        typer.echo(f"measured on another device than the table's ({'; '.join(report.other_device)}): the figures show how the table transfers; no correction stored")
    elif report.table_device is None:
        typer.echo("the table records no device fingerprint (profiled before fingerprints): make sure it was timed on this device")
    stored = "kept" if report.correction.kept and not report.other_device else "not kept"
    typer.echo(f"correction {stored}; report in {report.report_dir}/validation.json, plot validation.png")


def _scores(m: Metrics) -> str:
    """One line of agreement figures."""
    return f"MAPE {m.mape:.2f}%  ±5% {100 * m.within_5:.0f}%  ±10% {100 * m.within_10:.0f}%  Spearman {m.spearman:.3f}  Kendall {m.kendall:.3f}"
