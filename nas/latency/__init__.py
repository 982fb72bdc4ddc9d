"""Per-op latency: op keys, runtimes, transports, tables, prediction and validation."""

from __future__ import annotations
