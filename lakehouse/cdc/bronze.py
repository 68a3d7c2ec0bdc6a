"""The bronze writer: one Delta append per table per batch, idempotent under redelivery.

Layout (docs/cdc.md, notes/interfaces.md): `<lake>/bronze/<table>` holds every contract column (nullable) plus
extra source columns (strings) and `_op`, `_source_position`, `_source_ts`, `_ingested_at`, `_batch_id`,
`_dedup_key`, `_ingest_date` (partition column); created with `delta.enableChangeDataFeed=true`.

Idempotency: record-level, by `_dedup_key` (`<table>:<pk>:<position>`). Before appending, the writer reads the
`_dedup_key`s already committed in the batch's `[min, max]` source-position range and drops those changes. The
range read is pruned by the Delta file statistics on `_source_position` (every file's min/max sits in the log),
so a fresh batch whose positions lie past everything committed reads no data file at all, and a redelivery reads
only the few files it overlaps. Why not a Delta app transaction with a per-shard high-water mark:
- DynamoDB Streams Lambda events carry no shard id, so there is no per-shard key to hang the watermark on;
- with ParallelizationFactor > 1 Lambda processes one shard in concurrent lanes: a later lane may commit first,
  and a shard-wide watermark would then drop the earlier lane's records;
- producer retries (PutRecords partial failures) put the same change twice under two sequence numbers; a
  watermark on sequence numbers keeps both, the dedup key drops the second.
The record-level check covers all of these, plus bisect-on-error and crashes between commit and checkpoint.
Commits are optimistic (`BronzeWriter.append`): the check and the commit see the same table version, or the
commit fails and both are redone, so even two consumers committing the same change at once append it only once.
The writer remembers the highest position after its own commit, so while it is the only writer a fresh batch
costs neither a log read nor a statistics scan before its commit.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.cdc.coerce import build_columns
from lakehouse.cdc.model import POSITION_DIGITS, Op, RecordRejected, TableChanges
from lakehouse.contract import TableContract, get_table
from lakehouse.settings import BRONZE, table_uri

if TYPE_CHECKING:
    from deltalake import DeltaTable

PARTITION_COLUMN = "_ingest_date"
TIMESTAMP_US = pa.timestamp("us", tz="UTC")
METADATA_FIELDS: tuple[pa.Field, ...] = (
    pa.field("_op", pa.string()),
    pa.field("_source_position", pa.string()),
    pa.field("_source_ts", TIMESTAMP_US),
    pa.field("_ingested_at", TIMESTAMP_US),
    pa.field("_batch_id", pa.string()),
    pa.field("_dedup_key", pa.string()),
    pa.field(PARTITION_COLUMN, pa.date32()),
)
METADATA_COLUMNS = frozenset(f.name for f in METADATA_FIELDS)
TABLE_CONFIGURATION = {"delta.enableChangeDataFeed": "true"}
COMMIT_ATTEMPTS = 30  # per batch and table: another consumer committed first -> reload, re-check, write again
RETRY_PAUSE_S = 0.02  # times the attempt number, jittered: concurrent consumers spread out


def bronze_schema(contract: TableContract) -> pa.Schema:
    """The bronze schema of a contract table: all contract columns nullable, then the metadata columns."""
    fields = [pa.field(c.name, c.arrow_type, nullable=True) for c in contract.columns]
    return pa.schema([*fields, *METADATA_FIELDS])


def ensure_bronze_table(uri: str, contract: TableContract, storage_options: dict[str, str] | None = None) -> DeltaTable:
    """Open the bronze table at `uri`, creating it (partitioned, change data feed on) if it does not exist."""
    from deltalake import DeltaTable

    if DeltaTable.is_deltatable(uri, storage_options=storage_options):
        return DeltaTable(uri, storage_options=storage_options)
    try:
        return DeltaTable.create(
            uri,
            schema=bronze_schema(contract),
            mode="ignore",
            partition_by=[PARTITION_COLUMN],
            name=contract.name,
            description=f"bronze change log of {contract.name} (append-only)",
            configuration=TABLE_CONFIGURATION,
            storage_options=storage_options,
        )
    except Exception:
        # Another consumer created it between our check and our commit: version 0 exists, use it.
        if DeltaTable.is_deltatable(uri, storage_options=storage_options):
            return DeltaTable(uri, storage_options=storage_options)
        raise


@dataclass
class BronzeRows:
    """A batch's changes of one table as bronze rows, and the changes rejected by the contract (index -> why)."""

    table: pa.Table
    rejected: dict[int, RecordRejected]


