"""A reused trial worker hands freed memory back to the OS after each trial."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
import sys

import pytest

SCRIPT = """
import os
from nas.search.trial import release_freed_memory

def rss_mb():
    return int(open(f"/proc/{os.getpid()}/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

chunks = [bytearray(100_000) for _ in range(3000)]  # 300 MB of heap, below the mmap threshold
last = chunks[-1]  # kept: the heap top stays in use, so glibc cannot shrink it by itself
del chunks
before = rss_mb()
release_freed_memory()
print(before, rss_mb())
"""


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's malloc_trim")
def test_freed_heap_is_returned():
    # no automatic trimming and no mmap for the chunks: the freed 300 MB stay resident
    # until release_freed_memory asks glibc for them
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": str(2**40), "MALLOC_MMAP_THRESHOLD_": str(1 << 20)}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True).stdout
    before, after = (float(x) for x in out.split())
    assert before - after > 200, (before, after)


def test_without_malloc_trim(monkeypatch):
    import ctypes

    from nas.search import trial

    def no_libc(*args, **kwargs):
        raise OSError("no C library here")

    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    # a fresh lookup through the patched loader (the cached one is restored afterwards)
    monkeypatch.setattr(trial, "_malloc_trim", functools.cache(trial._malloc_trim.__wrapped__))
    trial.release_freed_memory()  # a C library without malloc_trim: nothing to do, no error
