"""Proxy training under a budget: AdamW with warm-up and cosine decay, periodic
DensePose evaluation reported to a callback, checkpoints and exact resume.

:func:`train` strings the pieces together: :func:`~nas.train.session.set_up` (device,
data, model, optimiser), :meth:`~nas.train.session.TrainingSession.resume`, then one
:func:`train_step` after another with an :func:`evaluation_point` at each of
``config.evals`` fractions of the budget.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import torch
from tqdm import tqdm

from nas.data import DensePoseDataset, collate
from nas.data.sample import Target
from nas.data.source import DatasetSource
from nas.errors import NasError
from nas.io import atomic_write_json
from nas.space.spec import ArchSpec
from nas.train.batches import images_to_device
from nas.train.budget import lr_factor
from nas.train.config import TrainConfig
from nas.train.precise_bn import recompute_bn_stats
from nas.train.result import TrainResult
from nas.train.session import TrainingSession, set_up
from nas.train.state import TrainState

__all__ = ["train", "train_step", "learn", "read_losses", "evaluation_point", "TrainingDiverged", "CHECKPOINT", "LOSS_READ_EVERY"]

Reporter = Callable[[dict[str, float]], None]
CHECKPOINT = "checkpoint.pt"
# steps between two reads of the losses on CUDA (each read waits for the GPU once)
LOSS_READ_EVERY = 10


class TrainingDiverged(NasError):
    """The loss became NaN or infinite."""


def _bn_batches(train_set: DensePoseDataset, config: TrainConfig, device: torch.device) -> Iterator[torch.Tensor]:
    """The same ``config.precise_bn_batches`` training batches at every evaluation point
    (a permutation drawn from the seed alone, so resuming changes nothing)."""
    order = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(config.seed * 100_003 + 99_991)).tolist()
    for k in range(config.precise_bn_batches):
        indices = [order[(k * config.batch_size + j) % len(order)] for j in range(config.batch_size)]
        images, _ = collate([train_set[i] for i in indices])
        yield images_to_device(images, device)


def read_losses(session: TrainingSession, state: TrainState) -> None:
    """Bring the losses of the steps taken since the last call back to the host: into
    ``state.recent_losses``, or :class:`TrainingDiverged` naming the first step whose loss
    is not finite.

    On CUDA a step leaves its loss on the device, so that the host never waits for the GPU
    inside a step; :func:`train` reads them every :data:`LOSS_READ_EVERY` steps and before
    every evaluation and checkpoint (a checkpoint never holds diverged weights). On a CPU
    :func:`learn` reads each loss before its optimiser step.
    """
    if not session.unread_losses:
        return
    pending, session.unread_losses = session.unread_losses, []
    values = torch.stack([loss.float() for _, loss, _ in pending]).tolist()
    for (step, _, terms), value in zip(pending, values):
        if not math.isfinite(value):
            detail = ", ".join(f"{k} {float(v):.3g}" for k, v in terms.items())
            raise TrainingDiverged(f"training diverged at step {step}: loss {value} ({detail}); try a lower --lr")
        state.recent_losses.append(value)


def train_step(session: TrainingSession, state: TrainState, done: float) -> float:
    """One optimiser step on the next batch at budget fraction ``done``; advances
    ``state`` and returns the step's seconds."""
    config = session.config
    if state.position >= len(session.train_set):
        state.epoch += 1
        state.position = 0
    indices = session.epoch_order(state.epoch)[state.position : state.position + config.batch_size].tolist()
    start = time.perf_counter()
    images, targets = collate([session.train_set[i] for i in indices])
    images = images_to_device(images, session.device)  # pinned + asynchronous on CUDA
    learn(session, state, images, targets, config.lr * lr_factor(done, config.warmup))
    if session.device.type == "cuda" and config.budget.seconds is not None:
        torch.cuda.synchronize()  # a time budget needs each step's true duration
    seconds = time.perf_counter() - start
    state.step += 1
    state.position += len(indices)
    state.elapsed += seconds
    return seconds


def learn(session: TrainingSession, state: TrainState, images: torch.Tensor, targets: Sequence[Target], lr: float) -> None:
    """Losses of one batch, backward, gradient clipping and the optimiser step at learning
    rate ``lr``; the loss joins ``session.unread_losses`` as step ``state.step + 1``.

    With ``session.sync_free`` (CUDA) nothing here waits for the device: no tensor is read
    back and no shape depends on the data (the model's static-shape path), so the host
    queues the next step while the device computes this one; :func:`read_losses` reads the
    losses later. Otherwise each loss is read before the update, so that a diverged step is
    never applied (reading costs nothing on a CPU).
    """
    model, optimizer, scaler = session.model, session.optimizer, session.scaler
    for group in optimizer.param_groups:
        group["lr"] = lr
    with torch.autocast(session.device.type, dtype=torch.float16, enabled=session.use_amp):
        losses = model(images, targets)
        loss = sum(losses.values())
    session.unread_losses.append((state.step + 1, loss.detach(), {k: v.detach() for k, v in losses.items()}))
    if not session.sync_free:
        read_losses(session, state)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), session.config.grad_clip)
    # fused AdamW takes the scaler's inf check as a tensor: no read-back (GradScaler.step)
    scaler.step(optimizer)
    scaler.update()
    if session.average is not None:
        session.average.update(model)


