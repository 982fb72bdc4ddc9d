"""Proxy training under a budget: AdamW with warm-up and cosine decay, periodic
DensePose evaluation reported to a callback, checkpoints and exact resume."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Subset
from tqdm import tqdm

from nas.data import BodySurface, DensePoseDataset, collate
from nas.errors import NasError
from nas.eval import evaluate
from nas.io import atomic_write_json
from nas.model.rcnn import DensePoseRCNN, build_densepose_rcnn
from nas.space.spec import ArchSpec
from nas.train.budget import lr_factor
from nas.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from nas.train.config import TrainConfig
from nas.train.data import DatasetPaths
from nas.train.ema import WeightAverage
from nas.train.precise_bn import recompute_bn_stats
from nas.train.predict import BoxSource, predict

__all__ = ["train", "TrainResult", "TrainingDiverged", "resolve_device"]

Reporter = Callable[[dict[str, float]], None]
CHECKPOINT = "checkpoint.pt"


class TrainingDiverged(NasError):
    """The loss became NaN or infinite."""


@dataclass
class TrainResult:
    """Final metrics (AP in percent, -1 where undefined), the evaluation history and the model."""

    metrics: dict[str, float]
    history: list[dict[str, float]] = field(default_factory=list)
    model: DensePoseRCNN | None = None


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise NasError("--device cuda was asked for but torch sees no CUDA device (CPU-only build or no GPU); use --device cpu")
    if name not in ("cpu",) and not name.startswith("cuda"):
        raise NasError(f"unknown device {name!r}; use cpu, cuda or auto")
    return torch.device(name)


def _percent(metrics: dict[str, float]) -> dict[str, float]:
    return {k: (round(v * 100, 3) if v >= 0 else -1.0) for k, v in metrics.items()}


class Evaluator:
    """Validation set, ground truth and surface, loaded once per training run.

    Args:
        paths: the dataset.
        config: training settings (input size, mask size; ``val_images``: the first N
            validation images).
        device: where the model runs.
        images: these validation images (positions in the split) instead of the first
            ``config.val_images`` (benchmarks of the evaluation's own noise).
        box_source: score the detector's boxes (``"detected"``) or run the DensePose head
            on the ground-truth boxes (``"gt"``; see :func:`nas.train.predict.predict`).
    """

    def __init__(self, paths: DatasetPaths, config: TrainConfig, device: torch.device, images: range | None = None,
                 box_source: BoxSource = "detected") -> None:
        dataset = DensePoseDataset(paths.val, paths.images, input_size=config.input_size, train=False, mask_size=config.mask_size)
        ids = dataset.image_ids
        if images is None and config.val_images is not None:
            images = range(min(config.val_images, len(dataset)))
        if images is not None:
            if images.start < 0 or images.stop > len(dataset):
                raise NasError(f"validation images {images.start}..{images.stop - 1} are out of range: {paths.val} has {len(dataset)}")
            dataset = Subset(dataset, images)  # type: ignore[assignment]
            ids = [ids[i] for i in images]
        self.dataset, self.image_ids, self.device, self.box_source = dataset, ids, device, box_source
        self.gt = paths.val
        self.surface = BodySurface.load(paths.surface)

    def __call__(self, model: DensePoseRCNN) -> dict[str, float]:
        results = predict(model, self.dataset, self.device, box_source=self.box_source)  # type: ignore[arg-type]
        metrics = _percent(evaluate(self.gt, results, self.surface, image_ids=self.image_ids))
        metrics["ap50"], metrics["ap75"] = metrics["gps_ap50"], metrics["gps_ap75"]
        metrics["detections"] = float(len(results))
        return metrics


def _bn_batches(train_set: DensePoseDataset, config: TrainConfig, device: torch.device) -> Iterator[torch.Tensor]:
    """The same ``config.precise_bn_batches`` training batches at every evaluation point
    (a permutation drawn from the seed alone, so resuming changes nothing)."""
    order = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(config.seed * 100_003 + 99_991)).tolist()
    for k in range(config.precise_bn_batches):
        indices = [order[(k * config.batch_size + j) % len(order)] for j in range(config.batch_size)]
        images, _ = collate([train_set[i] for i in indices])
        yield images.to(device)


def train(
    arch: ArchSpec,
    data_dir: str | Path,
    config: TrainConfig | None = None,
    out_dir: str | Path | None = None,
    resume: bool = False,
    report: Reporter | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train ``arch``'s DensePose R-CNN on ``data_dir`` under ``config.budget`` and evaluate it.

    Args:
        arch: the architecture.
        data_dir: dataset folder (``annotations/{train,val}.json``, ``images/``, ``surface.npz``).
        config: training settings (defaults: :class:`TrainConfig`).
        out_dir: where ``checkpoint.pt`` and ``metrics.json`` go (None: nothing written).
        resume: continue from ``out_dir/checkpoint.pt`` when it exists.
        report: called with the metrics at every evaluation point (e.g. Ray Tune's report).
        progress: show a progress bar.

    Returns:
        The final metrics (``gps_ap``, ``gpsm_ap``, ``ap50``, ``ap75``, ... in percent;
        ``train_seconds``, ``steps``, ``images``, ``loss``), the history of every
        evaluation point and the trained model (its weight average when
        ``config.ema_decay``: the weights that were evaluated).
    """
    config = config or TrainConfig()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    device = resolve_device(config.device)
    if device.type == "cpu":
        # Late in training some gradients fall below 1e-38; x86 computes on such denormal
        # numbers in microcode: one r50_fpn proxy step went from 5 s to 18 s, and a conv
        # backward with denormal gradients takes 74x longer. Flushing them to zero changes
        # values no float32 sum can see.
        torch.set_flush_denormal(True)
    paths = DatasetPaths.from_dir(data_dir)
    out = Path(out_dir) if out_dir is not None else None
    torch.manual_seed(config.seed)
    model = build_densepose_rcnn(arch).to(device)
    train_set = DensePoseDataset(paths.train, paths.images, input_size=config.input_size, train=True, mask_size=config.mask_size)
    if len(train_set) == 0:
        raise NasError(f"{paths.train} has no image with DensePose annotations to train on")
    evaluator = Evaluator(paths, config, device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    use_amp = config.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    average = WeightAverage(model, config.ema_decay) if config.ema_decay else None
    scored = average.model if average is not None else model  # the weights evaluated and returned
    steps_per_epoch = math.ceil(len(train_set) / config.batch_size)

    # everything needed to continue exactly where a checkpoint was taken
    state: dict[str, Any] = {"step": 0, "epoch": 0, "position": 0, "elapsed": 0.0, "history": [], "recent_losses": []}
    ckpt_path = out / CHECKPOINT if out is not None else None
    if resume and ckpt_path is not None and ckpt_path.exists():
        saved = load_checkpoint(ckpt_path)
        if saved.get("arch") != arch.to_string():
            raise CheckpointError(f"{ckpt_path} belongs to another architecture ({saved.get('arch')}); use another --out or delete it")
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scaler.load_state_dict(saved["scaler"])
        if (average is not None) != ("ema" in saved):
            raise CheckpointError(f"{ckpt_path} was trained {'without' if average is not None else 'with'} a weight average "
                                  "(ema_decay); resume with the settings it was started with, or use another --out")
        if average is not None:
            average.load_state_dict(saved["ema"])
        torch.set_rng_state(saved["rng"])
        state = {k: saved[k] for k in state}

    def save() -> None:
        if ckpt_path is not None:
            save_checkpoint({"arch": arch.to_string(), "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                             "scaler": scaler.state_dict(), "rng": torch.get_rng_state(), **state,
                             **({"ema": average.state_dict()} if average is not None else {})}, ckpt_path)

    budget = config.budget
    eval_points = [(k + 1) / config.evals for k in range(config.evals)]
    total = budget.total_steps(steps_per_epoch)
    bar = tqdm(total=total if total is not None else float(budget.seconds), initial=state["step"] if total is not None else state["elapsed"],
               desc=f"train {arch.id}", unit="step" if total is not None else "s", disable=not progress, dynamic_ncols=True,
               bar_format=None if total is not None else "{l_bar}{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}{postfix}]")
    recent: deque[float] = deque(state["recent_losses"], maxlen=20)
    model.train()
    done = budget.progress(state["step"], state["elapsed"], steps_per_epoch)
    order, order_epoch = torch.empty(0, dtype=torch.int64), -1
    while done < 1.0 or len(state["history"]) < len(eval_points):
        if done < 1.0:
            if state["position"] >= len(train_set):
                state["epoch"] += 1
                state["position"] = 0
            if order_epoch != state["epoch"]:  # one shuffle per epoch, derived from the seed alone
                order = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(config.seed * 100_003 + state["epoch"]))
                order_epoch = state["epoch"]
            indices = order[state["position"] : state["position"] + config.batch_size].tolist()
            start = time.perf_counter()
            images, targets = collate([train_set[i] for i in indices])
            for group in optimizer.param_groups:
                group["lr"] = config.lr * lr_factor(done, config.warmup)
            with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
                losses = model(images.to(device), targets)
                loss = sum(losses.values())
            if not torch.isfinite(loss):
                raise TrainingDiverged(f"training diverged at step {state['step'] + 1}: loss {loss.item()} "
                                       f"({', '.join(f'{k} {v.item():.3g}' for k, v in losses.items())}); try a lower --lr")
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            if average is not None:
                average.update(model)
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - start
            state["step"] += 1
            state["position"] += len(indices)
            state["elapsed"] += seconds
            recent.append(float(loss.item()))
            state["recent_losses"] = list(recent)
            bar.update(1 if total is not None else seconds)
            bar.set_postfix(loss=f"{sum(recent) / len(recent):.3f}")
            done = budget.progress(state["step"], state["elapsed"], steps_per_epoch)
        if len(state["history"]) < len(eval_points) and done >= eval_points[len(state["history"])] - 1e-9:
            started = time.perf_counter()
            if config.precise_bn_batches:
                recompute_bn_stats(scored, _bn_batches(train_set, config, device))
            metrics = evaluator(scored)
            metrics.update(train_seconds=round(state["elapsed"], 3), eval_seconds=round(time.perf_counter() - started, 3),
                           steps=float(state["step"]), images=float(state["step"] * config.batch_size),
                           progress=round(done, 4), loss=round(sum(recent) / max(1, len(recent)), 4))
            state["history"].append(metrics)
            save()
            if report is not None:
                report(dict(metrics))
    bar.close()
    final = dict(state["history"][-1])
    if out is not None:
        report_data = {"arch": arch.to_string(), "id": arch.id, "config": config.to_dict(), "metrics": final, "history": state["history"]}
        atomic_write_json(out / "metrics.json", report_data, indent=2)
    return TrainResult(final, list(state["history"]), scored)
