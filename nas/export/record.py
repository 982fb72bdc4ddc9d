"""The proxy's measured record: how well it ranks architectures, for the settings it was
measured with (``proxy_record.json`` beside this module, shipped with the package).

The figures are data, not text: they come from benchmark reports (each figure names its
report, key and command) and hold for one proxy only. :func:`measured_record` returns them
for a run whose proxy has those settings, and None for any other proxy, so that a model
card never carries one proxy's figures for another.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from nas.train.config import as_recorded_now

__all__ = ["ProxyRecord", "measured_record", "shipped_record", "RECORD_FILE"]

RECORD_FILE = Path(__file__).with_name("proxy_record.json")
# where and from which seed a proxy trial ran: the record spans seeds and machines
_NOT_SETTINGS = ("device", "threads", "seed")


@dataclass(frozen=True)
class ProxyRecord:
    """The measured figures of one proxy.

    Attributes:
        proxy: the training settings (``TrainConfig.to_dict()``) they were measured for.
        scene: the synthetic scene preset of the data.
        images: the data sizes (images, 80% train) the figures were measured on, ascending.
        long_factor: how many times the proxy's steps the reference training ran.
        neck_pairs_ordered_alike: share of (single-level, multi-level neck) pairs ordered as
            the long training orders them.
        seed_median_abs_difference: median GPS AP difference between two seeds, points.
        kendall_tau_range: lowest and highest Kendall tau against the long training.
        pooled_kendall_tau, pooled_over: the tau over the fidelity samples pooled, and over
            how many networks.
        metric: the GPS AP rules the figures were scored with: ``"official"`` (DensePose's
            evaluator, the default since issue 35) or ``"project"`` (the former rules,
            :data:`nas.eval.options.PROJECT`).
    """

    proxy: dict[str, Any]
    scene: str
    images: tuple[int, ...]
    long_factor: float
    neck_pairs_ordered_alike: float
    seed_median_abs_difference: float
    kendall_tau_range: tuple[float, float]
    pooled_kendall_tau: float
    pooled_over: int
    metric: str = "official"

    def measured_for(self, proxy: Mapping[str, Any]) -> bool:
        """Whether ``proxy`` (a ``TrainConfig.to_dict()``, as a run records it) has the
        settings this record was measured for; a setting recorded before it existed reads
        as its neutral value, and device, threads and seed do not count."""
        return _settings(proxy) == _settings(self.proxy)


def _settings(proxy: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in as_recorded_now(proxy).items() if k not in _NOT_SETTINGS}


@cache
def shipped_record() -> ProxyRecord:
    """The record in :data:`RECORD_FILE`."""
    data = json.loads(RECORD_FILE.read_text())
    figures = {name: figure["value"] for name, figure in data["figures"].items()}
    images = sorted({source["images"] for figure in data["figures"].values() for source in figure["sources"]})
    return ProxyRecord(proxy=data["proxy"], scene=data["scene"], images=tuple(images), long_factor=data["long_factor"],
                       neck_pairs_ordered_alike=figures["neck_pairs_ordered_alike"],
                       seed_median_abs_difference=figures["seed_median_abs_difference"],
                       kendall_tau_range=tuple(figures["kendall_tau_range"]),  # type: ignore[arg-type]
                       pooled_kendall_tau=figures["pooled_kendall_tau"], pooled_over=data["figures"]["pooled_kendall_tau"]["over"],
                       metric=data["metric"])


def measured_record(proxy: Mapping[str, Any]) -> ProxyRecord | None:
    """The shipped record when it was measured for ``proxy``'s settings, else None."""
    record = shipped_record()
    return record if record.measured_for(proxy) else None
