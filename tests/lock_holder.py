"""Another process holding a folder lock, for the one-writer tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def lock_held_elsewhere(imports: str, lock_expr: str) -> Iterator[subprocess.Popen[str]]:
    """A child process that runs ``imports`` then holds ``with lock_expr:`` until the block
    ends; it is SIGKILLed then, as a crashed writer would die."""
    code = f"import time; from pathlib import Path; {imports}\nwith {lock_expr}:\n    print('held', flush=True); time.sleep(120)"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()
