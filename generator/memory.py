"""Which allocator holds the simulator's Arrow buffers.

Every slice allocates and frees the same few hundred MB (event tables, ~60 MB of DynamoDB JSON, sort copies), from
two threads. pyarrow's default pool (mimalloc) kept ~140 MB of those freed pages resident per slice even when asked
to release them after each slice (`release_unused`), and how much it kept grew with the scale (more, smaller
pieces: at scale 4 the end-to-end peak was 18% above scale 1's). jemalloc with a decay time of 0 gives freed pages
back at once: the peaks follow the live data (docs/generator.md, "Peak memory").
"""

from __future__ import annotations

import os

import pyarrow as pa

DECAY_MS = 0  # jemalloc returns dirty pages at once (a longer decay kept ~50-100 MB more at the end-to-end peak)


def use_prompt_release_pool() -> None:
    """Make jemalloc (decay 0) pyarrow's default memory pool for this process, unless the user chose a pool with
    ARROW_DEFAULT_MEMORY_POOL or this pyarrow has no jemalloc. Buffers already allocated stay with their pool."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(DECAY_MS)
    except NotImplementedError:  # pyarrow built without jemalloc (e.g. some non-Linux wheels)
        return
    pa.set_memory_pool(pool)
