"""Silver straight from the simulator's ground-truth snapshot, for the dbt benchmark and dbt development.

Silver equals the snapshot by design (silver apply's reconciliation proves it), so building silver from
`<out>/snapshot/<table>.parquet` (a folder of parts) exercises the marts on realistic data without running the CDC
path. The newest rows can be held back and merged later, as new data: every row created after one cutoff time
(chosen so that the requested fraction of all rows is newer). Children are created after their parents, so what
stays in silver keeps its foreign keys.

The layout is silver apply's: partitioned tables by their partition columns, the others clustered by primary-key
range in files of half the merge budget (a first load, lakehouse/silver/clustering.py), so a filter on a column
that follows the key (creation and change times) skips files and row groups as it would on real silver.

Clustered tables are sorted whole, one at a time; partitioned tables need no sort and are streamed batch by batch
(the largest table, clickstream events, is partitioned: ~3.5 GB in memory at scale 1, four times that at scale 4).
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from lakehouse.contract import TABLES, TableContract
from lakehouse.settings import SILVER, table_uri
from lakehouse.silver.apply import ApplyPolicy
from lakehouse.silver.clustering import KeyRange, clustering_key, key_ordered

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")
STREAM_BATCH_ROWS = 1_000_000  # rows per batch when a partitioned table is streamed into silver


@dataclass(frozen=True)
class SeededSilver:
    lake_uri: str
    rows: dict[str, int]  # written now
    held_back: dict[str, pa.Table]  # newest rows kept for `merge_held_back`
    cutoff: datetime | None = None  # rows created after it were held back (None: nothing held back)


def with_lineage(contract: TableContract, table: pa.Table, first_position: int = 0) -> pa.Table:
    """Add silver's lineage columns: source position (40-digit string), source time (the event time), applied at."""
    import numpy as np

    # Built in Arrow, not as Python objects (the largest tables have tens of millions of rows), in chunks that
    # each fit a 32-bit string array.
    first, end, chunk = first_position + 1, first_position + table.num_rows + 1, 1_000_000
    positions = pa.chunked_array(
        [
            pc.utf8_lpad(
                pc.cast(pa.array(np.arange(start, min(start + chunk, end), dtype=np.int64)), pa.string()), 40, "0"
            )
            for start in range(first, end, chunk)
        ],
        pa.string(),
    )
    applied_at = pa.array(np.full(table.num_rows, int(time.time() * 1_000_000), np.int64)).cast(UTC_TIMESTAMP)
    return (
        table.append_column("_source_position", positions)
        .append_column("_source_ts", table.column(contract.event_time).cast(UTC_TIMESTAMP))
        .append_column("_applied_at", applied_at)
    )


# The column holding when a row came into being, per table (the first one a table has); tables without one
# (campaigns) are never held back.
CREATION_COLUMNS = ("created_at", "placed_at", "started_at", "event_ts", "first_seen_at", "added_at", "uploaded_at")


def creation_column(contract: TableContract) -> str | None:
    return next((c for c in CREATION_COLUMNS if c in contract.column_names), None)


def creation_cutoff(creation_times: list[pa.Array], fraction: float) -> int | None:
    """The creation time (epoch microseconds) after which `fraction` of all rows were created."""
    import numpy as np

    times = [t.cast(pa.int64()).to_numpy(zero_copy_only=False) for t in creation_times if len(t)]
    if fraction <= 0 or not times:
        return None
    return int(np.quantile(np.concatenate(times), 1.0 - fraction))


def split_created_after(contract: TableContract, table: pa.Table, cutoff: int | None) -> tuple[pa.Table, pa.Table]:
    """(rows created up to the cutoff, rows created after it)."""
    column = creation_column(contract)
    if cutoff is None or column is None:
        return table, table.slice(0, 0)
    newer = pc.greater(table.column(column).cast(pa.int64()), cutoff)
    return table.filter(pc.invert(newer)), table.filter(newer)


def write_silver(
    contract: TableContract, rows: pa.Table, uri: str, storage_options: dict[str, str] | None = None
) -> None:
    """Replace the silver table at `uri` with `rows`, laid out as silver apply lays out a first load."""
    from deltalake import write_deltalake

    rows, file_size = clustered(contract, rows)
    write_deltalake(
        uri,
        rows,
        mode="overwrite",
        schema_mode="overwrite",
        partition_by=list(contract.partition_by) or None,
        target_file_size=file_size,
        storage_options=storage_options,
    )


