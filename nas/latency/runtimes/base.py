"""Runtime registry: how a program is turned into something timed, locally or remotely."""

from __future__ import annotations

import os
import platform
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from nas.errors import LatencyError
from nas.io import excerpt
from nas.latency.runner import TimedFn
from nas.registry import Registry, subclass_of

__all__ = ["LatencyRuntime", "RUNTIMES", "register_runtime", "get_runtime", "cpu_model"]


def cpu_model() -> str:
    """The CPU model name (``/proc/cpuinfo``), or the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


class LatencyRuntime(ABC):
    """A way of running programs (ops or whole models) and timing them.

    Args:
        device: ``cpu`` or ``cuda`` (where the runtime supports it).
        threads: intra-op threads (0: the runtime's default).
        dtype: numeric flavour (``fp32``).
        cache: program cache folder (runtimes with on-disk programs).
    """

    name: ClassVar[str]
    devices: ClassVar[tuple[str, ...]] = ("cpu",)
    remote: ClassVar[bool] = False  # whether programs exist as files a device can run

    def __init__(self, device: str = "cpu", threads: int = 1, dtype: str = "fp32", cache: str | Path | None = None) -> None:
        if device not in self.devices:
            raise LatencyError(f"runtime {self.name!r} runs on {', '.join(self.devices)}, not {excerpt(device)}; pick --device {self.devices[0]} or another --runtime")
        self.device, self.threads, self.dtype, self.cache = device, threads, dtype, cache

    def info(self) -> dict[str, Any]:
        """What meta.json records about the runtime and the local machine."""
        return {
            "runtime": self.name,
            "device": self.device,
            "threads": self.threads,
            "dtype": self.dtype,
            "cpu_model": cpu_model(),
            "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [],
            "machine": platform.machine(),
        }

    def prepare(self, names: list[str], workers: int = 1) -> None:  # noqa: B027 - optional hook
        """Build whatever must exist before timing (on-disk programs); default nothing."""

    def unbuilt(self, names: list[str]) -> list[str]:
        """Names whose programs :meth:`prepare` would still have to build (default none)."""
        return []

    @abstractmethod
    def timers(self, names: list[str]) -> dict[str, TimedFn]:
        """Load ``names`` for timing in this process: name -> run-once-and-return-ms."""

    def program_file(self, name: str) -> Path:
        """The file a remote device runs for ``name``."""
        raise LatencyError(f"runtime {self.name!r} has no program files to push to a device; use --runtime executorch with --remote")


RUNTIMES: Registry[type[LatencyRuntime]] = Registry("runtime", subclass_of(LatencyRuntime))


def register_runtime(name: str) -> Callable[[type[LatencyRuntime]], type[LatencyRuntime]]:
    """Class decorator registering a runtime under ``name`` (also its ``name`` attribute)."""
    return RUNTIMES.decorator(name, attribute="name")


def get_runtime(name: str, **kwargs: Any) -> LatencyRuntime:
    """Instantiate a registered runtime; unknown names list the known ones."""
    return RUNTIMES.get(name)(**kwargs)
