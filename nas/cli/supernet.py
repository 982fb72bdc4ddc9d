"""``nas supernet``: train a search space's weight-sharing supernet, score candidates from it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from nas.cli.format import print_json
from nas.cli.options import checked_dataset
from nas.shipped import DEFAULT_SPACE

app = typer.Typer(help="Weight-sharing supernet: train one per space and data, score architectures from it in seconds.",
                  no_args_is_help=True)

DeviceOpt = Annotated[str, typer.Option("--device", help="cpu, cuda, cuda:N or auto.")]
ThreadsOpt = Annotated[Optional[int], typer.Option("--threads", min=1, help="torch CPU threads (default: one per core).")]


@app.command("train")
def train_command(
    data: Annotated[str, typer.Option("--data", help="Dataset folder or descriptor YAML to train on (its train split).")],
    out: Annotated[Path, typer.Option("--out", help="Supernet folder: checkpoint.pt, supernet.pt, supernet.json. "
                                      "A folder holding a training of the same space and settings is continued.")],
    steps: Annotated[int, typer.Option("--steps", min=1, help="Optimiser steps (the learning-rate schedule spans them).")],
    space: Annotated[Optional[Path], typer.Option("--space", help=f"Search space YAML (default: {DEFAULT_SPACE}).")] = None,
    scheme: Annotated[str, typer.Option("--scheme", help="Sub-networks per step: uniform (one drawn path, as SPOS), "
                                        "sandwich (largest, smallest and two drawn, as BigNAS) or fair (four covering "
                                        "every block type and neck variant, as FairNAS).")] = "uniform",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Images per sub-network forward.")] = 4,
    lr: Annotated[float, typer.Option("--lr", help="Peak AdamW learning rate.")] = 3e-3,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = None,
    checkpoint_every: Annotated[int, typer.Option("--checkpoint-every", min=1, help="Steps between checkpoints.")] = 250,
) -> None:
    """Train SPACE's supernet on DATA for STEPS steps into OUT (resumable: run it again to continue)."""
    from nas.shipped import shipped
    from nas.space.search_space import SearchSpace
    from nas.supernet.config import SupernetTrainConfig
    from nas.supernet.sampling import SCHEMES
    from nas.supernet.training import train_supernet

    SCHEMES.get(scheme)  # an unknown name refused before the data is read
    loaded = SearchSpace.from_yaml(space or shipped(DEFAULT_SPACE))
    config = SupernetTrainConfig(steps=steps, scheme=scheme, batch_size=batch_size, lr=lr, seed=seed, device=device,
                                 threads=threads, checkpoint_every=checkpoint_every)
    result = train_supernet(loaded, checked_dataset(data), config, out, progress=True, log=lambda m: typer.echo(m, err=True))
    typer.echo(f"supernet of {loaded.name} in {out}: {result.steps} steps, {result.seconds / 60:.1f} min of training, "
               f"final loss {result.final_loss:.3f}")


@app.command("score")
def score_command(
    folder: Annotated[Path, typer.Argument(help="Supernet folder (nas supernet train --out).")],
    spec: Annotated[str, typer.Argument(help="Spec string, reference name or arch.json of an architecture of the supernet's space.")],
    data: Annotated[str, typer.Option("--data", help="Dataset folder or descriptor YAML: train split recalibrates, val split evaluates.")],
    bn_batches: Annotated[int, typer.Option("--bn-batches", min=1, help="Training batches the batch-norm statistics are recalibrated on.")] = 16,
    finetune_steps: Annotated[int, typer.Option("--finetune-steps", min=0, help="Fine-tuning steps before recalibrating (0: none).")] = 0,
    val_images: Annotated[Optional[int], typer.Option("--val-images", min=1, help="Evaluate on the first N validation images.")] = 80,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Draws the recalibration and fine-tuning images.")] = 0,
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics and seconds as JSON.")] = False,
) -> None:
    """Score SPEC with the weights it inherits from the supernet in FOLDER: GPS/GPSm AP after BN recalibration."""
    from nas.space.references import resolve_arch
    from nas.supernet.membership import require_in_space
    from nas.supernet.scoring import ScoreConfig, SupernetScorer
    from nas.supernet.store import load_supernet

    arch = resolve_arch(spec)
    config = ScoreConfig(bn_batches=bn_batches, finetune_steps=finetune_steps, val_images=val_images, seed=seed,
                         device=device, threads=threads)
    trained = load_supernet(folder)
    require_in_space(trained.space, arch)  # refused before the data is read
    score = SupernetScorer(trained, checked_dataset(data), config)(arch)
    if as_json:
        print_json({"arch": arch.to_string(), "supernet": str(folder), "supernet_steps": trained.steps,
                    "metrics": score.metrics, "seconds": score.seconds, "config": config.to_dict()})
        return
    m = score.metrics
    typer.echo(f"{arch.id}: GPS AP {m['gps_ap']:.1f}  GPSm AP {m['gpsm_ap']:.1f}  AP50 {m['ap50']:.1f}  AP75 {m['ap75']:.1f}  "
               f"IOU AP {m['iou_ap']:.1f}  (from the supernet in {folder}, {trained.steps} steps; scored in "
               f"{score.total_seconds:.1f} s)")