def clustered(contract: TableContract, rows: pa.Table) -> tuple[pa.Table, int | None]:
    """`rows` in the order silver apply keeps them, and the file size (bytes) that cuts them into files of a first
    load's size: in clustering-key order, as `recluster` writes them; unchanged with no file size for tables silver
    does not cluster (partitioned ones)."""
    key = clustering_key(contract, rows.schema)
    if key is None or rows.num_rows == 0:
        return rows, None
    rows = key_ordered(rows, key)
    rows_per_file = ApplyPolicy().clustered_rows_per_file
    # Bytes per row as Parquet, from a sample written to memory (the Delta writer cuts files by size, not rows).
    sample = rows.slice(rows.num_rows // 2, min(rows.num_rows, 65_536))
    buffer = io.BytesIO()
    pq.write_table(sample, buffer)
    return rows, max(1, buffer.tell() * rows_per_file // max(1, sample.num_rows))


def seed_silver(
    snapshot_dir: Path,
    lake_uri: str,
    *,
    hold_back: float = 0.0,
    storage_options: dict[str, str] | None = None,
    batch_rows: int = STREAM_BATCH_ROWS,
) -> SeededSilver:
    """Write every contract table from the snapshot to `<lake>/silver/<table>` (overwrite)."""
    if not 0.0 <= hold_back < 1.0:
        raise ValueError(f"hold_back must be in [0, 1), got {hold_back}")
    paths = {name: snapshot_dir / f"{name}.parquet" for name in TABLES}
    for path in paths.values():
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing; run `lakehouse generate run --out {snapshot_dir.parent}`")
    # The cutoff needs only the creation columns; whole tables are read one at a time (peak memory: the largest).
    creation_times = [
        pq.read_table(paths[name], columns=[column])
        .column(column)
        .combine_chunks()
        .cast(contract.arrow_schema().field(column).type)
        for name, contract in TABLES.items()
        if (column := creation_column(contract))
    ]
    cutoff = creation_cutoff(creation_times, hold_back)
    del creation_times
    written, held_back = {}, {}
    for name, contract in TABLES.items():
        uri = table_uri(lake_uri, SILVER, name)
        if contract.partition_by:
            written[name], held_back[name] = stream_partitioned(
                contract, paths[name], uri, cutoff, storage_options, batch_rows=batch_rows
            )
            continue
        now, later = split_created_after(contract, pq.read_table(paths[name], schema=contract.arrow_schema()), cutoff)
        write_silver(contract, with_lineage(contract, now), uri, storage_options)
        written[name], held_back[name] = now.num_rows, later
    held_from = None if cutoff is None else datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=cutoff)
    return SeededSilver(lake_uri, written, held_back, held_from)


def stream_partitioned(
    contract: TableContract,
    path: Path,
    uri: str,
    cutoff: int | None,
    storage_options: dict[str, str] | None = None,
    *,
    batch_rows: int = STREAM_BATCH_ROWS,
) -> tuple[int, pa.Table]:
    """Replace the partitioned silver table at `uri` with the snapshot's rows at `path` created up to the cutoff,
    in one commit, holding one batch in memory (and the held-back rows). Returns (rows written, rows held back)."""
    from deltalake import write_deltalake

    schema = contract.arrow_schema()
    written, later_parts = 0, [schema.empty_table()]

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal written
        for batch in ds.dataset(path, schema=schema, format="parquet").to_batches(batch_size=batch_rows):
            now, later = split_created_after(contract, pa.Table.from_batches([batch], schema), cutoff)
            later_parts.append(later)
            yield from with_lineage(contract, now, first_position=written).to_batches()
            written += now.num_rows

    lineage_schema = with_lineage(contract, schema.empty_table()).schema
    write_deltalake(
        uri,
        pa.RecordBatchReader.from_batches(lineage_schema, batches()),
        mode="overwrite",
        schema_mode="overwrite",
        partition_by=list(contract.partition_by),
        storage_options=storage_options,
    )
    return written, pa.concat_tables(later_parts)


def merge_held_back(seeded: SeededSilver, storage_options: dict[str, str] | None = None) -> int:
    """Merge the held-back rows into silver by primary key (as silver apply would); returns rows merged."""
    from deltalake import DeltaTable

    merged = 0
    for name, rows in seeded.held_back.items():
        if rows.num_rows == 0:
            continue
        contract = TABLES[name]
        # Bounded to the held-back rows' partitions, or their key range on clustered tables (as silver apply's
        # merges are), so delta-rs skips the other files instead of reading the whole table.
        key = clustering_key(contract, rows.schema)
        key_bounds = [KeyRange(low=pc.min(rows.column(key)).as_py()).predicate(key, "t")] if key else []
        keys_equal = [f"t.{k} = s.{k}" for k in contract.primary_key]
        predicate = " and ".join(keys_equal + partition_bounds(contract, rows, alias="t") + key_bounds)
        source = with_lineage(contract, rows, first_position=seeded.rows[name])
        (
            DeltaTable(table_uri(seeded.lake_uri, SILVER, name), storage_options=storage_options)
            .merge(
                source.to_reader(max_chunksize=STREAM_BATCH_ROWS // 10), predicate, source_alias="s", target_alias="t"
            )
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )
        merged += rows.num_rows
    return merged


def partition_bounds(contract: TableContract, rows: pa.Table, *, alias: str) -> list[str]:
    """Predicates bounding each partition column of the target to the values in `rows`: with them delta-rs reads
    only those partitions (a merge on the key alone reads the whole table: 136M clickstream events at scale 4)."""
    bounds = []
    for column in contract.partition_by:
        extremes = pc.min_max(rows.column(column))
        low, high = extremes["min"], extremes["max"]
        if low.is_valid:
            bounds += [f"{alias}.{column} >= '{low.as_py()}'", f"{alias}.{column} <= '{high.as_py()}'"]
    return bounds
