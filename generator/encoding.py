"""Vectorised JSON encoding of contract rows with DuckDB (to_json / string concatenation over Arrow tables),
following docs/source-formats.md: Debezium row images, DynamoDB JSON items, landing-file records.

Row-by-row json.dumps tops out around 200k rows/s; DuckDB encodes millions of rows per second."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.contract import MONEY, get_table

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
ENCODE_BATCH = 25_000  # rows per DuckDB query: its result and working memory stay small (100k: ~40 MB more peak)

# DynamoDB single-table keys per entity (docs/source-formats.md).
DYNAMODB_KEYS: dict[str, tuple[str, str]] = {
    "web_users": ("'USER#' || web_user_id", "'PROFILE'"),
    "web_sessions": ("'SESSION#' || session_id", "'META'"),
    "clickstream_events": ("'SESSION#' || session_id", "'EVENT#' || event_id"),
    "carts": ("'CART#' || cart_id", "'META'"),
    "cart_items": ("'CART#' || cart_id", "'ITEM#' || product_id"),
}
# DynamoDB write requests travel as typed rows until they are written (generator/events.py): a dense union with a
# put and a delete member per table, each the table's contract row as a struct (a delete encodes only its key).
DYNAMODB_WRITES: tuple[tuple[str, str], ...] = tuple((table, op) for table in DYNAMODB_KEYS for op in ("put", "delete"))
DYNAMODB_ITEM = pa.dense_union(
    [pa.field(f"{table}:{op}", pa.struct(get_table(table).arrow_schema())) for table, op in DYNAMODB_WRITES],
    type_codes=list(range(len(DYNAMODB_WRITES))),
)
DYNAMODB_LINES_PER_PIECE = 50_000  # write requests encoded at a time, after the sort (~17 MB of JSON)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def debezium_value(column: str, logical: str) -> str:
    c = _q(column)
    if logical == MONEY:
        return f"CAST({c} AS VARCHAR)"
    if logical == "timestamp":
        return f"epoch_us({c})"
    if logical == "date":
        return f"CAST({c} - DATE '1970-01-01' AS INTEGER)"
    return c


def text_value(column: str, logical: str) -> str:
    """The files/API encoding: money as string, timestamps ISO-8601 UTC, dates YYYY-MM-DD."""
    c = _q(column)
    if logical == MONEY:
        return f"CAST({c} AS VARCHAR)"
    if logical == "timestamp":
        return f"strftime({c}, '{ISO_FORMAT}')"
    if logical == "date":
        return f"CAST({c} AS VARCHAR)"
    return c


def _struct(table: str, value: Any) -> str:
    fields = ", ".join(f"{_q(c.name)} := {value(c.name, c.type)}" for c in get_table(table).columns)
    return f"to_json(struct_pack({fields}))"


def _dynamodb_attribute(column: str, logical: str) -> str:
    c = _q(column)
    key = '"' + column + '"'
    if logical in ("string",):
        typed = f"""'{{"S":' || to_json({c}) || '}}'"""
    elif logical == "timestamp":
        typed = f"""'{{"S":"' || strftime({c}, '{ISO_FORMAT}') || '"}}'"""
    elif logical == "date":
        typed = f"""'{{"S":"' || CAST({c} AS VARCHAR) || '"}}'"""
    elif logical == "bool":
        typed = f"""'{{"BOOL":' || CASE WHEN {c} THEN 'true' ELSE 'false' END || '}}'"""
    else:  # numbers and money: N is a decimal string
        typed = f"""'{{"N":"' || CAST({c} AS VARCHAR) || '"}}'"""
    return f"""coalesce(',{key}:' || {typed}, '')"""


class Encoder:
    """Holds one DuckDB connection (UTC session) and the per-table SQL, built once from the contract.

    One DuckDB thread by default: the encoder runs in the simulator's router thread next to the simulation
    thread, so a second DuckDB thread only competes for the same two cores (measured: ~40% less CPU for the same
    encoding with 1 thread than with 2, and no slower in wall time)."""

    def __init__(self, threads: int = 1) -> None:
        import duckdb

        self._con = duckdb.connect()
        self._con.execute("SET TimeZone = 'UTC'")
        self._con.execute(f"SET threads = {threads}")
        self._con.execute("SET preserve_insertion_order = true")
        self._sql: dict[tuple[str, str], str] = {}

    def close(self) -> None:
        self._con.close()

    def _run(self, sql: str, rows: pa.Table, batch: int = ENCODE_BATCH) -> pa.ChunkedArray:
        """Runs `sql` over `rows` in batches of `batch` rows (bounded DuckDB result buffers). The result chunks are
        not concatenated (the router combines each slice's events once)."""
        chunks: list[pa.Array] = []
        for offset in range(0, max(rows.num_rows, 1), batch):
            self._con.register("rows_", rows.slice(offset, batch))
            try:
                result = self._con.execute(sql).fetch_arrow_table()
            finally:
                self._con.unregister("rows_")
            chunks.extend(result.column(0).chunks)
        return pa.chunked_array(chunks, pa.string())

    def _cached(self, kind: str, table: str, build: Any) -> str:
        key = (kind, table)
        if key not in self._sql:
            self._sql[key] = build()
        return self._sql[key]

    def debezium_rows(self, table: str, rows: pa.Table) -> pa.ChunkedArray:
        """One JSON object per row: the Debezium `before`/`after` image."""
        sql = self._cached("debezium", table, lambda: f"SELECT {_struct(table, debezium_value)} FROM rows_")
        return self._run(sql, rows)

    def landing_records(self, table: str, rows: pa.Table) -> pa.ChunkedArray:
        sql = self._cached("landing", table, lambda: f"SELECT {_struct(table, text_value)} FROM rows_")
        return self._run(sql, rows)

    def _dynamodb_sql(self, table: str, op: str, end: str) -> str:
        """A put: `{"op":"put","item":{...}}` with pk, sk, entity and every non-null contract column; a delete:
        `{"op":"delete","key":{...}}`; each followed by `end` (a SQL string expression). One variadic `concat` of
        the parts (none is NULL: an absent attribute is ''), not a chain of `||`, which copies the growing prefix
        at every step (~27% less CPU for a clickstream put)."""

        def build() -> str:
            pk, sk = DYNAMODB_KEYS[table]
            keys = ["""'{"pk":{"S":'""", f"to_json({pk})", """'},"sk":{"S":'""", f"to_json({sk})", "'}'"]
            if op == "delete":
                parts = ["""'{"op":"delete","key":'""", *keys, "'}}'", end]
            else:
                attributes = [_dynamodb_attribute(c.name, c.type) for c in get_table(table).columns]
                parts = ["""'{"op":"put","item":'""", *keys, f"""',"entity":{{"S":"{table}"}}'""", *attributes]
                parts += ["'}}'", end]
            return f"SELECT concat({', '.join(parts)}) FROM rows_"

        return self._cached(f"dynamodb_{op}{end}", table, build)

    def dynamodb_lines(self, items: pa.UnionArray, terminated: bool = False) -> pa.Array:
        """The JSON lines of `DYNAMODB_ITEM` values (typed rows, any mix of tables and ops), in their order, each
        followed by a newline if `terminated` (written as they are, see writers/lines.py). One query per member present
        (~3 ms each, mostly planning: pieces of DYNAMODB_LINES_PER_PIECE keep them few). Call it on pieces
        (`columns.pieces(items, DYNAMODB_LINES_PER_PIECE)`): it holds up to three copies of the piece's lines
        (DuckDB's, combined, reordered)."""
        if items.type != DYNAMODB_ITEM:  # e.g. the null items of a rows-only simulation (encode=False)
            raise ValueError(
                f"DynamoDB writes of type {items.type} have no JSON (a rows-only simulation): simulate with encode=True"
            )
        # from the buffers: pyarrow's `UnionArray.offsets` ignores the array's slice offset
        _, code_buffer, offset_buffer = items.buffers()[:3]
        codes = np.frombuffer(code_buffer, np.int8, count=len(items), offset=items.offset)
        offsets = np.frombuffer(offset_buffer, np.int32, count=len(items), offset=4 * items.offset)
        positions, parts = [], []
        for code in np.unique(codes).tolist():
            table, op = DYNAMODB_WRITES[code]
            at = np.flatnonzero(codes == code)
            member, rows_at = items.field(code), offsets[at]  # the whole child: the values' offsets point into it
            if (np.diff(rows_at) == 1).all():  # Arrow's take writes each member's rows in order: no copy needed
                rows = pa.Table.from_struct_array(member.slice(int(rows_at[0]), len(rows_at)))
            else:
                rows = pa.Table.from_struct_array(member.take(pa.array(rows_at)))
            positions.append(at)
            sql = self._dynamodb_sql(table, op, "chr(10)" if terminated else "''")
            parts.extend(self._run(sql, rows, batch=len(items)).chunks)
        lines = pa.concat_arrays(parts) if parts else pa.array([], pa.string())
        del parts
        if len(positions) > 1:  # back to the items' order
            order = np.empty(len(codes), np.int64)
            order[np.concatenate(positions)] = np.arange(len(codes))
            lines = lines.take(pa.array(order))
        return lines


def _text(values: np.ndarray) -> pa.Array:
    return pa.array(values).cast(pa.string())


@dataclass(frozen=True)
class DebeziumPositions:
    """Per event of a sorted slice: its LSN, transaction id, the transaction's first LSN and size, and its
    position among the events of its table in the transaction (numbers only: the lines are built per range)."""

    lsn: np.ndarray
    tx_id: np.ndarray
    tx_lsn: np.ndarray
    tx_total: np.ndarray
    collection_order: np.ndarray


def _lengths(column: pa.ChunkedArray) -> np.ndarray:
    """Byte length of each value (0 for null), chunk by chunk (no copy of the strings)."""
    parts = [pc.fill_null(pc.binary_length(chunk), 0).to_numpy() for chunk in column.chunks]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def debezium_positions(events: pa.Table, first_lsn: int, first_tx: int) -> DebeziumPositions:
    n = events.num_rows
    after_length = _lengths(events.column("after"))
    image_length = np.where(
        events.column("after").is_valid().to_numpy(zero_copy_only=False),
        after_length,
        _lengths(events.column("before")),
    )
    lsn = first_lsn + np.cumsum(image_length + 64)
    emit = events.column("emit_us").to_numpy()
    tx_key = events.column("tx_key").to_numpy()
    new_tx = np.ones(n, bool)
    new_tx[1:] = (emit[1:] != emit[:-1]) | (tx_key[1:] != tx_key[:-1])
    tx_number = np.cumsum(new_tx) - 1
    tx_start = np.flatnonzero(new_tx)
    table_code = pc.dictionary_encode(events.column("table").combine_chunks()).indices.to_numpy(zero_copy_only=False)
    # position of each event among the events of its table within its transaction (rows are in tx_pos order)
    order = np.lexsort((np.arange(n), table_code, tx_number))
    group_start = np.ones(n, bool)
    group_start[1:] = (tx_number[order][1:] != tx_number[order][:-1]) | (
        table_code[order][1:] != table_code[order][:-1]
    )
    first_in_group = np.maximum.accumulate(np.where(group_start, np.arange(n), 0))
    collection_order = np.empty(n, np.int64)
    collection_order[order] = np.arange(n) - first_in_group + 1
    return DebeziumPositions(
        lsn=lsn,
        tx_id=first_tx + tx_number,
        tx_lsn=lsn[tx_start][tx_number],
        tx_total=np.diff(np.append(tx_start, n))[tx_number],
        collection_order=collection_order,
    )


def debezium_lines(
    events: pa.Table, positions: DebeziumPositions, first: int = 0, count: int | None = None
) -> pa.Array:
    """The Debezium event lines of rows [first, first + count) of `events` (only that range's JSON is copied)."""
    count = events.num_rows - first if count is None else min(count, events.num_rows - first)
    part = events.slice(first, count).combine_chunks()
    at = slice(first, first + count)
    before, after, op, table = (
        part.column(name).chunk(0) if count else pa.array([], part.schema.field(name).type)
        for name in ("before", "after", "op", "table")
    )
    lsn, tx_id, emit = positions.lsn[at], positions.tx_id[at], part.column("emit_us").to_numpy()
    snapshot = pc.equal(op, "r")
    lsn_text, tx_text = _text(lsn), _text(tx_id)
    ts_ms = emit // 1000 + 5 + lsn % 200
    transaction = pc.binary_join_element_wise(
        '{"id":"', tx_text, ":", _text(positions.tx_lsn[at]), '","total_order":', _text(positions.tx_total[at]),
        ',"data_collection_order":', _text(positions.collection_order[at]), "}", "",
    )  # fmt: skip
    null_json = pa.scalar("null")
    return pc.binary_join_element_wise(
        '{"before":', pc.coalesce(before, null_json), ',"after":', pc.coalesce(after, null_json),
        ',"source":{"version":"3.6.1.Final","connector":"postgresql","name":"shop","ts_ms":',
        _text(part.column("source_us").to_numpy() // 1000),
        ',"snapshot":"', pc.if_else(snapshot, "true", "false"),
        '","db":"shop","schema":"public","table":"', table, '","txId":', tx_text, ',"lsn":', lsn_text,
        ',"sequence":"[null,\\"', lsn_text, '\\"]"},"op":"', op, '","ts_ms":', _text(ts_ms),
        ',"transaction":', pc.if_else(snapshot, null_json, transaction), "}", "",
    )  # fmt: skip


def debezium_events(events: pa.Table, first_lsn: int, first_tx: int) -> pa.Table:
    positions = debezium_positions(events, first_lsn, first_tx)
    return pa.table(
        {
            "line": debezium_lines(events, positions),
            "lsn": pa.array(positions.lsn),
            "tx_id": pa.array(positions.tx_id),
        }
    )
