"""Landing files: gzipped JSONL per table and event date, `<root>/<table>/dt=YYYY-MM-DD/part-<batch>.jsonl.gz`.
Each batch (slice) writes its own part, so later slices add files to earlier dates (late records) without rewriting."""

from __future__ import annotations

import gzip
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from generator.writers.lines import line_bytes

EPOCH = date(1970, 1, 1)


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip (no timestamp, no file name in the header)."""
    return gzip.compress(data, compresslevel=6, mtime=0)


class LandingWriter:
    def __init__(self, out_dir: Path) -> None:
        self.root = out_dir / "landing"
        self.counts: Counter[str] = Counter()
        self.files = 0
        self._batches = 0  # part number: one per write call, so later batches never overwrite earlier parts

    def write(self, records: pa.Table) -> None:
        """`records` sorted by (table, day, emit order)."""
        if records.num_rows == 0:
            return
        part = self._batches
        self._batches += 1
        tables = records.column("table").to_numpy(zero_copy_only=False)
        days = records.column("day").to_numpy()
        boundaries = np.flatnonzero((tables[1:] != tables[:-1]) | (days[1:] != days[:-1])) + 1
        starts = np.concatenate([[0], boundaries])
        ends = np.concatenate([boundaries, [len(days)]])
        lines = records.column("line")
        for start, end in zip(starts, ends, strict=True):
            table, day = str(tables[start]), EPOCH + timedelta(days=int(days[start]))
            folder = self.root / table / f"dt={day.isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"part-{part:05d}.jsonl.gz").write_bytes(gzip_bytes(line_bytes(lines.slice(start, end - start))))
            self.counts[table] += int(end - start)
            self.files += 1
