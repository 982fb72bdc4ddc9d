"""Training a supernet: every step trains the sub-networks its sampling scheme draws
(:mod:`nas.supernet.sampling`) on one batch, with the proxy's optimiser and schedule
(AdamW, warm-up then cosine decay to 0).

Everything a step draws comes from the seed and the step number (the sub-networks, the
images, via per-epoch permutations) or from the torch generator the checkpoint saves (the
augmentation, the RoI sampling), so a training cut into parts by Ctrl-C or a lost machine
ends with the weights an uninterrupted one ends with.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from nas.data import DensePoseDataset, collate
from nas.data.source import DatasetSource
from nas.errors import Interrupted, SupernetError
from nas.interrupts import interrupts_deferred
from nas.space.search_space import SearchSpace
from nas.supernet.config import SupernetTrainConfig
from nas.supernet.sampling import step_archs
from nas.supernet.store import CHECKPOINT, WEIGHTS, describe, require_same_space, save_weights, space_of
from nas.supernet.supernet import Supernet
from nas.train.batches import images_to_device
from nas.train.budget import lr_factor
from nas.train.checkpoint import load_checkpoint, save_checkpoint
from nas.train.loop import TrainingDiverged
from nas.train.session import training_device, training_set

__all__ = ["train_supernet", "SupernetTrainResult", "LOSS_CURVE_EVERY"]

Log = Callable[[str], None]
# steps whose losses one point of the stored loss curve averages
LOSS_CURVE_EVERY = 50


@dataclass
class SupernetTrainResult:
    """What a (possibly resumed) training left in its folder.

    Attributes:
        folder: the supernet folder.
        steps: optimiser steps done in total.
        seconds: training seconds in total, over every part.
        resumed_at: the step this call started from (0: a fresh start).
        losses: the loss of every step (the sum over the step's sub-networks).
    """

    folder: Path
    steps: int
    seconds: float
    resumed_at: int
    losses: list[float] = field(repr=False)

    @property
    def final_loss(self) -> float:
        """Mean loss of the last 50 steps (nan before any)."""
        tail = self.losses[-LOSS_CURVE_EVERY:]
        return sum(tail) / len(tail) if tail else math.nan


@dataclass
class _Run:
    """A training in progress: what it works with and where it stands."""

    space: SearchSpace
    config: SupernetTrainConfig
    device: torch.device
    supernet: Supernet
    train_set: DensePoseDataset
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    step: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)
    rng: torch.Tensor | None = None  # the torch generator's state at the current step: what a resume starts from
    _order: tuple[int, list[int]] | None = None

    def batch_indices(self, step: int) -> list[int]:
        """The training images of ``step``: consecutive positions in a sequence of
        per-epoch shuffles, each drawn from the seed and the epoch alone."""
        size, count = self.config.batch_size, len(self.train_set)
        indices = []
        for position in range(step * size, (step + 1) * size):
            epoch, offset = divmod(position, count)
            if self._order is None or self._order[0] != epoch:
                generator = torch.Generator().manual_seed(self.config.seed * 100_003 + epoch)
                self._order = (epoch, torch.randperm(count, generator=generator).tolist())
            indices.append(self._order[1][offset])
        return indices

    def description(self) -> dict[str, Any]:
        curve = [round(sum(chunk) / len(chunk), 4) for chunk in
                 (self.losses[i : i + LOSS_CURVE_EVERY] for i in range(0, len(self.losses), LOSS_CURVE_EVERY))]
        return describe(self.space, self.config, self.step, seconds=round(self.seconds, 1),
                        loss_curve={"every_steps": LOSS_CURVE_EVERY, "mean_loss": curve})

    def save(self, folder: Path) -> None:
        """Checkpoint (to resume from) and weights (to score)."""
        rng = self.rng if self.rng is not None else torch.get_rng_state()
        description = self.description()  # one loss curve for both files
        save_checkpoint({**description, "model": self.supernet.state_dict(), "optimizer": self.optimizer.state_dict(),
                         "scaler": self.scaler.state_dict(), "rng": rng, "losses": self.losses}, folder / CHECKPOINT)
        save_weights(folder, self.supernet, description)

    def restore(self, path: Path) -> None:
        """Continue the training saved at ``path``; refuses one of another space or settings."""
        saved = load_checkpoint(path)
        if "space" not in saved or "config" not in saved:
            raise SupernetError(f"{path} is not a supernet training checkpoint; use another --out")
        require_same_space(space_of(saved, path), self.space, path.parent)
        differences = self.config.differences(SupernetTrainConfig.from_dict(saved["config"]))
        if differences:
            raise SupernetError(f"{path.parent} holds a supernet training with other settings ({'; '.join(differences)}); "
                                "resume it with the settings it was started with, or use another --out")
        self.supernet.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scaler.load_state_dict(saved["scaler"])
        torch.set_rng_state(saved["rng"])
        self.step, self.seconds, self.losses = int(saved["step"]), float(saved["seconds"]), list(saved["losses"])


def _set_up(space: SearchSpace, data: str | Path | DatasetSource, config: SupernetTrainConfig) -> _Run:
    device = training_device(config.device, config.threads)
    source = data if isinstance(data, DatasetSource) else DatasetSource.load(data)
    train_set = training_set(source, tuple(config.input_size or space.proxy_input), config.mask_size)  # type: ignore[arg-type]
    torch.manual_seed(config.seed)
    supernet = Supernet(space).to(device).use_memory_format(torch.channels_last)
    optimizer = torch.optim.AdamW(supernet.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=True)
    scaler = torch.amp.GradScaler("cuda", enabled=config.amp and device.type == "cuda")
    return _Run(space, config, device, supernet, train_set, optimizer, scaler)


def _step(run: _Run) -> None:
    """One optimiser step over the sub-networks step ``run.step`` draws; the weights change
    and ``run.step`` advances together (a Ctrl-C waits for both)."""
    config, supernet = run.config, run.supernet
    run.rng = torch.get_rng_state()  # before this step draws anything
    archs = step_archs(run.space, config.scheme, config.seed, run.step)
    start = time.perf_counter()
    images, targets = collate([run.train_set[i] for i in run.batch_indices(run.step)])
    images = images_to_device(images, run.device)
    for group in run.optimizer.param_groups:
        group["lr"] = config.lr * lr_factor(run.step / config.steps, config.warmup)
    run.optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for arch in archs:
        supernet.activate(arch)
        with torch.autocast(run.device.type, dtype=torch.float16, enabled=run.scaler.is_enabled()):
            losses = supernet(images, targets)
            loss = sum(losses.values())
        value = float(loss.detach())
        if not math.isfinite(value):
            detail = ", ".join(f"{k} {float(v):.3g}" for k, v in losses.items())
            raise TrainingDiverged(f"supernet training diverged at step {run.step + 1} on {arch.to_string()}: loss {value} "
                                   f"({detail}); try a lower --lr")
        run.scaler.scale(loss).backward()
        total += value
    run.scaler.unscale_(run.optimizer)
    torch.nn.utils.clip_grad_norm_(supernet.parameters(), config.grad_clip)
    with interrupts_deferred():
        run.scaler.step(run.optimizer)
        run.scaler.update()
        run.step += 1
        run.losses.append(total)
        run.seconds += time.perf_counter() - start
        run.rng = torch.get_rng_state()


def train_supernet(space: SearchSpace, data: str | Path | DatasetSource, config: SupernetTrainConfig, out: str | Path,
                   progress: bool = True, log: Log | None = None) -> SupernetTrainResult:
    """Train ``space``'s supernet on ``data`` for ``config.steps`` steps into folder ``out``,
    continuing the training found there (same space and settings, else
    :class:`~nas.errors.SupernetError`).

    Writes ``checkpoint.pt``, ``supernet.pt`` and ``supernet.json`` (see
    :mod:`nas.supernet.store`) every ``config.checkpoint_every`` steps, at the end, and on
    Ctrl-C (then raises :class:`~nas.errors.Interrupted`: the same call resumes).
    """
    say = log or (lambda message: None)
    folder = Path(out)
    run = _set_up(space, data, config)
    checkpoint = folder / CHECKPOINT
    if checkpoint.exists():
        run.restore(checkpoint)
        say(f"resuming the supernet training in {folder} at step {run.step} of {config.steps}")
    folder.mkdir(parents=True, exist_ok=True)
    resumed_at = run.step
    bar = tqdm(total=config.steps, initial=run.step, desc=f"supernet {config.scheme}", unit="step", disable=not progress,
               dynamic_ncols=True)
    run.supernet.train()
    try:
        while run.step < config.steps:
            _step(run)
            bar.update(1)
            bar.set_postfix(loss=f"{sum(run.losses[-20:]) / len(run.losses[-20:]):.3f}")
            if run.step % config.checkpoint_every == 0 or run.step == config.steps:
                run.save(folder)
    except KeyboardInterrupt:
        bar.close()
        run.save(folder)
        raise Interrupted(f"supernet training stopped at step {run.step} of {config.steps}, saved in {folder}; "
                          "run the same command again to continue") from None
    bar.close()
    if resumed_at == run.step and not (folder / WEIGHTS).exists():
        run.save(folder)  # a zero-step call on a finished checkpoint still leaves the weights file
    return SupernetTrainResult(folder, run.step, run.seconds, resumed_at, run.losses)
