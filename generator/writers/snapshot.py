"""The ground truth: the final state of every contract table as `<out>/snapshot/<table>.parquet`, schema exactly
`contract.arrow_schema()`. Rows arrive slice by slice (row groups), entity tables at the end."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lakehouse.contract import TABLES


class SnapshotWriter:
    def __init__(self, out_dir: Path) -> None:
        self.folder = out_dir / "snapshot"
        self.folder.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, pq.ParquetWriter] = {}
        self.counts: Counter[str] = Counter()

    def write(self, table: str, rows: pa.Table) -> None:
        schema = TABLES[table].arrow_schema()
        if rows.schema != schema:
            raise ValueError(f"{table}: snapshot rows do not match the contract schema:\n{rows.schema}")
        if table not in self._writers:
            self._writers[table] = pq.ParquetWriter(self.folder / f"{table}.parquet", schema, compression="zstd")
        self._writers[table].write_table(rows, row_group_size=1_000_000)
        self.counts[table] += rows.num_rows

    def close(self) -> None:
        for name in TABLES:
            if name not in self._writers:  # an empty table still gets a file with its schema
                self.write(name, TABLES[name].arrow_schema().empty_table())
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
