"""``nas search``: a distributed hardware-aware search (Ray Tune + Optuna), or ``--resume``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from nas.cli.options import StepsAliasOpt, renamed
from nas.shipped import DEFAULT_SPACE

if TYPE_CHECKING:
    from nas.space.search_space import SearchSpace

# Architectures a search trains at most (--trials, also the demo's): MnasNet trained 8,000,
# sample-based searches stay within ~10^4, and each trial is a proxy training of about a
# minute or more, so 100,000 is months of one worker; a larger count is a typo (the sampler
# and the run's tables grow with every trial).
MAX_TRIALS = 100_000


def register(app: typer.Typer) -> None:
    """Add the top-level ``search`` command to ``app``."""

    @app.command("search")
    def search_command(
        ctx: typer.Context,
        out: Annotated[Path, typer.Option("--out", help="Run folder (results/RUN): config, trials.parquet/csv, Optuna journal, logs, weights.")],
        space: Annotated[Optional[Path], typer.Option("--space", help=f"Search space YAML (default: {DEFAULT_SPACE}).")] = None,
        table: Annotated[Optional[Path], typer.Option("--table", help="Latency table folder of the target device (profiled for --space); a shipped table, e.g. latency_tables/cpu-executorch-xnnpack-t1, is found from any folder.")] = None,
        data: Annotated[Optional[str], typer.Option("--data", help="Dataset folder or descriptor YAML (a folder as nas data synth writes it; a descriptor names each split's annotation file and image folder and the body surface).")] = None,
        trials: Annotated[Optional[int], typer.Option("--trials", min=0, max=MAX_TRIALS, help=f"Architectures to train, at most {MAX_TRIALS:,} (rejected ones are not counted; 0: the baselines only). With --resume: a new total.")] = None,
        sampler: Annotated[str, typer.Option("--sampler", help="tpe, nsga2 or random.")] = "tpe",
        objective: Annotated[str, typer.Option("--objective", help="pareto (GPS AP up, latency down) or reward (MnasNet ACC x (LAT/T)^w).")] = "pareto",
        target_ms: Annotated[Optional[float], typer.Option("--target-ms", help="Latency target T of the reward, ms.")] = None,
        reward: Annotated[str, typer.Option("--reward", help="Reward exponent: soft (w=-0.07) or hard (0 under T, -1 over).")] = "soft",
        min_gps_ap: Annotated[Optional[float], typer.Option("--min-gps-ap", help="Pareto objective: GPS AP (points) under which a finished candidate did not learn within the proxy; the sampler treats it as infeasible and it is never on the front (default 1; 0: off).")] = None,
        max_latency_ms: Annotated[Optional[float], typer.Option("--max-latency-ms", help="Reject architectures predicted slower, before training.")] = None,
        baseline: Annotated[Optional[list[str]], typer.Option("--baseline", help="Reference trained in the same run (repeatable; default densemobile, densesqueeze, fnl_mobile, r50_fpn).")] = None,
        no_baselines: Annotated[bool, typer.Option("--no-baselines", help="Train no baselines.")] = False,
        asha: Annotated[bool, typer.Option("--asha", help="Stop poor trials early at the proxy's evaluation points (stopped trials never enter the front).")] = False,
        budget_steps: Annotated[Optional[int], typer.Option("--budget-steps", min=1, help="Proxy budget in optimiser steps (default: the default proxy's).")] = None,
        old_steps: StepsAliasOpt = None,
        batch_size: Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Proxy batch size.")] = None,
        evals: Annotated[Optional[int], typer.Option("--evals", min=1, help="Evaluation points per trial.")] = None,
        val_images: Annotated[Optional[int], typer.Option("--val-images", min=1, help="Validation images per evaluation.")] = None,
        proxy_input: Annotated[Optional[tuple[int, int]], typer.Option("--proxy-input", help="Proxy input height and width (default: the space's).")] = None,
        ema_decay: Annotated[Optional[float], typer.Option("--ema-decay", help="Score a moving average of each trial's weights with this decay per step (default: the default proxy's; 0: the last weights).")] = None,
        device: Annotated[str, typer.Option("--device", help="Trial device: auto (CUDA when Ray grants the trial a GPU share, see --gpus-per-trial; else CPU), cpu or cuda.")] = "auto",
        seed: Annotated[int, typer.Option("--seed", min=0, help="Sampler and proxy seed.")] = 0,
        max_failures: Annotated[int, typer.Option("--max-failures", min=0, help="Retries of a trial that raised or lost its node.")] = 3,
        address: Annotated[Optional[str], typer.Option("--address", help="Ray cluster: auto or HOST:PORT (default: a local Ray instance).")] = None,
        cpus_per_trial: Annotated[Optional[float], typer.Option("--cpus-per-trial", help="CPUs per trial (default 1).")] = None,
        gpus_per_trial: Annotated[Optional[float], typer.Option("--gpus-per-trial", help="GPUs per trial (default 0); a fraction packs trials on a GPU: 0.25 runs four on each (docs/search.md).")] = None,
        supernet: Annotated[Optional[Path], typer.Option("--supernet", help="Score each candidate with the weights it inherits from this trained supernet of --space (nas supernet train) instead of proxy-training it: seconds per candidate.")] = None,
        supernet_bn_batches: Annotated[int, typer.Option("--supernet-bn-batches", min=1, help="With --supernet: training batches a candidate's batch-norm statistics are recalibrated on.")] = 16,
        supernet_finetune_steps: Annotated[int, typer.Option("--supernet-finetune-steps", min=0, help="With --supernet: fine-tuning steps before scoring (0: none).")] = 0,
        resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --out (after a crash or kill) to its requested trials; refused when its dataset changed since.")] = False,
    ) -> None:
        """Search architectures of SPACE: proxy-train and evaluate each (or score each from a --supernet), latency from TABLE."""
        from dataclasses import replace

        from nas.errors import SearchError
        from nas.search import Objective, SearchConfig, resume_search, run_search
        from nas.search.objective import DEFAULT_MIN_GPS_AP
        from nas.shipped import shipped
        from nas.space.search_space import SearchSpace
        from nas.train.options import ProxyOptions, build_proxy_config
        from nas.train.proxy import DEFAULT_PROXY

        if resume:
            summary = resume_search(out, address=address, cpus_per_trial=cpus_per_trial, gpus_per_trial=gpus_per_trial, trials=trials)
        else:
            missing = [name for name, value in (("--table", table), ("--data", data), ("--trials", trials)) if value is None]
            if missing:
                raise SearchError(f"a new search needs {', '.join(missing)} (or --resume to continue the run in {out})")
            assert table is not None and data is not None and trials is not None
            space = space or shipped(DEFAULT_SPACE)
            loaded = SearchSpace.from_yaml(space)
            options = ProxyOptions(budget_steps=renamed(ctx, "budget_steps", "old_steps"), input_size=proxy_input,
                                   batch_size=batch_size, evals=evals, val_images=val_images, seed=seed, device=device, ema_decay=ema_decay)
            proxy = build_proxy_config(options, replace(DEFAULT_PROXY, input_size=loaded.proxy_input))
            baselines = () if no_baselines else tuple(baseline) if baseline else _default_baselines(loaded, supernet)
            config = SearchConfig(
                space=str(space.resolve()), table=str(shipped(str(table)).resolve()), data=_dataset_path(data), out=str(out.resolve()), trials=trials,
                sampler=sampler, objective=Objective(objective, target_ms, reward, DEFAULT_MIN_GPS_AP if min_gps_ap is None else min_gps_ap), max_latency_ms=max_latency_ms, baselines=baselines,
                proxy=proxy, asha=asha, seed=seed, max_failures=max_failures, address=address,
                cpus_per_trial=1.0 if cpus_per_trial is None else cpus_per_trial, gpus_per_trial=0.0 if gpus_per_trial is None else gpus_per_trial,
                supernet=str(supernet.resolve()) if supernet is not None else None, supernet_bn_batches=supernet_bn_batches,
                supernet_finetune_steps=supernet_finetune_steps,
            )
            summary = run_search(config)
        typer.echo(f"done: {summary.done}/{summary.requested} trials ({summary.finished} finished, {summary.stopped} stopped early, "
                   f"{summary.failed} failed; {summary.rejected} rejected over the latency limit), {summary.baselines_done} baseline(s); "
                   f"results in {summary.out}; next: nas pareto {summary.out}")
        if summary.note:
            typer.echo(f"note: {summary.note}", err=True)


def _default_baselines(space: SearchSpace, supernet: Path | None) -> tuple[str, ...]:
    """The reference baselines of a run: all of them when candidates are proxy-trained; with a
    supernet, those inside its space (only they can be scored from it), saying which are left out."""
    from nas.errors import SupernetError
    from nas.space.references import DENSEPOSE_BASELINES, reference
    from nas.supernet.membership import require_in_space

    if supernet is None:
        return DENSEPOSE_BASELINES
    inside = []
    for name in DENSEPOSE_BASELINES:
        try:
            require_in_space(space, reference(name))
            inside.append(name)
        except SupernetError:
            pass
    left_out = [n for n in DENSEPOSE_BASELINES if n not in inside]
    if left_out:
        typer.echo(f"note: baselines {', '.join(left_out)} are outside {space.name}, so the supernet cannot score them; "
                   "the run has none of them (compare with a proxy-trained run)", err=True)
    return tuple(inside)


def _dataset_path(data: str) -> str:
    """``--data`` as an absolute path; declared as text, not a path, because typer reads an
    empty path as the current folder."""
    from nas.errors import DataError

    if not data.strip():
        raise DataError("--data is empty; give a dataset folder (`nas data synth --out DIR`) or a descriptor YAML")
    return str(Path(data).resolve())
