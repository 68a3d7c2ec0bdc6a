"""The simulator's intermediate event batches, one Arrow schema per sink. Rows are encoded to JSON when they are
generated; batches carry the emit time (when the source commits/writes them) so the simulation can route them to
the slice in which they happen, in any order, and each writer sorts what it gets.

- CDC: one Debezium change per row; `tx_key` groups the changes of a transaction, `tx_pos` orders them.
- DynamoDB: one write request line per row, ordered by (emit_us, seq).
- Landing: one record line per row, partitioned by `day` (event date, days since epoch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from generator.columns import repeat
from generator.encoding import Encoder

CDC_SCHEMA = pa.schema(
    [
        ("emit_us", pa.int64()),
        ("tx_key", pa.int64()),
        ("tx_pos", pa.int32()),
        ("table", pa.string()),
        ("op", pa.string()),
        ("before", pa.string()),
        ("after", pa.string()),
        ("source_us", pa.int64()),
    ]
)
DYNAMODB_SCHEMA = pa.schema(
    [("emit_us", pa.int64()), ("seq", pa.int64()), ("table", pa.string()), ("line", pa.string())]
)
LANDING_SCHEMA = pa.schema(
    [("emit_us", pa.int64()), ("seq", pa.int64()), ("table", pa.string()), ("day", pa.int32()), ("line", pa.string())]
)


def _broadcast(value: np.ndarray | int, n: int, dtype: type) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=dtype), (n,))


@dataclass
class Batches:
    """Events of one kind of sink, accumulated as a list of Arrow tables."""

    schema: pa.Schema
    tables: list[pa.Table] = field(default_factory=list)

    def add(self, table: pa.Table) -> None:
        if table.num_rows:
            self.tables.append(table)

    def detach(self) -> list[pa.Table]:
        """The batches so far; the sink starts a new list."""
        tables, self.tables = self.tables, []
        return tables

    def extend(self, other: Batches) -> None:
        self.tables.extend(other.tables)

    def combined(self) -> pa.Table:
        if not self.tables:
            return self.schema.empty_table()
        return pa.concat_tables(self.tables).combine_chunks()

    @property
    def num_rows(self) -> int:
        return sum(t.num_rows for t in self.tables)


class EventSink:
    """Collects the events a slice generates: encodes rows and tags them with emit times and ordering keys.

    Without an encoder the rows are still built but not encoded (JSON columns are null): the benchmark's
    "generation to Arrow" figure."""

    def __init__(self, encoder: Encoder | None) -> None:
        self.encoder = encoder
        self.cdc = Batches(CDC_SCHEMA)
        self.dynamodb = Batches(DYNAMODB_SCHEMA)
        self.landing = Batches(LANDING_SCHEMA)
        self._seq = 0

    def _next_seq(self, n: int) -> np.ndarray:
        start = self._seq
        self._seq += n
        return np.arange(start, start + n, dtype=np.int64)

    def change(
        self,
        table: str,
        op: str,
        emit_us: np.ndarray | int,
        tx_key: np.ndarray,
        tx_pos: np.ndarray | int,
        source_us: np.ndarray | int,
        before: pa.Table | None = None,
        after: pa.Table | None = None,
    ) -> None:
        rows = after if after is not None else before
        assert rows is not None
        n = rows.num_rows
        if n == 0:
            return
        null_json = pa.nulls(n, pa.string())
        self.cdc.add(
            pa.Table.from_arrays(
                [
                    pa.array(_broadcast(emit_us, n, np.int64)),
                    pa.array(_broadcast(tx_key, n, np.int64)),
                    pa.array(_broadcast(tx_pos, n, np.int32)),
                    repeat(table, n),
                    repeat(op, n),
                    self._encode_row_images(table, before, null_json),
                    self._encode_row_images(table, after, null_json),
                    pa.array(_broadcast(source_us, n, np.int64)),
                ],
                schema=CDC_SCHEMA,
            )
        )

    def _encode_row_images(self, table: str, rows: pa.Table | None, null_json: pa.Array) -> pa.Array:
        if rows is None or self.encoder is None:
            return null_json
        return self.encoder.debezium_rows(table, rows)

    def dynamodb_put(self, table: str, rows: pa.Table, emit_us: np.ndarray) -> None:
        if rows.num_rows:
            lines = self.encoder.dynamodb_puts(table, rows) if self.encoder else pa.nulls(rows.num_rows, pa.string())
            self._dynamodb(table, lines, emit_us)

    def dynamodb_delete(self, table: str, rows: pa.Table, emit_us: np.ndarray) -> None:
        if rows.num_rows:
            lines = self.encoder.dynamodb_deletes(table, rows) if self.encoder else pa.nulls(rows.num_rows, pa.string())
            self._dynamodb(table, lines, emit_us)

    def _dynamodb(self, table: str, lines: pa.Array, emit_us: np.ndarray) -> None:
        n = len(lines)
        self.dynamodb.add(
            pa.Table.from_arrays(
                [
                    pa.array(_broadcast(emit_us, n, np.int64)),
                    pa.array(self._next_seq(n)),
                    repeat(table, n),
                    lines,
                ],
                schema=DYNAMODB_SCHEMA,
            )
        )

    def landing_record(self, table: str, rows: pa.Table, emit_us: np.ndarray, event_us: np.ndarray) -> None:
        n = rows.num_rows
        if n == 0:
            return
        self.landing.add(
            pa.Table.from_arrays(
                [
                    pa.array(_broadcast(emit_us, n, np.int64)),
                    pa.array(self._next_seq(n)),
                    repeat(table, n),
                    pa.array((np.asarray(event_us) // 86_400_000_000).astype(np.int32)),
                    self.encoder.landing_records(table, rows) if self.encoder else pa.nulls(n, pa.string()),
                ],
                schema=LANDING_SCHEMA,
            )
        )


def take_rows(table: pa.Table, mask: np.ndarray | Sequence[int]) -> pa.Table:
    """Rows of `table` where `mask` is true (or at the given indices)."""
    mask = np.asarray(mask)
    if mask.dtype == bool:
        if mask.all():
            return table
        return table.filter(pa.array(mask))
    return table.take(pa.array(mask, type=pa.int64()))
