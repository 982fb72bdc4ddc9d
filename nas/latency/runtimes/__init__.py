"""Runtimes that time programs; importing registers ``executorch`` and ``torch``."""

from __future__ import annotations

from nas.latency.runtimes import executorch, torch  # noqa: F401 - registration
from nas.latency.runtimes.base import RUNTIMES, LatencyRuntime, get_runtime, register_runtime

__all__ = ["RUNTIMES", "LatencyRuntime", "get_runtime", "register_runtime"]
