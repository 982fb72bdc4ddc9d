"""One trial, run by Ray Tune on any node: count, proxy-train (or score from a supernet),
evaluate, report.

The trial reads and writes only its own folder ``RUN/trials/<trial>/`` (shared storage
on a cluster): ``log.txt``, the training checkpoint (so a retry after a node death
continues where the checkpoint was taken), ``metrics.json`` and finally ``model.pt``
(weights only). The final report carries ``final: True``; every earlier report is an
intermediate point that a scheduler may stop the trial at.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import io
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from nas.io import atomic_write_bytes, atomic_write_text
from nas.search.objective import Objective
from nas.search.resources import trial_device
from nas.space.spec import ArchSpec

__all__ = ["run_trial", "trial_settings", "TrialLog", "count_complexity", "release_freed_memory"]

ATTEMPTS_FILE = "attempts"


class TrialLog:
    """Appends timestamped lines to ``log.txt`` (each line flushed: a killed trial keeps its log)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path

    def __call__(self, message: str) -> None:
        with self.path.open("a") as handle:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")


def count_complexity(arch: ArchSpec) -> tuple[int, int]:
    """(params of the whole DensePose R-CNN, MACs of backbone + neck at the deploy input)."""
    from nas.model.complexity import count_macs, count_params
    from nas.model.features import FeatureNetwork
    from nas.model.rcnn import build_densepose_rcnn

    params = count_params(build_densepose_rcnn(arch))
    h, w = arch.input_size
    macs = count_macs(FeatureNetwork(arch), torch.randn(1, 3, h, w))
    return params, macs


def _node() -> str:
    import ray

    ctx = ray.get_runtime_context()
    return f"{ray.util.get_node_ip_address()}/{ctx.get_node_id()[:8]}"


def _bump_attempts(folder: Path) -> int:
    path = folder / ATTEMPTS_FILE
    attempt = (int(path.read_text()) if path.is_file() else 0) + 1
    atomic_write_text(path, str(attempt))
    return attempt


def trial_settings(out: str, data: str, proxy: dict[str, Any], objective: dict[str, Any], cpus: float,
                   supernet: dict[str, Any] | None = None) -> dict[str, Any]:
    """The static settings every trial of a run shares (plain data, shipped to workers);
    ``supernet``: :meth:`nas.search.config.SearchConfig.supernet_settings`."""
    return {"out": out, "data": data, "proxy": proxy, "objective": objective, "cpus": cpus, "supernet": supernet}


@functools.lru_cache(maxsize=1)
def _supernet_scorer(folder: str, data: str, bn_batches: int, finetune_steps: int, val_images: int | None, seed: int,
                     device: str) -> Any:
    """The scorer of a run's supernet, loaded once per worker process (weights, data,
    recalibration batches) for every trial the process runs."""
    from nas.supernet.scoring import ScoreConfig, SupernetScorer
    from nas.supernet.store import load_supernet

    config = ScoreConfig(bn_batches=bn_batches, finetune_steps=finetune_steps, val_images=val_images, seed=seed, device=device)
    return SupernetScorer(load_supernet(folder), data, config)


def _score_from_supernet(arch: ArchSpec, settings: dict[str, Any], device: str, log: TrialLog) -> tuple[dict[str, float], torch.nn.Module]:
    """``arch``'s metrics and scored model from the run's supernet (no training)."""
    chosen = settings["supernet"]
    scorer = _supernet_scorer(chosen["folder"], settings["data"], chosen["bn_batches"], chosen["finetune_steps"],
                              chosen["val_images"], chosen["seed"], device)
    score = scorer(arch)
    log(f"scored from the supernet in {chosen['folder']} ({scorer.trained.steps} steps): "
        + ", ".join(f"{k} {v:.1f} s" for k, v in score.seconds.items()))
    metrics = {**score.metrics, "steps": float(chosen["finetune_steps"]), "progress": 1.0,
               "train_seconds": score.seconds.get("finetune", 0.0), "scorer": "supernet"}
    return metrics, score.model


