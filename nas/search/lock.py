"""One driver per run folder.

Two drivers on one run would both rewrite ``trials.parquet`` from their own view (rows of
the other lost) and each would settle the other's running trials as dead ones. The driver
holds an exclusive OS lock on ``RUN/driver.lock`` while it runs. The kernel drops the
lock with the process, so a driver killed with SIGKILL leaves nothing to clean up and
``--resume`` continues at once; ``lockf`` locks are also honoured by NFS servers, where a
cluster's shared results folder usually lives.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nas.errors import SearchError

__all__ = ["LOCK_NAME", "driver_lock"]

LOCK_NAME = "driver.lock"


@contextmanager
def driver_lock(root: Path) -> Iterator[None]:
    """Hold ``root``'s driver lock for the ``with`` block; refuse if another process holds it."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = path.read_text(errors="replace").strip() or "a process that wrote no details"
            raise SearchError(f"another nas search driver is running on {root} ({holder}); wait for it to end "
                              f"or stop it, then continue the run with --resume") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock
