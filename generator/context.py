"""Shared state of a running simulation: config, the one random generator, id counters, the event sink of the
current slice and the snapshot rows produced so far."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from generator.config import SimulationConfig
from generator.events import Build, EventSink

MINUTE = 60_000_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NEVER = np.iinfo(np.int64).max // 4  # "does not happen"; far beyond any simulation end


@dataclass
class SimContext:
    config: SimulationConfig
    rng: np.random.Generator
    sink: EventSink
    snapshot: dict[str, list[pa.Table | Build]] = field(default_factory=lambda: defaultdict(list))
    _next_id: dict[str, int] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def end_us(self) -> int:
        return self.config.end_us

    def ids(self, kind: str, n: int) -> np.ndarray:
        """`n` new sequential ids (from 1) of one kind."""
        start = self._next_id.get(kind, 1)
        self._next_id[kind] = start + n
        return np.arange(start, start + n, dtype=np.int64)

    def keep(self, table: str, rows: pa.Table | Build) -> None:
        """Rows in their final state, for the ground-truth snapshot (or their deferred build, see events.Lazy)."""
        if not isinstance(rows, pa.Table) or rows.num_rows:
            self.snapshot[table].append(rows)
