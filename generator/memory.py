"""Which allocator holds the simulator's Arrow buffers.

Every slice allocates and frees the same few hundred MB from two threads. pyarrow's default pool (mimalloc) kept
~140 MB of those freed pages resident per slice even when asked to release them after each slice
(`release_unused`), and how much it kept grew with the scale (at scale 4 the end-to-end peak was 18% above scale
1's). jemalloc gives freed pages back after a decay time, and that time is a trade-off measured per workload
(docs/generator.md, "Peak memory"):

- with JSON encoding (~60 MB of DynamoDB JSON per slice, built, sorted and written several times): decay 0, i.e.
  at once; a longer decay kept ~50-100 MB more at the peak;
- rows only (`Simulation(encode=False)`, the benchmark's arrow phase): decay 1 s; decay 0 cost ~30% more CPU
  (freed pages are faulted in again at once) for ~10 MB less peak.

glibc's malloc (numpy's temporaries) is trimmed by the router after routing steps (`lakehouse.memory.trim_malloc`):
the freed pages go back to the OS and the next slice faults them in again. With JSON encoding (DuckDB's results live
there too) after every step; rows only after every second step: at scale 1 (31 days) ~200k minor page faults
instead of ~250k and 0.1-0.2 s less system CPU (scale 4: ~0.8M instead of ~1.04M, 0.6-0.8 s), for a peak 1-5 MB
higher; never trimming made ~120k faults but a peak 5-20 MB higher.

`pa.jemalloc_set_decay_ms` sets the default for arenas created afterwards: arenas that exist keep theirs, so in a
process the first simulation's setting mostly stays (the benchmark runs its JSON phase in a fresh process).

The `lakehouse` command also makes jemalloc Arrow's C++ default pool before pyarrow loads
(`prefer_jemalloc_process_wide`), so the Parquet writer's buffers, which never pass through pyarrow's pool, are
returned as promptly.
"""

from __future__ import annotations

import os
import sys

ARROW_POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"  # read by Arrow's C++ library once, when it first needs a pool
DECAY_MS_WITH_JSON = 0
DECAY_MS_ROWS_ONLY = 1000
TRIM_EVERY_WITH_JSON = 1  # routing steps between glibc trims
TRIM_EVERY_ROWS_ONLY = 2


def prefer_jemalloc_process_wide() -> bool:
    """Before pyarrow loads: make jemalloc Arrow's C++ default pool for this process, unless the user chose one.

    `pa.set_memory_pool` (below) changes only the pool pyarrow's Python API allocates from; Arrow's C++ code that
    allocates on its own, the Parquet writer's column buffers among it, keeps the C++ default pool, mimalloc, which
    held ~70-90 MB of freed pages at the end-to-end peak at scale 1 and 4 alike (docs/generator.md, "Peak
    memory"). The environment variable is the only switch, and only before Arrow's C++ library is loaded: returns
    False (and changes nothing) when pyarrow is already imported."""
    if "pyarrow" in sys.modules:
        return False
    os.environ[ARROW_POOL_ENV] = chosen_arrow_pool()
    return True


def chosen_arrow_pool() -> str:
    """The pool the user named in ARROW_DEFAULT_MEMORY_POOL, else jemalloc (the simulator's choice)."""
    return os.environ.get(ARROW_POOL_ENV, "jemalloc")


def use_jemalloc_pool(decay_ms: int) -> None:
    """Make jemalloc with `decay_ms` pyarrow's default memory pool for this process, unless the user chose another
    pool with ARROW_DEFAULT_MEMORY_POOL or this pyarrow has no jemalloc. Buffers already allocated stay with their
    pool."""
    import pyarrow as pa

    if chosen_arrow_pool() != "jemalloc":
        return
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(decay_ms)
    except NotImplementedError:  # pyarrow built without jemalloc (e.g. some non-Linux wheels)
        return
    pa.set_memory_pool(pool)
