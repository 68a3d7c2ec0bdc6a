"""The simulator's intermediate event batches, one Arrow schema per sink. Batches carry the emit time (when the
source commits/writes them) so the simulation can route them to the slice in which they happen, in any order, and
each writer sorts what it gets.

- CDC: one Debezium change per row, its row images encoded to JSON when built; `tx_key` groups the changes of a
  transaction, `tx_pos` orders them.
- DynamoDB: one write request per row, ordered by (emit_us, seq), carried as TYPED rows (`item`, a dense union
  with one member per (table, put/delete)) and encoded to JSON only by the consumer, piece by piece, after the
  sort (`Encoder.dynamodb_lines`): its JSON is ~4x the size of the typed rows and was the largest column a slice
  held (routing held it twice, next to the writer's copy of the previous slice).
- Landing: one record line per row, partitioned by `day` (event date, days since epoch).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TypeAlias

import numpy as np
import pyarrow as pa

from generator.columns import repeat
from generator.encoding import DYNAMODB_ITEM, DYNAMODB_KEYS, DYNAMODB_WRITES, Encoder

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
# The table of a DynamoDB write request is routed as a code into DYNAMODB_TABLES (taking a string column was ~4x
# the take of the other three), and handed out as a dictionary column over these names (`with_table_names`).
DYNAMODB_TABLES = tuple(DYNAMODB_KEYS)
DYNAMODB_TABLE_NAMES = pa.array(DYNAMODB_TABLES, pa.string())
DYNAMODB_SCHEMA = pa.schema(
    [("emit_us", pa.int64()), ("seq", pa.int64()), ("table", pa.int8()), ("item", DYNAMODB_ITEM)]
)
# a rows-only simulation (no encoder) carries no write requests' content: a null per request costs nothing to route
DYNAMODB_ROWS_ONLY_SCHEMA = DYNAMODB_SCHEMA.set(3, pa.field("item", pa.null()))


def with_table_names(requests: pa.Table) -> pa.Table:
    """Routed DynamoDB write requests with their `table` codes as a dictionary column of the table names (no copy)."""
    index = requests.schema.get_field_index("table")
    names = [pa.DictionaryArray.from_arrays(codes, DYNAMODB_TABLE_NAMES) for codes in requests.column(index).chunks]
    column = pa.chunked_array(names, pa.dictionary(pa.int8(), pa.string()))
    return requests.set_column(index, "table", column)


LANDING_SCHEMA = pa.schema(
    [("emit_us", pa.int64()), ("seq", pa.int64()), ("table", pa.string()), ("day", pa.int32()), ("line", pa.string())]
)


@cache
def _empty_members() -> tuple[pa.Array, ...]:
    """An empty array of each `DYNAMODB_ITEM` member, made once (a union is built for every batch of requests)."""
    return tuple(pa.array([], field.type) for field in DYNAMODB_ITEM)


def dynamodb_items(table: str, op: str, rows: pa.Table) -> pa.UnionArray:
    """DynamoDB write requests (`op` put or delete) of the typed `rows` of `table` (contract schema), as
    `DYNAMODB_ITEM` values."""
    code = DYNAMODB_WRITES.index((table, op))
    schema = DYNAMODB_ITEM.field(code).type
    if rows.schema != pa.schema(list(schema)):
        raise ValueError(f"{table}: DynamoDB rows do not match the contract schema:\n{rows.schema}")
    children = list(_empty_members())
    columns = [column.combine_chunks() for column in rows.columns]
    children[code] = pa.StructArray.from_arrays(columns, fields=list(schema))
    n = rows.num_rows
    return pa.UnionArray.from_dense(
        pa.array(np.full(n, code, np.int8)),
        pa.array(np.arange(n, dtype=np.int32)),
        children,
        [field.name for field in DYNAMODB_ITEM],
        list(range(len(DYNAMODB_ITEM))),
    )


def _frozen(value: np.ndarray | int, n: int, dtype: type) -> np.ndarray:
    """A private copy (the simulation may change its arrays in place before a deferred build runs); a scalar is
    repeated n times."""
    if isinstance(value, np.ndarray) and value.shape == (n,):
        return value.astype(dtype)  # a copy, also when the type is the same
    return np.array(np.broadcast_to(np.asarray(value, dtype=dtype), (n,)))


Build: TypeAlias = Callable[[], pa.Table]


class Lazy:
    """Rows built on first use, once: the simulation hands the build of large tables (clickstream, sessions) to
    the router thread, which needs them for events and for the snapshot."""

    def __init__(self, num_rows: int, build: Build) -> None:
        self.num_rows = num_rows
        self._build: Build | None = build
        self._table: pa.Table | None = None

    def get(self) -> pa.Table:
        if self._table is None:
            assert self._build is not None
            self._table, self._build = self._build(), None
        return self._table


Rows: TypeAlias = "pa.Table | Lazy"


def rows_of(rows: Rows) -> pa.Table:
    return rows.get() if isinstance(rows, Lazy) else rows


@dataclass
class Batches:
    """Events of one kind of sink: tables, or builds of tables that run in the router thread (in order)."""

    schema: pa.Schema
    tables: list[pa.Table | Build] = field(default_factory=list)

    def add(self, table: pa.Table | Build) -> None:
        if not isinstance(table, pa.Table) or table.num_rows:
            self.tables.append(table)

    def detach(self) -> list[pa.Table | Build]:
        """The batches so far; the sink starts a new list."""
        tables, self.tables = self.tables, []
        return tables

    @property
    def num_rows(self) -> int:
        return sum(t.num_rows for t in built(self.tables))


def built(tables: list[pa.Table | Build]) -> list[pa.Table]:
    """Runs the deferred builds (in order: they may share Lazy rows)."""
    out = [t if isinstance(t, pa.Table) else t() for t in tables]
    return [t for t in out if t.num_rows]


class EventSink:
    """Collects the events a slice generates: rows tagged with emit times and ordering keys, encoded to JSON.

    The simulation thread only records what to build (numbers are drawn there, in order); building the event
    tables and the JSON encoding run when the router thread calls the builds, so they overlap with the
    simulation of the next slice. Without an encoder the rows are still built but not encoded (JSON columns are
    null): the benchmark's "generation to Arrow" figure."""

    def __init__(self, encoder: Encoder | None) -> None:
        self.encoder = encoder
        self.cdc = Batches(CDC_SCHEMA)
        self.dynamodb = Batches(DYNAMODB_SCHEMA if encoder else DYNAMODB_ROWS_ONLY_SCHEMA)
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
        before: Rows | None = None,
        after: Rows | None = None,
    ) -> None:
        rows = after if after is not None else before
        assert rows is not None
        n = rows.num_rows
        if n == 0:
            return
        emit, key, pos, source = (
            _frozen(emit_us, n, np.int64),
            _frozen(tx_key, n, np.int64),
            _frozen(tx_pos, n, np.int32),
            _frozen(source_us, n, np.int64),
        )

        def build() -> pa.Table:
            null_json = pa.nulls(n, pa.string())
            return pa.Table.from_arrays(
                [
                    pa.array(emit),
                    pa.array(key),
                    pa.array(pos),
                    repeat(table, n),
                    repeat(op, n),
                    self._encode_row_images(table, before, null_json),
                    self._encode_row_images(table, after, null_json),
                    pa.array(source),
                ],
                schema=CDC_SCHEMA,
            )

        self.cdc.add(build)

    def _encode_row_images(self, table: str, rows: Rows | None, null_json: pa.Array) -> pa.Array | pa.ChunkedArray:
        if rows is None or self.encoder is None:
            return null_json
        return self.encoder.debezium_rows(table, rows_of(rows))

    def dynamodb_put(self, table: str, rows: Rows, emit_us: np.ndarray) -> None:
        if rows.num_rows:
            self._dynamodb(table, rows, emit_us, delete=False)

    def dynamodb_delete(self, table: str, rows: Rows, emit_us: np.ndarray) -> None:
        if rows.num_rows:
            self._dynamodb(table, rows, emit_us, delete=True)

    def _dynamodb(self, table: str, rows: Rows, emit_us: np.ndarray, delete: bool) -> None:
        n = rows.num_rows
        emit, seq = _frozen(emit_us, n, np.int64), self._next_seq(n)

        def build() -> pa.Table:
            # typed rows, not JSON: the consumer encodes them after the sort (Encoder.dynamodb_lines)
            op = "delete" if delete else "put"
            items = pa.nulls(n) if self.encoder is None else dynamodb_items(table, op, rows_of(rows))
            code = pa.array(np.full(n, DYNAMODB_TABLES.index(table), np.int8))
            return pa.Table.from_arrays([pa.array(emit), pa.array(seq), code, items], schema=self.dynamodb.schema)

        self.dynamodb.add(build)

    def landing_record(self, table: str, rows: Rows, emit_us: np.ndarray, event_us: np.ndarray) -> None:
        n = rows.num_rows
        if n == 0:
            return
        emit, seq = _frozen(emit_us, n, np.int64), self._next_seq(n)
        day = (np.asarray(event_us) // 86_400_000_000).astype(np.int32)

        def build() -> pa.Table:
            lines = self.encoder.landing_records(table, rows_of(rows)) if self.encoder else pa.nulls(n, pa.string())
            return pa.Table.from_arrays(
                [pa.array(emit), pa.array(seq), repeat(table, n), pa.array(day), lines], schema=LANDING_SCHEMA
            )

        self.landing.add(build)


def take_rows(table: pa.Table, mask: np.ndarray | Sequence[int]) -> pa.Table:
    """Rows of `table` where `mask` is true (or at the given indices)."""
    mask = np.asarray(mask)
    if mask.dtype == bool:
        if mask.all():
            return table
        return table.filter(pa.array(mask))
    return table.take(pa.array(mask, type=pa.int64()))
