"""Local transport: programs run in this process, interleaved."""

from __future__ import annotations

from nas.latency.runner import interleaved
from nas.latency.runtimes.base import LatencyRuntime
from nas.latency.transports.base import MeasureSettings, Transport, register_transport

__all__ = ["LocalTransport"]


@register_transport("local")
class LocalTransport(Transport):
    def measure(self, runtime: LatencyRuntime, names: list[str], settings: MeasureSettings) -> dict[str, list[float]]:
        timers = runtime.timers(names)
        try:
            return interleaved(timers, settings.warmup, settings.rounds, settings.seed, budget_ms=settings.budget_ms, min_rounds=settings.min_rounds)
        finally:
            timers.clear()  # drop loaded programs before the next chunk loads its own
