"""Keep freed memory in the process (glibc malloc), so large tensors are not page-faulted in anew.

glibc serves every allocation above its mmap threshold (at most 32 MB, dynamic) with a fresh
``mmap`` and returns it with ``munmap`` when freed; the heap top is trimmed back to the OS too.
A GNN step allocates and frees tensors of tens to hundreds of MB (an ``(E, H)`` edge state, a
kNN distance block), so each one costs a page fault per 4 KB page on first touch. On the 2-core
CPU this was half the time of a ``4029 x 4029`` distance product (78 ms -> 47 ms) and most of the
spread between repeated EggNet forwards (1.1-2.1 s -> 1.02-1.08 s per real event). PyTorch's CPU
tuning guide recommends jemalloc or tcmalloc for the same reason; this is the same effect with
the allocator every Linux machine has.

The cost: memory freed by the process is kept for reuse rather than given back, so the resident
size stays near the peak of what was live. Full-density peaks moved by -0.7 to +0.24 GB per family
with all the speed-ups of the same change (benchmarks/results/bench_trackml-full_*).
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

ENV = "TRACKCORE_MALLOC_TUNING"
"""Set to ``0`` to leave glibc's defaults alone."""

MMAP_THRESHOLD = 1 << 30
"""Allocations above this still get their own ``mmap`` (1 GiB)."""

TRIM_THRESHOLD = (1 << 31) - 1
"""Free memory kept at the top of the heap before it is returned to the OS (the largest value ``mallopt`` takes)."""

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_applied: bool | None = None


def _glibc(name: str) -> Any:
    """glibc's function ``name``, or None (musl and others: no libc.so.6, or no such function)."""
    try:
        return getattr(ctypes.CDLL("libc.so.6"), name)
    except (OSError, AttributeError):
        return None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process (once); whether they are set.

    Nothing happens (``False``) off Linux, with a C library other than glibc, or with
    ``TRACKCORE_MALLOC_TUNING=0`` in the environment.
    """
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get(ENV, "1") == "0" or not sys.platform.startswith("linux"):
        return False
    mallopt = _glibc("mallopt")
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _applied


def keeps_freed_memory() -> bool:
    """Whether :func:`keep_freed_memory` has set the thresholds in this process (it is not called here)."""
    return bool(_applied)


def release_freed_memory() -> bool:
    """Give the memory this process has freed back to the OS now (glibc ``malloc_trim``); whether it could.

    For measurements of peak memory one after another (``trackcore bench --scaling``): what the
    previous measurement freed is not counted as resident in the next.
    """
    trim = _glibc("malloc_trim")
    if trim is None:
        return False
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)
    return True