def run_trial(config: dict[str, Any], settings: dict[str, Any], report: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Ray Tune function trainable: ``config`` holds ``trial``, ``arch`` and ``latency_ms``."""
    import ray
    from ray import tune

    from nas.search.config import proxy_from_dict
    from nas.train import train

    send = report or tune.report
    started = time.perf_counter()
    folder = Path(settings["out"]) / "trials" / config["trial"]
    log = TrialLog(folder / "log.txt")
    attempt = _bump_attempts(folder)
    node = _node()
    torch.set_num_threads(max(1, int(settings["cpus"])))
    objective = Objective(**settings["objective"])
    arch = ArchSpec.from_string(config["arch"])
    latency = float(config["latency_ms"])
    log(f"attempt {attempt} on node {node}: {config['trial']} {arch.id} {arch.to_string()} latency {latency:.3f} ms")
    try:
        proxy = proxy_from_dict(settings["proxy"])
        # the GPU share Ray granted (if any) decides "auto"; recorded here and in metrics.json's config
        device, why = trial_device(proxy.device, ray.get_gpu_ids(), torch.cuda.is_available())
        log(f"device {device} ({why}; CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')})")
        params, macs = count_complexity(arch)
        log(f"params {params} MACs {macs}")
        common = {"trial": config["trial"], "latency_ms": latency, "params": params, "macs": macs, "node": node, "attempt": attempt}

        def intermediate(metrics: dict[str, float]) -> None:
            log(f"eval at step {int(metrics['steps'])}: GPS AP {metrics['gps_ap']:.3f} GPSm AP {metrics['gpsm_ap']:.3f}")
            if metrics["progress"] < 1.0:  # the final point is reported once the weights are saved
                send({**metrics, **common, "reward": objective.reward(metrics["gps_ap"], latency),
                      "asha_score": objective.asha_score(metrics["gps_ap"], latency), "final": False,
                      "wall_seconds": time.perf_counter() - started})

        if settings.get("supernet"):
            metrics, model = _score_from_supernet(arch, settings, device, log)
        else:
            result = train(arch, settings["data"], replace(proxy, device=device), out_dir=folder, resume=True,
                           report=intermediate, progress=False)
            assert result.model is not None
            metrics, model = {**result.metrics, "scorer": "proxy"}, result.model
        weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        buffer = io.BytesIO()
        torch.save({"arch": arch.to_string(), "state_dict": weights}, buffer)
        atomic_write_bytes(folder / "model.pt", buffer.getvalue())
        (folder / "checkpoint.pt").unlink(missing_ok=True)  # optimiser state: not needed once finished
        wall = time.perf_counter() - started
        log(f"finished: GPS AP {metrics['gps_ap']:.3f} in {wall:.1f} s")
        send({**metrics, **common, "reward": objective.reward(metrics["gps_ap"], latency),
              "asha_score": objective.asha_score(metrics["gps_ap"], latency), "final": True, "wall_seconds": wall})
    except BaseException:
        log("failed:\n" + traceback.format_exc())
        raise
    finally:
        release_freed_memory()


def release_freed_memory() -> None:
    """Hand memory freed by the finished trial back to the OS.

    A local search reuses worker processes, and glibc keeps freed heap pages. Measured in
    ``bench_search.py efficiency`` (default space, 2 reused workers): without this the
    workers' resident memory only grew, 0.9 GB -> 4.2 / 4.5 GB after ~6 trials each and
    5.6 / 6.6 GB after ~20 (enough to exhaust a 24 GB machine over a long search); with it
    they stayed between 0.9 and 1.9 GB over the next 56 trials. No-op where the C library
    has no ``malloc_trim`` (macOS, musl).
    """
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, looked up once per process (``find_library`` runs ldconfig)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None
