"""Transport registry: where programs run (this process, or a device behind a command)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nas.errors import LatencyError
from nas.latency.runner import MIN_ROUNDS
from nas.latency.runtimes.base import LatencyRuntime
from nas.registry import Registry, subclass_of

__all__ = ["MeasureSettings", "Transport", "TRANSPORTS", "register_transport"]


@dataclass(frozen=True)
class MeasureSettings:
    """How each op is timed.

    Attributes:
        warmup: untimed runs of each program before timing.
        rounds: timed runs of each program (interleaved, see :mod:`nas.latency.runner`).
        seed: shuffle seed of the interleaving.
        budget_ms: timed-run time each op aims at (ms): an op slower than
            ``budget_ms / rounds`` gets fewer rounds (at least ``min_rounds``) and warm-ups
            (at least two); None times every op ``warmup`` + ``rounds`` times.
        min_rounds: the fewest timed runs of an op under a budget.
    """

    warmup: int = 5
    rounds: int = 15
    seed: int = 0
    budget_ms: float | None = None
    min_rounds: int = MIN_ROUNDS

    def __post_init__(self) -> None:
        if self.warmup < 0 or self.rounds < 1 or self.min_rounds < 1 or (self.budget_ms is not None and self.budget_ms < 0):
            raise LatencyError(f"measurement settings out of range: warmup {self.warmup} (>= 0), rounds {self.rounds} (>= 1), "
                               f"min_rounds {self.min_rounds} (>= 1), budget_ms {self.budget_ms} (>= 0 or None)")


class Transport(ABC):
    """Runs a chunk of programs somewhere and returns their raw samples (ms)."""

    name: str = "transport"

    def describe(self) -> dict[str, Any]:
        """What meta.json records about the transport and the device."""
        return {"transport": self.name}

    def fingerprint(self, runtime: LatencyRuntime) -> dict[str, Any]:
        """The timing device's fingerprint (:mod:`nas.latency.fingerprint`); default: this machine."""
        from nas.latency.fingerprint import local_fingerprint

        return local_fingerprint(runtime.device)

    @abstractmethod
    def measure(self, runtime: LatencyRuntime, names: list[str], settings: MeasureSettings) -> dict[str, list[float]]:
        """Time ``names`` with ``runtime``; name -> samples in ms."""


TRANSPORTS: Registry[type[Transport]] = Registry("transport", subclass_of(Transport))


def register_transport(name: str) -> Callable[[type[Transport]], type[Transport]]:
    """Class decorator registering a transport under ``name`` (also its ``name`` attribute)."""
    return TRANSPORTS.decorator(name, attribute="name")