def bronze_rows(contract: TableContract, changes: TableChanges, *, batch_id: str, ingested_at_us: int) -> BronzeRows:
    """Validate the changes against the contract and lay them out as bronze rows (rejected rows left out);
    `rejected` is keyed by the change's index in `changes`."""
    deletes = pc.equal(changes.ops, Op.DELETE.value)
    columns = build_columns(contract, changes.images, deletes)
    arrays = {(f"source{name}" if name in METADATA_COLUMNS else name): a for name, a in columns.arrays.items()}
    count = len(changes)
    ingest_day = (dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=ingested_at_us)).date()
    keys = [pc.cast(arrays[name], pa.string()) for name in contract.primary_key]
    arrays["_op"] = changes.ops
    arrays["_source_position"] = changes.positions
    arrays["_source_ts"] = changes.source_ts_us.cast(TIMESTAMP_US)
    arrays["_ingested_at"] = pa.array([ingested_at_us] * count, TIMESTAMP_US)
    arrays["_batch_id"] = pa.array([batch_id] * count, pa.string())
    table_name = pa.array([contract.name] * count, pa.string())
    key_text = keys[0] if len(keys) == 1 else pc.binary_join_element_wise(*keys, "|")
    arrays["_dedup_key"] = pc.binary_join_element_wise(table_name, key_text, changes.positions, ":")
    arrays[PARTITION_COLUMN] = pa.array([ingest_day] * count, pa.date32())
    table = pa.table(arrays)
    if columns.rejected:
        keep = [i not in columns.rejected for i in range(count)]
        table = table.filter(pa.array(keep, pa.bool_()))
    return BronzeRows(table, columns.rejected)


@dataclass(frozen=True)
class AppendResult:
    table: str
    appended: int
    duplicates: int  # already committed (redelivery) or repeated inside the batch
    version: int | None  # the Delta version committed, None when nothing was new
    commit_ms: float


