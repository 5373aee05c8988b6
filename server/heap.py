"""The C heap of a serving process: at most two glibc malloc arenas.

glibc gives a thread that allocates while another holds the heap an arena of its own (up to
eight per core) and keeps what is freed there for that arena's next use. In a server whose
request threads and background builds come and go, each new arena keeps some megabytes, so
the process grew after each export (benchmarks/export_memory.py). Python threads take turns
on the GIL anyway, so two arenas cost no speed. ``MALLOC_ARENA_MAX`` in the environment, which
glibc reads itself, still decides when set.
"""

from __future__ import annotations

import ctypes
import os

__all__ = ["limit_arenas"]

M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h
ARENAS = 2


def limit_arenas(count: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``count``; False where the C library is not glibc or the
    environment already says (``MALLOC_ARENA_MAX``). Call before threads start allocating."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, count))
    except (OSError, AttributeError):  # not glibc (musl, macOS): its own allocator decides
        return False