def evaluation_point(session: TrainingSession, state: TrainState, done: float) -> dict[str, float]:
    """Evaluate the scored weights (BatchNorm statistics re-estimated first when
    ``precise_bn_batches``), append the metrics to ``state.history`` and return them."""
    config = session.config
    read_losses(session, state)
    started = time.perf_counter()
    if config.precise_bn_batches:
        recompute_bn_stats(session.scored, _bn_batches(session.train_set, config, session.device))
    metrics = session.evaluator(session.scored)
    metrics.update(train_seconds=round(state.elapsed, 3), eval_seconds=round(time.perf_counter() - started, 3),
                   steps=float(state.step), images=float(state.step * config.batch_size),
                   progress=round(done, 4), loss=round(state.mean_loss, 4))
    state.history.append(metrics)
    return metrics


def _progress_bar(session: TrainingSession, state: TrainState, total: int | None, show: bool) -> tqdm:
    """Steps, or seconds for a time budget."""
    return tqdm(total=total if total is not None else float(session.config.budget.seconds),  # type: ignore[arg-type]
                initial=state.step if total is not None else state.elapsed, desc=f"train {session.arch.id}",
                unit="step" if total is not None else "s", disable=not show, dynamic_ncols=True,
                bar_format=None if total is not None else "{l_bar}{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}{postfix}]")


def train(
    arch: ArchSpec,
    data: str | Path | DatasetSource,
    config: TrainConfig | None = None,
    out_dir: str | Path | None = None,
    resume: bool = False,
    report: Reporter | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train ``arch``'s DensePose R-CNN on ``data`` under ``config.budget`` and evaluate it.

    Args:
        arch: the architecture.
        data: dataset folder (``annotations/{train,val}.json``, ``images/``, ``surface.npz``) or
            descriptor YAML (see :mod:`nas.data.source`), or one already loaded.
        config: training settings (defaults: :class:`TrainConfig`).
        out_dir: where ``checkpoint.pt`` and ``metrics.json`` go (None: nothing written).
        resume: continue from ``out_dir/checkpoint.pt`` when it exists.
        report: called with the metrics at every evaluation point (e.g. Ray Tune's report).
        progress: show a progress bar.

    Returns:
        The final metrics, the history of every evaluation point and the trained model
        (see :class:`~nas.train.result.TrainResult`).
    """
    config = config or TrainConfig()
    session = set_up(arch, data, config)
    out = Path(out_dir) if out_dir is not None else None
    ckpt_path = out / CHECKPOINT if out is not None else None
    state = session.resume(ckpt_path) if resume and ckpt_path is not None and ckpt_path.exists() else TrainState()

    budget, steps_per_epoch = config.budget, session.steps_per_epoch
    eval_points = [(k + 1) / config.evals for k in range(config.evals)]
    total = budget.total_steps(steps_per_epoch)
    bar = _progress_bar(session, state, total, progress)
    session.model.train()
    done = budget.progress(state.step, state.elapsed, steps_per_epoch)
    while done < 1.0 or len(state.history) < len(eval_points):
        if done < 1.0:
            seconds = train_step(session, state, done)
            if state.step % LOSS_READ_EVERY == 0:
                read_losses(session, state)
            bar.update(1 if total is not None else seconds)
            bar.set_postfix(loss=f"{state.mean_loss:.3f}")
            done = budget.progress(state.step, state.elapsed, steps_per_epoch)
        if len(state.history) < len(eval_points) and done >= eval_points[len(state.history)] - 1e-9:
            metrics = evaluation_point(session, state, done)
            if ckpt_path is not None:
                session.save(state, ckpt_path)
            if report is not None:
                report(dict(metrics))
    bar.close()
    read_losses(session, state)
    # the weights leave in the default layout, as every other model of the project has them
    result = TrainResult.from_history(state.history, session.scored.use_memory_format(torch.contiguous_format))
    if out is not None:
        report_data = {"arch": arch.to_string(), "id": arch.id, "config": config.to_dict(), "metrics": result.metrics, "history": state.history}
        atomic_write_json(out / "metrics.json", report_data, indent=2)
    return result
