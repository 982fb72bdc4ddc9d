"""Exceptions a user can act on.

Every error raised for bad input derives from :class:`NasError`. Its message says what
was wrong, where, and what to do; the CLI prints it as one line and exits non-zero
instead of showing a traceback.
"""

from __future__ import annotations

__all__ = [
    "NasError",
    "SpecError",
    "RegistryError",
    "SearchSpaceError",
    "DataError",
    "LatencyError",
    "TableError",
    "MissingKeysError",
    "DeviceError",
    "SupernetError",
]


class NasError(Exception):
    """Base class of all errors caused by user input or user files."""


class SpecError(NasError, ValueError):
    """A malformed architecture spec string, JSON or value."""


class RegistryError(NasError, KeyError):
    """An unknown name looked up in a registry (block, neck, runtime, ...)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class SearchSpaceError(NasError, ValueError):
    """An invalid search-space YAML file."""


class DataError(NasError, ValueError):
    """Malformed dataset files (annotations, images, body surface)."""


class EvalError(NasError, ValueError):
    """Malformed DensePose results or an evaluation that cannot run as asked."""


class LatencyError(NasError, RuntimeError):
    """Profiling or latency prediction failed (runtime, device, measurement)."""


class TableError(LatencyError, ValueError):
    """A latency table is missing, corrupt or belongs to another format/device/space."""


class MissingKeysError(TableError, KeyError):
    """Op keys an architecture needs are not in the latency table."""

    def __init__(self, message: str, keys: list[str]) -> None:
        super().__init__(message)
        self.keys = keys

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class DeviceError(LatencyError):
    """A remote device stopped answering or answered something unparsable."""


class SearchError(NasError, ValueError):
    """A search that cannot run as asked (bad option, table/space mismatch, cluster, resume)."""


class ResultsError(NasError, ValueError):
    """A search results folder that is missing, corrupt or incomplete."""


class ExportError(NasError, RuntimeError):
    """An architecture that cannot be exported as asked."""


class SupernetError(NasError, ValueError):
    """A supernet asked for what it does not hold (an architecture outside its space, a
    block type or neck variant without an elastic version)."""


class Interrupted(NasError):
    """Work the user stopped (Ctrl-C); the message says how to continue it."""
