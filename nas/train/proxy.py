"""The default proxy: how every candidate of a search is trained and scored.

One place defines it so the search, the benchmarks and ``nas train`` agree. Training
is counted in optimiser steps, not seconds, so that every candidate sees the same
images whatever its speed and a run is reproducible on any machine.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from nas.train.budget import Budget
from nas.train.config import TrainConfig

if TYPE_CHECKING:
    from nas.data.synth.generate import SynthConfig

__all__ = ["DEFAULT_PROXY", "proxy_config", "proxy_data_config", "PROXY_DATA_IMAGES", "PROXY_SCENE",
           "benchmark_data"]

# Synthetic images rendered for searches and benchmarks when no data is given (80% train),
# with the scene preset made for the proxy (see nas.data.synth.scene.SCENE_PRESETS).
PROXY_DATA_IMAGES = 400
PROXY_SCENE = "proxy"

# 80 validation images: every val image of the default proxy data. With 40 the score
# itself was noisy: one trained densemobile scored GPS AP 11.8 on the first 40 val images
# and 6.4 on the other 40 (densesqueeze 17.3 / 25.2); 80 halve that variance for ~4 s
# more per evaluation.
DEFAULT_PROXY = TrainConfig(budget=Budget(steps=150), input_size=(256, 192), batch_size=4, evals=2, val_images=80)


def proxy_config(scale: float = 1.0, seed: int = 0, **changes: object) -> TrainConfig:
    """The default proxy with its step budget multiplied by ``scale`` (fidelity runs use 10)."""
    steps = max(1, round(DEFAULT_PROXY.budget.steps * scale))  # type: ignore[operator]
    return replace(DEFAULT_PROXY, budget=Budget(steps=steps), seed=seed, **changes)  # type: ignore[arg-type]


def proxy_data_config(images: int = PROXY_DATA_IMAGES, seed: int = 0, scene: str = PROXY_SCENE) -> SynthConfig:
    """The synthetic dataset searches and benchmarks render when none is given (``scene``:
    another preset, for proxy studies)."""
    # imported here: the CLI reads this module's constants on every start, the renderer pulls in scipy
    from nas.data.synth.generate import SynthConfig
    from nas.data.synth.scene import scene_preset

    return SynthConfig(images=images, seed=seed, scene=scene_preset(scene))


def benchmark_data(given: str | Path | None, cache: Path, images: int = PROXY_DATA_IMAGES, scene: str = PROXY_SCENE) -> Path:
    """The dataset a benchmark of the proxy trains on: ``given`` (a dataset folder or a
    descriptor YAML, checked as :meth:`nas.data.source.DatasetSource.load` does), else the
    proxy's synthetic set of ``images`` images of the ``scene`` preset in
    ``cache/bench_proxy_data`` (suffixed ``_N`` for another image count and ``_SCENE`` for
    another scene, so each kind has one folder that every benchmark reuses), rendered on
    first use. A ``given`` dataset that is missing or incomplete is a
    :class:`nas.errors.DataError` naming what is missing."""
    if given:
        from nas.data.source import DatasetSource
        from nas.errors import DataError

        try:
            DatasetSource.load(given)
        except DataError as err:
            raise DataError(f"{err}; or give none for the benchmark's own synthetic set") from None
        return Path(given)
    name = "bench_proxy_data" + (f"_{images}" if images != PROXY_DATA_IMAGES else "") + (f"_{scene}" if scene != PROXY_SCENE else "")
    out = cache / name
    if not (out / "annotations" / "val.json").exists():  # a render cut short is rendered again
        from nas.data import generate_dataset

        generate_dataset(out, proxy_data_config(images, scene=scene), workers=2, overwrite=True)
    return out
