"""User behaviour as DynamoDB write requests, one per line in write order (`<out>/dynamodb/part-*.jsonl`):
`{"op":"put","item":{...}}` or `{"op":"delete","key":{...}}` (docs/source-formats.md)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa

from generator.writers.lines import RollingJsonl


class DynamoDBWriter:
    def __init__(self, out_dir: Path) -> None:
        self.files = RollingJsonl(str(out_dir / "dynamodb"))
        self.counts: Counter[str] = Counter()  # table -> writes

    def write(self, writes: pa.Table) -> None:
        self.files.write(writes.column("line"))
        for table, n in zip(*_value_counts(writes.column("table")), strict=True):
            self.counts[table] += n

    def close(self) -> None:
        self.files.close()


def _value_counts(column: pa.ChunkedArray) -> tuple[list[str], list[int]]:
    counts = column.value_counts()
    return counts.field("values").to_pylist(), counts.field("counts").to_pylist()
