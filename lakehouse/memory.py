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


def own_peak_rss_mb() -> float:
    """This process's peak resident set size in MB. Linux's `ru_maxrss` survives `exec`, so a child spawned by a big
    parent would report the parent's peak; `VmHWM` belongs to the process's own address space."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # no procfs (macOS): ru_maxrss, in KiB on Linux-likes
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
