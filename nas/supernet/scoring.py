"""Scoring an architecture with the weights it inherits from a trained supernet.

The candidate's weights are extracted into its stand-alone model
(:func:`~nas.model.rcnn.build_densepose_rcnn`), optionally fine-tuned for a few steps,
its batch-norm statistics recalibrated on a fixed set of training batches (the supernet's
running statistics mix every sub-network it trained), and it is evaluated by the proxy's
evaluator. Every candidate sees the same batches and validation images, so two
candidates' scores differ by their architectures and inherited weights alone.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from nas.data import collate
from nas.data.source import DatasetSource
from nas.errors import SupernetError
from nas.eval.options import OFFICIAL, EvalOptions
from nas.model.rcnn import DensePoseRCNN
from nas.space.spec import ArchSpec
from nas.supernet.membership import require_in_space
from nas.supernet.store import TrainedSupernet
from nas.train.batches import images_to_device
from nas.train.budget import lr_factor
from nas.train.config import TrainConfig
from nas.train.evaluator import Evaluator
from nas.train.precise_bn import recompute_bn_stats
from nas.train.session import build_training_model, training_device, training_set

__all__ = ["ScoreConfig", "SupernetScore", "SupernetScorer"]


@dataclass(frozen=True)
class ScoreConfig:
    """How a candidate is scored from a supernet.

    Attributes:
        bn_batches: training batches the batch-norm statistics are recalibrated on (of the
            supernet's training batch size).
        finetune_steps: optimiser steps of fine-tuning before the recalibration (0: none).
        finetune_lr: AdamW learning rate of the fine-tuning, decayed by a cosine.
        val_images: evaluate on the first N validation images (None: all).
        seed: draws the recalibration and fine-tuning images.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
        threads: torch CPU threads (None: torch's default).
        options: the evaluator's rules (official by default).
    """

    bn_batches: int = 16
    finetune_steps: int = 0
    finetune_lr: float = 1e-3
    val_images: int | None = 80
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    options: EvalOptions = OFFICIAL

    def __post_init__(self) -> None:
        problems = [f"{name} must be at least {low}, got {value}" for name, value, low in
                    (("--bn-batches", self.bn_batches, 1), ("--finetune-steps", self.finetune_steps, 0),
                     ("--val-images", self.val_images, 1), ("--threads", self.threads, 1)) if value is not None and value < low]
        if not self.finetune_lr > 0:
            problems.append(f"--finetune-lr must be positive, got {self.finetune_lr}")
        if problems:
            raise SupernetError("; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return {"bn_batches": self.bn_batches, "finetune_steps": self.finetune_steps, "finetune_lr": self.finetune_lr,
                "val_images": self.val_images, "seed": self.seed, "options": asdict(self.options)}


@dataclass
class SupernetScore:
    """One candidate's score.

    Attributes:
        metrics: the evaluator's metrics in percent (``gps_ap`` and the rest).
        seconds: wall seconds of each phase (extract, finetune, recalibrate, evaluate).
        model: the scored stand-alone model (on the scoring device).
    """

    metrics: dict[str, float]
    seconds: dict[str, float]
    model: DensePoseRCNN = field(repr=False)

    @property
    def gps_ap(self) -> float:
        return self.metrics["gps_ap"]

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


class SupernetScorer:
    """Scores architectures of ``trained``'s space on ``data`` (its training images
    recalibrate and fine-tune, its validation images evaluate). The data, the evaluator and
    the recalibration batches are loaded once, for every candidate scored."""

    def __init__(self, trained: TrainedSupernet, data: str | Path | DatasetSource, config: ScoreConfig | None = None) -> None:
        self.trained, self.config = trained, config or ScoreConfig()
        self.device = training_device(self.config.device, self.config.threads)
        source = data if isinstance(data, DatasetSource) else DatasetSource.load(data)
        trained_with = trained.config
        input_size = tuple(trained_with.input_size or trained.space.proxy_input)
        surface = source.open_surface()
        self.train_set = training_set(source, input_size, trained_with.mask_size, surface)  # type: ignore[arg-type]
        eval_config = replace(TrainConfig(), input_size=input_size, val_images=self.config.val_images,  # type: ignore[arg-type]
                              mask_size=trained_with.mask_size, device=str(self.device))
        self.evaluator = Evaluator(source, eval_config, self.device, surface=surface, options=self.config.options)
        self.batch_size = trained_with.batch_size
        generator = torch.Generator().manual_seed(self.config.seed * 100_003 + 77_777)
        self.order = torch.randperm(len(self.train_set), generator=generator).tolist()
        with torch.random.fork_rng(devices=[]):  # the augmentation of these batches leaves the caller's generator alone
            torch.manual_seed(self.config.seed)
            self.bn_images = [collate(self._images(k))[0] for k in range(self.config.bn_batches)]

    def _images(self, batch: int) -> list[Any]:
        size = self.batch_size
        return [self.train_set[self.order[(batch * size + j) % len(self.order)]] for j in range(size)]

    def _finetune(self, model: DensePoseRCNN) -> None:
        """``finetune_steps`` AdamW steps on batches after the recalibration ones."""
        steps, lr = self.config.finetune_steps, self.config.finetune_lr
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=self.trained.config.weight_decay)
        model.train()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed + 1)
            for step in range(steps):
                images, targets = collate(self._images(self.config.bn_batches + step))
                for group in optimizer.param_groups:
                    group["lr"] = lr * lr_factor(step / steps, 0.0)
                losses = model(images_to_device(images, self.device), targets)
                optimizer.zero_grad(set_to_none=True)
                sum(losses.values()).backward()  # type: ignore[union-attr]
                torch.nn.utils.clip_grad_norm_(model.parameters(), self.trained.config.grad_clip)
                optimizer.step()

    def __call__(self, arch: ArchSpec) -> SupernetScore:
        """Score ``arch`` (:class:`~nas.errors.SupernetError` when it is outside the space)."""
        require_in_space(self.trained.space, arch)
        seconds: dict[str, float] = {}
        start = time.perf_counter()
        model = build_training_model(arch, self.device)
        model.load_state_dict(self.trained.supernet.extract(arch))
        seconds["extract"] = time.perf_counter() - start
        if self.config.finetune_steps:
            start = time.perf_counter()
            self._finetune(model)
            seconds["finetune"] = time.perf_counter() - start
        start = time.perf_counter()
        recompute_bn_stats(model, (images_to_device(images, self.device) for images in self.bn_images))
        seconds["recalibrate"] = time.perf_counter() - start
        start = time.perf_counter()
        model.eval()
        with torch.no_grad():
            metrics = self.evaluator(model)
        seconds["evaluate"] = time.perf_counter() - start
        return SupernetScore(metrics, {k: round(v, 3) for k, v in seconds.items()}, model)
