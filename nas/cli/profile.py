"""``nas profile``: measure every op of a search space on a device into a latency table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import os

import typer

from nas.cli.options import SampleAliasOpt, SampleSeedAliasOpt, renamed
from nas.errors import NasError
from nas.latency.runner import DEFAULT_BUDGET_MS, MIN_ROUNDS  # standard library only: cheap to import

# --fill's defaults, repeated from nas.latency.fill (which imports torch) and checked equal by a test
FILL_SHARE, FILL_COVER, WHOLE_KIND_OPS = 0.08, 5, 150

# Architectures `--samples` draws at most (nas profile and nas latency validate, which sample
# alike): validate exports every one to a program (seconds each, a few MB to tens of MB in
# the cache) and times it end to end --rounds x --passes times, and both draw all of them
# before the first is used. The docs' validations use 50; 1,000 is hours of building.
MAX_SAMPLES = 1_000
# Processes at most per CPU core (--workers of profile and validate, as nas data synth's):
# each builds programs with a whole exporter in memory, and more than a few per core only
# queue for the cores.
MAX_WORKERS_PER_CORE = 4
# Ops per measuring chunk at most (--chunk): the device loads a chunk's programs together and
# its benchmark command line names every one (~60 characters each), and a run killed
# mid-chunk loses the whole chunk; the default is 64, a large space has a few thousand ops.
MAX_CHUNK = 1_000


def check_workers(workers: int) -> None:
    """Refuse more --workers than :data:`MAX_WORKERS_PER_CORE` per CPU core of this machine."""
    cores = os.cpu_count() or 1
    if workers > MAX_WORKERS_PER_CORE * cores:
        raise NasError(f"--workers must be within 1..{MAX_WORKERS_PER_CORE * cores} ({MAX_WORKERS_PER_CORE} per CPU core of this "
                       f"machine's {cores}: more only queue for the cores, each building programs in memory), got {workers}")

RemoteOpt = Annotated[str | None, typer.Option("--remote", help="Command prefix reaching the device: 'adb -s SERIAL', 'ssh HOST' (or 'sh -c' for a local loopback).")]
RemoteDirOpt = Annotated[str | None, typer.Option("--remote-dir", help="Working folder on the device (default /data/local/tmp/nas for adb, /tmp/nas-latency otherwise).")]
BenchOpt = Annotated[str | None, typer.Option("--bench", help="Benchmark program on the device: executor-runner (adb default) or nas-runner (ssh default).")]
TemplateOpt = Annotated[str | None, typer.Option("--bench-template", help="Override the device benchmark command line (placeholders: {dir} {files} {file} {python} {threads} {warmup} {rounds} {seed} {budget_ms} {min_rounds} {cpus} {iterations}).")]
PythonOpt = Annotated[str, typer.Option("--python", help="Python with executorch on the device (nas-runner).")]
CpusOpt = Annotated[str, typer.Option("--cpus", help="taskset CPU mask on the device (executor-runner); f0 = cores 4-7, the big cluster of most phones.")]


def _check_adapt(adapt_from: Path | None, budget_minutes: float | None, fill: bool, samples: int | None) -> None:
    """Refuse --adapt-from with another way of choosing ops, and a budget that measures nothing."""
    if adapt_from is None:
        raise NasError("--budget-minutes and --networks belong to an adaptation: pass them with --adapt-from TABLE")
    if fill or samples is not None:
        raise NasError(f"--adapt-from and {'--fill' if fill else '--samples'} choose the ops to measure in two different ways: pass one of them")
    if budget_minutes is not None:
        from nas.latency.adapt import check_budget

        check_budget(budget_minutes)


def register(app: typer.Typer) -> None:
    """Add the top-level ``profile`` command to ``app``."""

    @app.command("profile")
    def profile(
        ctx: typer.Context,
        space: Annotated[Path, typer.Option("--space", help="Search space YAML whose op keys are profiled.")],
        out: Annotated[Path, typer.Option("--out", help="Table folder, e.g. latency_tables/pixel7-executorch-t1 (resumed if it exists).")],
        runtime: Annotated[str, typer.Option("--runtime", help="executorch (XNNPACK .pte) or torch (eager).")] = "executorch",
        device: Annotated[str, typer.Option("--device", help="cpu or cuda (cuda: torch runtime only).")] = "cpu",
        threads: Annotated[int, typer.Option("--threads", min=1, help="Intra-op threads (1 for a phone's single big core).")] = 1,
        dtype: Annotated[str, typer.Option("--dtype", help="fp32, or int8: every op quantized by the PT2E XNNPACK quantizer (symmetric, per-channel weights, static activation ranges from seeded synthetic calibration inputs) before lowering; executorch runtime only.")] = "fp32",
        remote: RemoteOpt = None,
        remote_dir: RemoteDirOpt = None,
        bench: BenchOpt = None,
        bench_template: TemplateOpt = None,
        python: PythonOpt = "python3",
        cpus: CpusOpt = "f0",
        warmup: Annotated[int, typer.Option("--warmup", min=0, help="Untimed runs per op.")] = 5,
        rounds: Annotated[int, typer.Option("--rounds", min=1, help="Timed runs per op (interleaved; unstable ops get as many again).")] = 15,
        budget_ms: Annotated[float, typer.Option("--budget-ms", min=0, help="Timed-run time per op (ms): an op slower than this / --rounds gets fewer rounds (at least --min-rounds) and warm-ups (at least 2); 0: every op --warmup + --rounds times.")] = DEFAULT_BUDGET_MS,
        min_rounds: Annotated[int, typer.Option("--min-rounds", min=1, help="Fewest timed runs of an op under --budget-ms.")] = MIN_ROUNDS,
        extra_rounds: Annotated[int | None, typer.Option("--extra-rounds", min=0, help="Timed runs added to ops whose median is not stable to 1% (default: --rounds; 0: none).")] = None,
        chunk: Annotated[int, typer.Option("--chunk", min=1, max=MAX_CHUNK, help=f"Ops per measuring chunk, at most {MAX_CHUNK:,} (the table is saved after each).")] = 64,
        workers: Annotated[int, typer.Option("--workers", min=1, help=f"Processes building programs in parallel (at most {MAX_WORKERS_PER_CORE} per CPU core).")] = 2,
        cache: Annotated[Path | None, typer.Option("--cache", help="Program cache folder (default ~/.cache/nas/programs or $NAS_CACHE/programs).")] = None,
        build: Annotated[bool, typer.Option("--build/--no-build", help="--no-build: measure only ops whose programs are already cached.")] = True,
        limit: Annotated[int | None, typer.Option("--limit", min=1, help="Measure at most N missing ops in this run.")] = None,
        speed_refs: Annotated[int, typer.Option("--speed-refs", min=0, help="Reference ops timed in every chunk to divide out the machine's speed drift (chosen when the table is created; 0: none).")] = 4,
        baseline: Annotated[list[str] | None, typer.Option("--baseline", help="Reference architecture whose ops are profiled too, at the space's input size (repeatable; default: densemobile, densesqueeze, fnl_mobile, r50_fpn; 'none' for none).")] = None,
        samples: Annotated[int | None, typer.Option("--samples", min=1, help=f"Measure only the ops of N architectures sampled as 'nas latency validate --samples N --seed S' samples them: a partial table to validate a device on before the full profile (re-run without --samples to complete it); at most {MAX_SAMPLES:,}.")] = None,
        old_samples: SampleAliasOpt = None,
        seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of --samples (as validate's --seed) and of --fill's random share.")] = 0,
        old_seed: SampleSeedAliasOpt = None,
        fill: Annotated[bool, typer.Option("--fill", help="Measure a designed share of the ops (every op of the small kinds; of the large ones --fill-share at random plus enough to show each cost feature --fill-cover times) and fit the rest per kind into fitted.csv: a whole-space table in a fraction of the time (re-run without --fill to measure the fitted rows).")] = False,
        fill_share: Annotated[float, typer.Option("--fill-share", min=0.0, max=1.0, help="--fill: share of a large kind's ops measured at random.")] = FILL_SHARE,
        fill_cover: Annotated[int, typer.Option("--fill-cover", min=1, help="--fill: measured ops that must show each cost feature of a kind.")] = FILL_COVER,
        fill_whole_kinds: Annotated[int, typer.Option("--fill-whole-kinds", min=0, help="--fill: kinds with at most this many ops are measured whole.")] = WHOLE_KIND_OPS,
        adapt_from: Annotated[Path | None, typer.Option("--adapt-from", help="Complete table of another device (same space and dtype): measure a designed set of ops here for --budget-minutes and predict every other op from that table's rows, per op kind, into fitted.csv (re-run without --adapt-from to measure them).")] = None,
        budget_minutes: Annotated[float | None, typer.Option("--budget-minutes", help="--adapt-from: minutes of building and measuring ops on this device, over all runs into --out (default 5).")] = None,
        networks: Annotated[int | None, typer.Option("--networks", min=0, help="--adapt-from: whole networks measured within the budget, once, to calibrate op sums to networks (default 6; 0: none).")] = None,
    ) -> None:
        """Profile every op a search space can produce into a latency table (resumable)."""
        check_workers(workers)
        samples = renamed(ctx, "samples", "old_samples")
        if samples is not None and samples > MAX_SAMPLES:  # also for the old spelling --sample
            raise NasError(f"--samples must be within 1..{MAX_SAMPLES:,} (architectures drawn as nas latency validate draws "
                           f"them, whose ops are profiled), got {samples}")
        if out.is_file():  # before any work: listing the space's ops alone takes seconds
            raise NasError(f"--out {out} is a file; a latency table is a folder (e.g. latency_tables/NAME), "
                           "created or resumed by nas profile")
        if adapt_from is not None or budget_minutes is not None or networks is not None:
            _check_adapt(adapt_from, budget_minutes, fill, samples)
        from nas.latency.profile import FillSettings, KeySelection, profile_space
        from nas.latency.runtimes import get_runtime
        from nas.latency.transports import MeasureSettings, make_transport
        from nas.space.references import DENSEPOSE_BASELINES, reference

        rt = get_runtime(runtime, device=device, threads=threads, dtype=dtype, cache=cache)
        transport = make_transport(remote, remote_dir, bench, bench_template, python, cpus)
        baselines = DENSEPOSE_BASELINES if baseline is None else [b for b in baseline if b != "none"]
        for name in baselines:
            reference(name)  # an unknown name fails here, listing the known ones, before any work
        selection = KeySelection(samples=samples, fill=FillSettings(fill_share, fill_cover, fill_whole_kinds) if fill else None,
                                 seed=renamed(ctx, "seed", "old_seed"), limit=limit, build=build)
        settings = MeasureSettings(warmup, rounds, budget_ms=budget_ms or None, min_rounds=min_rounds)
        if adapt_from is not None:
            from nas.latency.adapt import adapt_space

            done = adapt_space(space, adapt_from, out, rt, transport, settings, 5.0 if budget_minutes is None else budget_minutes, baselines=baselines,
                               workers=workers, chunk=min(chunk, 16), extra_rounds=extra_rounds, speed_refs=speed_refs, limit=limit,
                               networks=networks)
            typer.echo(f"{out}: {done.total} keys in the space, {done.measured} measured on this device ({done.measured_now} now: build "
                       f"{done.build_s:.0f} s, measure {done.measure_s:.0f} s; {done.spent_s / 60:.1f} min of the budget spent), "
                       f"{done.adapted} adapted from {adapt_from} into {out}/fitted.csv (re-run without --adapt-from to measure them)")
            return
        report = profile_space(space, out, rt, transport, settings, selection, baselines=baselines, workers=workers, chunk=chunk,
                               extra_rounds=extra_rounds, speed_refs=speed_refs)
        typer.echo(
            f"{out}: {report.total} keys in the space, {report.already} already in the table, "
            f"{report.measured} measured now (build {report.build_s:.0f} s, measure {report.measure_s:.0f} s)"
        )
        if fill:
            errors = ", ".join(f"{kind} {k.cv_median_error:.1%} (p90 {k.cv_p90_error:.1%}, {k.measured} measured)" for kind, k in report.fill.items())
            typer.echo(f"{report.fitted} ops fitted into {out}/fitted.csv; each kind's model, cross-validated on its measured ops: "
                       f"median error {errors or 'no kind fitted'}")
        from nas.latency.fingerprint import describe
        from nas.latency.table import LatencyTable

        if (Path(out) / "meta.json").is_file():
            fingerprint = LatencyTable.load(out).meta.get("device_fingerprint")
            typer.echo(f"device: {describe(fingerprint)}" if fingerprint else "device: not recorded (a table from before fingerprints)")
