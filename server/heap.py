"""The C heap of a serving process: at most two glibc malloc arenas, and freed heap handed
back to the system after each background job.

glibc gives a thread that allocates while another holds the heap an arena of its own (up to
eight per core) and keeps what is freed there for that arena's next use. In a server whose
request threads and background builds come and go, each new arena keeps some megabytes, so
the process grew after each export (benchmarks/export_memory.py). Python threads take turns
on the GIL anyway, so two arenas cost no speed. ``MALLOC_ARENA_MAX`` in the environment, which
glibc reads itself, still decides when set.

A job (a dataset build) frees its working set when it ends, but glibc keeps the freed pages
mapped for the process's next allocation: about 13 MiB after each 10k-item export round
(benchmarks/export_memory.py ``--detail``). ``malloc_trim`` returns them, once per job.
"""

from __future__ import annotations

import ctypes
import os

__all__ = ["give_back", "limit_arenas"]

M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h
ARENAS = 2


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, macOS): its own allocator decides
        return None


def limit_arenas(count: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``count``; False where the C library is not glibc or the
    environment already says (``MALLOC_ARENA_MAX``). Call before threads start allocating."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    libc = _libc()
    return libc is not None and hasattr(libc, "mallopt") and bool(libc.mallopt(M_ARENA_MAX, count))


def give_back() -> bool:
    """Return the heap's free pages to the system (``malloc_trim``); False without glibc."""
    libc = _libc()
    return libc is not None and hasattr(libc, "malloc_trim") and bool(libc.malloc_trim(0))
