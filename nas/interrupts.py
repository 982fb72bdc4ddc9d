"""Ctrl-C held back while a write that must not be cut in half runs.

Python raises ``KeyboardInterrupt`` between any two bytecodes. Inside a write that takes
a lock file, appends and releases the lock (Optuna's journal), an interrupt at the wrong
instruction leaves the lock behind, or replaces itself with an ``OSError`` from the
clean-up (a journal lock's release ran ``unlink`` on a file its interrupted ``rename``
never made), so the driver reported a missing ``….rename`` file instead of stopping
with its resume hint. Held back, the interrupt is raised as soon as the write is whole.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["interrupts_deferred"]


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Run the ``with`` block with SIGINT recorded rather than raised; raise
    ``KeyboardInterrupt`` after the block if one arrived. Outside the main thread, where
    Python delivers no signals, and when SIGINT is not Python's default handler (a caller
    installed its own), the block runs as it is."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    arrived: list[int] = []

    def record(signum: int, frame: FrameType | None) -> None:
        arrived.append(signum)

    signal.signal(signal.SIGINT, record)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if arrived:
        raise KeyboardInterrupt
