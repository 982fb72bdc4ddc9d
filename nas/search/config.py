"""The resolved configuration of a search run, saved as ``results/RUN/config.json``.

``--resume`` reads it back so that a continued run uses exactly the same space, table,
data, proxy, objective and sampler; only the cluster options may differ.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from nas.errors import SearchError
from nas.io import excerpt
from nas.search.objective import Objective
from nas.search.samplers import SAMPLERS
from nas.space.references import DENSEPOSE_BASELINES
from nas.train.budget import Budget
from nas.train.config import TrainConfig, as_recorded_now

__all__ = ["SearchConfig", "proxy_from_dict"]

FORMAT = "nas-search-run"


def proxy_from_dict(data: dict[str, Any]) -> TrainConfig:
    """Inverse of ``TrainConfig.to_dict`` (budget and input size back to their types); a
    run recorded before a setting existed resumes with that setting as it then was."""
    data = as_recorded_now(data)
    data["budget"] = Budget(**data["budget"])
    data["input_size"] = tuple(data["input_size"])
    return TrainConfig(**data)


@dataclass(frozen=True)
class SearchConfig:
    """Everything a search run needs (paths are stored absolute).

    Attributes:
        space, table, data, out: search-space YAML, latency table folder, dataset folder
            or descriptor YAML (:mod:`nas.data.source`) and the run folder.
        trials: architectures to train (rejected ones are not counted: they cost nothing).
        sampler: a key of :data:`nas.search.samplers.SAMPLERS`.
        objective: what Optuna optimises.
        max_latency_ms: architectures predicted slower are rejected before training.
        baselines: reference architectures trained in the same run under the same proxy.
        proxy: the proxy training settings of every trial.
        asha: stop poor trials early at the proxy's evaluation points.
        seed: sampler seed.
        max_failures: retries of a trial that raised or whose node died.
        address: Ray cluster (None: a local Ray instance).
        cpus_per_trial, gpus_per_trial: resources of one trial.
        supernet: folder of a trained supernet of the space (``nas supernet train``): each
            candidate is scored with the weights it inherits from it
            (:mod:`nas.supernet.scoring`) instead of being proxy-trained; None: the proxy.
        supernet_bn_batches, supernet_finetune_steps: how a candidate is scored from it
            (batch-norm recalibration batches, fine-tuning steps); the proxy's validation
            images and seed are used.
    """

    space: str
    table: str
    data: str
    out: str
    trials: int
    sampler: str = "tpe"
    objective: Objective = field(default_factory=Objective)
    max_latency_ms: float | None = None
    baselines: tuple[str, ...] = DENSEPOSE_BASELINES
    proxy: TrainConfig = field(default_factory=TrainConfig)
    asha: bool = False
    seed: int = 0
    max_failures: int = 3
    address: str | None = None
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    supernet: str | None = None
    supernet_bn_batches: int = 16
    supernet_finetune_steps: int = 0

    def __post_init__(self) -> None:
        if self.trials < 0:
            raise SearchError(f"--trials must be >= 0, got {self.trials}")
        SAMPLERS.get(self.sampler)  # an unknown sampler fails here, listing the known ones
        if self.max_latency_ms is not None and not 0 < self.max_latency_ms < math.inf:
            raise SearchError(f"--max-latency-ms must be positive and finite, got {self.max_latency_ms}")
        if not (0 < self.cpus_per_trial < math.inf and 0 <= self.gpus_per_trial < math.inf):
            raise SearchError(f"--cpus-per-trial must be > 0 and --gpus-per-trial >= 0, both finite, got {self.cpus_per_trial} and {self.gpus_per_trial}")
        if self.max_failures < 0:
            raise SearchError(f"--max-failures must be >= 0, got {self.max_failures}")
        if self.asha and self.proxy.evals < 2:
            raise SearchError("--asha needs at least 2 evaluation points per trial (--evals 2 or more) to stop anything early")
        if self.supernet is not None and self.asha:
            raise SearchError("--asha stops trials at their training's evaluation points, but a candidate scored from "
                              "--supernet is not trained: give one of the two")
        if self.supernet_bn_batches < 1 or self.supernet_finetune_steps < 0:
            raise SearchError(f"--supernet-bn-batches must be >= 1 and --supernet-finetune-steps >= 0, got "
                              f"{self.supernet_bn_batches} and {self.supernet_finetune_steps}")

    @property
    def scorer(self) -> str:
        """How candidates are scored: ``proxy`` (trained) or ``supernet`` (inherited weights)."""
        return "proxy" if self.supernet is None else "supernet"

    def supernet_settings(self) -> dict[str, Any] | None:
        """What a trial needs to score from the supernet (plain data), None without one."""
        if self.supernet is None:
            return None
        return {"folder": self.supernet, "bn_batches": self.supernet_bn_batches, "finetune_steps": self.supernet_finetune_steps,
                "val_images": self.proxy.val_images, "seed": self.proxy.seed}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["objective"] = asdict(self.objective)
        data["baselines"] = list(self.baselines)
        data["proxy"] = self.proxy.to_dict()
        return {"format": FORMAT, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchConfig:
        if data.get("format") != FORMAT:
            raise SearchError(f"not a search configuration (format {excerpt(data.get('format'))}, expected {FORMAT!r})")
        values = {k: v for k, v in data.items() if k != "format"}
        # runs started before the "learned" floor existed resume without one, as they began
        values["objective"] = Objective(**{"min_gps_ap": 0.0, **values["objective"]})
        values["baselines"] = tuple(values["baselines"])
        values["proxy"] = proxy_from_dict(values["proxy"])
        return cls(**values)

    def with_cluster(self, address: str | None, cpus_per_trial: float | None, gpus_per_trial: float | None) -> SearchConfig:
        """The same run on other resources (what ``--resume`` may change)."""
        return replace(self, address=address,
                       cpus_per_trial=self.cpus_per_trial if cpus_per_trial is None else cpus_per_trial,
                       gpus_per_trial=self.gpus_per_trial if gpus_per_trial is None else gpus_per_trial)