class BronzeWriter:
    """Appends changes to `<lake>/bronze/<table>`; keeps opened tables for the next (warm) invocation."""

    def __init__(self, lake_uri: str, storage_options: dict[str, str] | None = None) -> None:
        self.lake_uri = lake_uri
        self.storage_options = storage_options
        self._tables: dict[str, DeltaTable] = {}
        # table -> (version, highest _source_position at that version), remembered after our own commit so that
        # the next batch need not read the file statistics while no other consumer has committed since.
        self._high_marks: dict[str, tuple[int, str]] = {}
        self._lock = threading.Lock()

    def table_uri(self, table: str) -> str:
        return table_uri(self.lake_uri, BRONZE, table)

    def open(self, table: str, *, refresh: bool = False) -> DeltaTable:
        """The bronze table, created on first use. Kept at the version of this writer's last commit: the next
        commit fails if anyone else committed since (see `append`), so the usual batch reads no log at all."""
        with self._lock:
            delta_table = self._tables.get(table)
        if delta_table is None:
            delta_table = ensure_bronze_table(self.table_uri(table), get_table(table), self.storage_options)
        elif refresh:
            delta_table.update_incremental()
        with self._lock:
            self._tables[table] = delta_table
        return delta_table

    def append(self, table: str, rows: pa.Table, *, batch_id: str) -> AppendResult:
        """Append bronze rows (from `bronze_rows`) of one table as one Delta commit, skipping those already there.

        Optimistic: the dedup check reads the table at the version this writer last saw, and the commit is made
        with no automatic rebase (`max_commit_retries=0`), so it lands on exactly the next version or fails.
        Landing there proves nobody committed in between, so the check saw everything; a failure (another
        consumer committed first, or changed the schema) reloads the table and redoes the check and the write
        (the unreferenced data file of the lost attempt is removed by VACUUM)."""
        from deltalake import CommitProperties, write_deltalake
        from deltalake.exceptions import CommitFailedError

        started = time.perf_counter()
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            delta_table = self.open(table, refresh=attempt > 1)
            version = delta_table.version()
            committed_high = self._committed_high(table, delta_table, version)
            data = self._drop_committed(delta_table, rows, committed_high)
            duplicates = rows.num_rows - data.num_rows
            if not data.num_rows:
                return AppendResult(table, 0, duplicates, None, (time.perf_counter() - started) * 1000)
            try:
                write_deltalake(
                    delta_table,
                    data,
                    mode="append",
                    schema_mode=None if _same_columns(delta_table, data) else "merge",  # merge costs ~0.5 ms
                    commit_properties=CommitProperties(
                        custom_metadata={"lakehouse.batch_id": batch_id, "lakehouse.writer": "cdc-bronze"},
                        max_commit_retries=0,
                    ),
                )
                break
            except CommitFailedError:
                if attempt == COMMIT_ATTEMPTS:
                    raise
                time.sleep(RETRY_PAUSE_S * attempt * random.uniform(0.5, 1.5))
        if committed_high is not None:  # landed on version + 1: nobody else committed in between
            batch_high = pc.max(data.column("_source_position")).as_py()
            self._high_marks[table] = (version + 1, max(committed_high, batch_high))
        return AppendResult(table, data.num_rows, duplicates, version + 1, (time.perf_counter() - started) * 1000)

    def _committed_high(self, table: str, delta_table: DeltaTable, version: int) -> str | None:
        remembered = self._high_marks.get(table)
        if remembered is not None and remembered[0] == version:
            return remembered[1]
        return committed_high_position(delta_table)

    @staticmethod
    def _drop_committed(delta_table: DeltaTable, rows: pa.Table, committed_high: str | None) -> pa.Table:
        """Rows whose dedup key is neither in bronze nor earlier in this batch (see the module docstring)."""
        if not rows.num_rows:
            return rows
        keys = rows.column("_dedup_key")
        if pc.count_distinct(keys).as_py() < rows.num_rows:  # rare: a change repeated inside the batch
            first_seen: dict[str, int] = {}
            for index, key in enumerate(keys.to_pylist()):
                first_seen.setdefault(key, index)
            rows = rows.take(sorted(first_seen.values()))
        positions = rows.column("_source_position")
        low, high = pc.min(positions).as_py(), pc.max(positions).as_py()
        if committed_high is not None and low > committed_high:
            return rows  # the usual case: every position is past everything committed, no data file to read
        window = (pc.field("_source_position") >= low) & (pc.field("_source_position") <= high)
        committed = delta_table.to_pyarrow_dataset().to_table(columns=["_dedup_key"], filter=window)
        if committed.num_rows:
            seen = pc.is_in(rows.column("_dedup_key"), value_set=committed.column("_dedup_key"))
            rows = rows.filter(pc.invert(seen))
        return rows


def _same_columns(delta_table: DeltaTable, data: pa.Table) -> bool:
    """Whether `data` has exactly the table's columns and types (the usual batch: no new source column)."""
    table_schema = pa.schema(delta_table.schema().to_arrow())
    return {f.name: f.type for f in table_schema} == {f.name: f.type for f in data.schema}


def committed_high_position(delta_table: DeltaTable) -> str | None:
    """The highest `_source_position` committed, from the file statistics in the Delta log ("" for an empty
    table), or None when some file has no statistics (then only reading the data can tell)."""
    files = pa.table(delta_table.get_add_actions(flatten=True))
    if not files.num_rows:
        return ""
    column = "max._source_position"
    if column not in files.column_names or files.column(column).null_count:
        return None
    high = pc.max(files.column(column)).as_py()
    # A truncated statistic (a prefix of the real maximum) would understate the high-water mark: not usable.
    return high if isinstance(high, str) and len(high) == POSITION_DIGITS else None
