"""One writer per folder: a search run's driver, a latency table's profiler.

Two drivers on one run would both rewrite ``trials.parquet`` from their own view (rows of
the other lost) and each would settle the other's running trials as dead ones; two
profiles of one table would each save their own rows over the other's. The writer holds
an exclusive OS lock on a file in the folder while it runs. The kernel drops the lock
with the process, so a writer killed with SIGKILL leaves nothing to clean up and the next
run continues at once; ``lockf`` locks are also honoured by NFS servers, where a
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

from nas.errors import NasError

__all__ = ["FolderBusyError", "folder_lock"]


class FolderBusyError(NasError, RuntimeError):
    """Another process is writing the folder."""


@contextmanager
def folder_lock(folder: Path, name: str, what: str, then: str, target: Path | None = None) -> Iterator[None]:
    """Hold the lock file ``folder/name`` for the ``with`` block; if another process holds
    it, raise :class:`FolderBusyError` naming ``what`` runs there (on ``target``, default
    ``folder``: a lock beside a folder guards that folder), its pid and host, and ``then``
    (what to do once it has ended)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = path.read_text(errors="replace").strip() or "a process that wrote no details"
            raise FolderBusyError(f"another {what} is running on {target or folder} ({holder}); wait for it to end or stop it, "
                                  f"then {then}") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock
