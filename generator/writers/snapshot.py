"""The ground truth: the final state of every contract table under `<out>/snapshot/<table>.parquet/`, schema exactly
`contract.arrow_schema()`. Rows arrive slice by slice (row groups), entity tables at the end.

Each table is a folder of Parquet parts (`part-00000.parquet`, ...), as Spark writes a table, and readers take the
folder as one dataset (`pq.read_table(path)`, `read_parquet('<path>/*.parquet')`). A Parquet writer keeps the
metadata of every row group it wrote (~1 KB per column chunk) until its file is closed, and a slice adds a row group
to every table: in one file per table that grew with the run (~5 MB at scale 1 and ~19 MB at scale 4 after 31
days, ~10x that after a year). A part is closed after ROW_GROUPS_PER_PART row groups, so it stays bounded.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lakehouse.contract import TABLES

ROW_GROUPS_PER_PART = 32
ROW_GROUP_ROWS = 1_000_000


def snapshot_parts(snapshot_dir: Path, table: str) -> list[Path]:
    """A table's parts in the order they were written."""
    return sorted((snapshot_dir / f"{table}.parquet").glob("part-*.parquet"))


class SnapshotWriter:
    def __init__(self, out_dir: Path) -> None:
        self.folder = out_dir / "snapshot"
        self.folder.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._row_groups: Counter[str] = Counter()  # in the part being written
        self._parts: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()

    def write(self, table: str, rows: pa.Table) -> None:
        schema = TABLES[table].arrow_schema()
        if rows.schema != schema:
            raise ValueError(f"{table}: snapshot rows do not match the contract schema:\n{rows.schema}")
        if table in self._writers and self._row_groups[table] >= ROW_GROUPS_PER_PART:
            self._writers.pop(table).close()
        if table not in self._writers:
            folder = self.folder / f"{table}.parquet"
            folder.mkdir(exist_ok=True)
            path = folder / f"part-{self._parts[table]:05d}.parquet"
            self._writers[table] = pq.ParquetWriter(path, schema, compression="zstd")
            self._parts[table] += 1
            self._row_groups[table] = 0
        self._writers[table].write_table(rows, row_group_size=ROW_GROUP_ROWS)
        self._row_groups[table] += max(1, math.ceil(rows.num_rows / ROW_GROUP_ROWS))
        self.counts[table] += rows.num_rows

    def close(self) -> None:
        for name in TABLES:
            if not self._parts[name]:  # an empty table still gets a part with its schema
                self.write(name, TABLES[name].arrow_schema().empty_table())
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
