"""Giving freed memory back to the operating system.

Long-running loops (the simulator's slices, silver apply's ranges) free large buffers that glibc's malloc keeps in
its arenas for reuse, so the resident size ratchets up to the largest step seen plus whatever the next step
allocates beside it. `trim_malloc` returns those pages. It takes the arenas' locks for a few milliseconds, so call
it between steps, not in a tight loop.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to do
        return None


def trim_malloc() -> None:
    """Give free memory in malloc's arenas (Arrow's system pool, DuckDB results, numpy, delta-rs) back to the OS."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
