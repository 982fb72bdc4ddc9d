"""``nas train``: proxy-train one architecture and print its DensePose metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from nas.cli.format import print_json
from nas.cli.options import InputAliasOpt, checked_dataset, renamed


def register(app: typer.Typer) -> None:
    """Add the top-level ``train`` command to ``app``."""

    @app.command("train")
    def train_command(
        ctx: typer.Context,
        spec: Annotated[str, typer.Argument(help="Spec string, reference name or arch.json.")],
        data: Annotated[str, typer.Option("--data", help="Dataset folder or descriptor YAML (a folder as nas data synth writes it; a descriptor names each split's annotation file and image folder and the body surface).")],
        budget_steps: Annotated[Optional[int], typer.Option("--budget-steps", min=1, help="Train for N optimiser steps.")] = None,
        # epochs and seconds must be > 0 (and finite): checked by build_proxy_config, naming the option
        budget_epochs: Annotated[Optional[float], typer.Option("--budget-epochs", help="Train for E passes over the training set (E > 0).")] = None,
        budget_seconds: Annotated[Optional[float], typer.Option("--budget-seconds", help="Train for S seconds (evaluation not counted; S > 0).")] = None,
        input_size: Annotated[Optional[tuple[int, int]], typer.Option("--proxy-input", help="Proxy input height and width.")] = None,
        old_input: InputAliasOpt = None,
        batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 4,
        lr: Annotated[Optional[float], typer.Option("--lr", help="Peak AdamW learning rate (default: TrainConfig.lr, 3e-3).")] = None,
        evals: Annotated[int, typer.Option("--evals", min=1, help="Evaluation points over the budget.")] = 2,
        val_images: Annotated[Optional[int], typer.Option("--val-images", min=1, help="Evaluate on the first N validation images.")] = None,
        seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
        device: Annotated[str, typer.Option("--device", help="cpu, cuda or auto.")] = "auto",
        threads: Annotated[Optional[int], typer.Option("--threads", min=1, help="torch CPU threads (default: one per core).")] = None,
        ema_decay: Annotated[Optional[float], typer.Option("--ema-decay", help="Evaluate a moving average of the weights with this decay per step, e.g. 0.98 (default: TrainConfig.ema_decay; 0: the last weights).")] = None,
        out: Annotated[Optional[Path], typer.Option("--out", help="Folder for checkpoint.pt and metrics.json.")] = None,
        resume: Annotated[bool, typer.Option("--resume", help="Continue from --out/checkpoint.pt.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the final metrics as JSON.")] = False,
    ) -> None:
        """Train SPEC's DensePose R-CNN under a budget, evaluate GPS/GPSm AP on the validation split."""
        from nas.errors import NasError
        from nas.space.references import resolve_arch
        from nas.train import TrainConfig, train
        from nas.train.options import ProxyOptions, build_proxy_config

        arch = resolve_arch(spec)
        if resume and out is None:
            raise NasError("--resume needs --out, the folder holding checkpoint.pt")
        options = ProxyOptions(budget_steps=budget_steps, budget_epochs=budget_epochs, budget_seconds=budget_seconds,
                               input_size=renamed(ctx, "input_size", "old_input"), batch_size=batch_size, lr=lr,
                               evals=evals, val_images=val_images, seed=seed, device=device, threads=threads, ema_decay=ema_decay)
        config = build_proxy_config(options, TrainConfig())
        source = checked_dataset(data)  # a bad image or annotation refused now, not minutes into training
        result = train(arch, source, config, out_dir=out, resume=resume, progress=True)
        if as_json:
            print_json(result.to_dict())
            return
        typer.echo(f"{arch.id}: GPS AP {result.gps_ap:.1f}  GPSm AP {result.gpsm_ap:.1f}  AP50 {result.ap50:.1f}  AP75 {result.ap75:.1f}  "
                   f"IOU AP {result.iou_ap:.1f}  ({result.train_seconds:.0f} s training, {result.steps} steps)")

