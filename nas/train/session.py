"""A training run's set-up: device, data, model, optimiser, weight average, and the
checkpoint that saves and restores them with a :class:`~nas.train.state.TrainState`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from nas.data import BodySurface, DensePoseDataset
from nas.data.cache import cache_budget_bytes
from nas.data.source import DatasetSource
from nas.errors import NasError
from nas.model.rcnn import DensePoseRCNN, build_densepose_rcnn
from nas.space.spec import ArchSpec
from nas.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from nas.train.config import TrainConfig
from nas.train.ema import WeightAverage
from nas.train.evaluator import Evaluator
from nas.train.state import TrainState

__all__ = ["TrainingSession", "set_up", "build_training_model", "resolve_device", "training_device", "training_set"]


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise NasError("--device cuda was asked for but torch sees no CUDA device (CPU-only build or no GPU); use --device cpu")
    if name not in ("cpu",) and not name.startswith("cuda"):
        raise NasError(f"unknown device {name!r}; use cpu, cuda or auto")
    return torch.device(name)


@dataclass
class TrainingSession:
    """Everything one training run works with (built by :func:`set_up`).

    Attributes:
        average: the weight average when ``config.ema_decay`` (None: off).
        use_amp: mixed precision (CUDA only).
        sync_free: a training step never waits for the device (CUDA): the model trains on
            its static-shape path and losses are read every few steps
            (:func:`nas.train.loop.learn`).
    """

    arch: ArchSpec
    config: TrainConfig
    device: torch.device
    train_set: DensePoseDataset
    evaluator: Evaluator
    model: DensePoseRCNN
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    average: WeightAverage | None
    use_amp: bool
    sync_free: bool = False
    _order: tuple[int, torch.Tensor] | None = field(default=None, repr=False)
    # losses of the steps taken but not read back yet: (step, loss, its terms), see nas.train.loop.read_losses
    unread_losses: list[tuple[int, torch.Tensor, dict[str, torch.Tensor]]] = field(default_factory=list, repr=False)

    @property
    def scored(self) -> DensePoseRCNN:
        """The weights evaluated and returned: the average when there is one."""
        return self.average.model if self.average is not None else self.model  # type: ignore[return-value]

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.train_set) / self.config.batch_size)

    def epoch_order(self, epoch: int) -> torch.Tensor:
        """The training images' order in ``epoch``: one shuffle per epoch, derived from the
        seed alone (so a resumed run draws the same)."""
        if self._order is None or self._order[0] != epoch:
            generator = torch.Generator().manual_seed(self.config.seed * 100_003 + epoch)
            self._order = (epoch, torch.randperm(len(self.train_set), generator=generator))
        return self._order[1]

    def save(self, state: TrainState, path: Path) -> None:
        """Write a checkpoint that :meth:`resume` continues exactly."""
        save_checkpoint({"arch": self.arch.to_string(), "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                         "scaler": self.scaler.state_dict(), "rng": torch.get_rng_state(), **state.to_dict(),
                         **({"ema": self.average.state_dict()} if self.average is not None else {})}, path)

    def resume(self, path: Path) -> TrainState:
        """Restore weights, optimiser, scaler, weight average and RNG from ``path``;
        refuses a checkpoint of another architecture or weight-average setting."""
        saved = load_checkpoint(path)
        if saved.get("arch") != self.arch.to_string():
            raise CheckpointError(f"{path} belongs to another architecture ({saved.get('arch')}); use another --out or delete it")
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scaler.load_state_dict(saved["scaler"])
        if (self.average is not None) != ("ema" in saved):
            raise CheckpointError(f"{path} was trained {'without' if self.average is not None else 'with'} a weight average "
                                  "(ema_decay); resume with the settings it was started with, or use another --out")
        if self.average is not None:
            self.average.load_state_dict(saved["ema"])
        torch.set_rng_state(saved["rng"])
        return TrainState.from_dict(saved)


def build_training_model(arch: ArchSpec, device: torch.device) -> DensePoseRCNN:
    """``arch``'s DensePose R-CNN as training runs it: on ``device``, in channels-last layout
    (a proxy step of a mid-size network ~1.3x faster on 2 CPU cores: bench_train_speed)."""
    return build_densepose_rcnn(arch).to(device).use_memory_format(torch.channels_last)


def training_device(name: str, threads: int | None) -> torch.device:
    """Set torch's CPU threads (None: its default) and return the device ``name`` resolves
    to, set up for training."""
    if threads is not None:
        torch.set_num_threads(threads)
    device = resolve_device(name)
    if device.type == "cpu":
        # Late in training some gradients fall below 1e-38; x86 computes on such denormal
        # numbers in microcode: one r50_fpn proxy step went from 5 s to 18 s, and a conv
        # backward with denormal gradients takes 74x longer. Flushing them to zero changes
        # values no float32 sum can see.
        torch.set_flush_denormal(True)
    return device


def training_set(source: DatasetSource, input_size: tuple[int, int], mask_size: int, surface: BodySurface | None = None) -> DensePoseDataset:
    """The augmented training split of ``source``, its decoded images cached in memory up to
    ``$NAS_DATA_CACHE_MB`` MiB; refuses a split without a DensePose-annotated image."""
    train_set = DensePoseDataset(source.train.annotations, source.train.images, input_size=input_size, train=True,
                                 surface=surface if surface is not None else source.open_surface(), mask_size=mask_size,
                                 cache_bytes=cache_budget_bytes())
    if len(train_set) == 0:
        raise NasError(f"{source.train.annotations} has no image with DensePose annotations to train on")
    return train_set


def set_up(arch: ArchSpec, data: str | Path | DatasetSource, config: TrainConfig) -> TrainingSession:
    """Threads, device, data (a dataset folder or descriptor, see :mod:`nas.data.source`),
    seeded model, optimiser and weight average of a run.

    The training set keeps its decoded images in memory up to ``$NAS_DATA_CACHE_MB`` MiB
    (default 1024; 0: off; see :mod:`nas.data.cache`): later epochs skip the decoding."""
    device = training_device(config.device, config.threads)
    source = data if isinstance(data, DatasetSource) else DatasetSource.load(data)
    surface = source.open_surface()  # read once: flips of the training images and the evaluation use it
    torch.manual_seed(config.seed)
    model = build_training_model(arch, device)
    train_set = training_set(source, config.input_size, config.mask_size, surface)
    evaluator = Evaluator(source, config, device, surface=surface)
    # fused: one kernel updates every parameter (a mid-size network's step: 11 -> 4.5 ms on 2 CPU cores)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=True)
    use_amp = config.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    average = WeightAverage(model, config.ema_decay) if config.ema_decay else None
    # on CUDA the host must run ahead of the device; on a CPU the default path keeps the
    # proxy's numerics (its random draws) as they were
    sync_free = device.type == "cuda"
    model.use_static_shapes(sync_free)
    return TrainingSession(arch, config, device, train_set, evaluator, model, optimizer, scaler, average, use_amp, sync_free)
