"""User behaviour as DynamoDB write requests, one per line in write order (`<out>/dynamodb/part-*.jsonl`):
`{"op":"put","item":{...}}` or `{"op":"delete","key":{...}}` (docs/source-formats.md)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa

from generator.columns import pieces
from generator.encoding import DYNAMODB_LINES_PER_PIECE, Encoder
from generator.writers.lines import RollingJsonl


class DynamoDBWriter:
    """`encoder` encodes the typed write requests in this writer's thread: give it its own (one DuckDB connection
    serves one thread at a time, and the simulation's router thread uses the simulation's encoder meanwhile)."""

    def __init__(self, out_dir: Path, encoder: Encoder) -> None:
        self.files = RollingJsonl(str(out_dir / "dynamodb"))
        self.encoder = encoder
        self.counts: Counter[str] = Counter()  # table -> writes

    def write(self, writes: pa.Table) -> None:
        """One slice's sorted write requests, encoded to JSON and written a piece at a time (a slice's DynamoDB JSON
        is ~60 MB; its typed rows ~4x less)."""
        items = pieces(writes.column("item"), DYNAMODB_LINES_PER_PIECE)
        self.files.write((self.encoder.dynamodb_lines(piece, terminated=True) for piece in items), terminated=True)
        for table, n in zip(*_value_counts(writes.column("table")), strict=True):
            self.counts[table] += n

    def close(self) -> None:
        self.files.close()


def _value_counts(column: pa.ChunkedArray) -> tuple[list[str], list[int]]:
    counts = column.value_counts()
    return counts.field("values").to_pylist(), counts.field("counts").to_pylist()
