"""Reading bronze changes for silver apply: version ranges, Arrow normalisation, latest change per key.

Bronze (`<lake>/bronze/<table>`, see docs/silver-and-local-runtime.md) is an append-only change log with the
contract columns plus lineage columns. Silver apply reads it in bounded ranges of commit versions through the
change data feed, so memory is bounded by the range size, not the table size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from deltalake import DeltaTable

# Bronze lineage columns (agreed in notes/interfaces.md; written by lakehouse.cdc's bronze writer).
OP = "_op"  # c | u | d | r
POSITION = "_source_position"  # 40-digit zero-padded decimal string: sorts like the source position
SOURCE_TS = "_source_ts"
BRONZE_ONLY_COLUMNS = ("_ingested_at", "_batch_id", "_dedup_key", "_ingest_date")
CDF_COLUMNS = ("_change_type", "_commit_version", "_commit_timestamp")
DELETE = "d"
_COMPACT_EVERY_BATCHES = 32


def plan_ranges(
    rows_per_version: dict[int, int], first: int, last: int, *, max_rows: int, max_versions: int
) -> list[tuple[int, int]]:
    """Split bronze versions first..last (inclusive) into ranges of at most `max_rows` added rows (a single
    larger version stays alone) and at most `max_versions` versions. Versions without metrics count as 0 rows,
    the version cap still bounds them."""
    ranges: list[tuple[int, int]] = []
    start, rows = first, 0
    for version in range(first, last + 1):
        added = rows_per_version.get(version, 0)
        if version > start and (rows + added > max_rows or version - start >= max_versions):
            ranges.append((start, version - 1))
            start, rows = version, 0
        rows += added
    if first <= last:
        ranges.append((start, last))
    return ranges


def rows_added_per_version(history: list[dict[str, Any]]) -> dict[int, int]:
    """`num_added_rows` per commit from `DeltaTable.history()` (delta-rs operation metrics)."""
    rows: dict[int, int] = {}
    for commit in history:
        metrics = commit.get("operationMetrics") or {}
        if "version" in commit and "num_added_rows" in metrics:
            rows[int(commit["version"])] = int(metrics["num_added_rows"])
    return rows


def plain_schema(schema: pa.Schema) -> pa.Schema:
    fields = []
    for f in schema:
        if pa.types.is_string_view(f.type):
            fields.append(f.with_type(pa.string()))
        elif pa.types.is_binary_view(f.type):
            fields.append(f.with_type(pa.binary()))
        else:
            fields.append(f)
    return pa.schema(fields)


def normalise(table: pa.Table) -> pa.Table:
    """delta-rs returns view types (Utf8View, BinaryView); turn them into the plain types merges and joins use."""
    target = plain_schema(table.schema)
    return table if target == table.schema else table.cast(target)


def normalise_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    target = plain_schema(batch.schema)
    return batch if target == batch.schema else batch.cast(target)


def read_changes(bronze: DeltaTable, start: int, end: int, columns: list[str]) -> pa.Table:
    """The rows bronze versions start..end added (change data feed), as one table with plain Arrow types.

    Batches are normalised and compacted in groups as they stream in: delta-rs' batches keep references to
    larger decode buffers, so holding them as they come costs about three times the data size."""
    reader = pa.RecordBatchReader.from_stream(
        bronze.load_cdf(starting_version=start, ending_version=end, columns=columns)
    )
    schema = plain_schema(reader.schema)
    compacted: list[pa.Table] = []
    pending: list[pa.RecordBatch] = []
    for batch in reader:
        pending.append(normalise_batch(batch))
        if len(pending) == _COMPACT_EVERY_BATCHES:
            compacted.append(pa.Table.from_batches(pending, schema=schema).combine_chunks())
            pending = []
    if pending:
        compacted.append(pa.Table.from_batches(pending, schema=schema).combine_chunks())
    return pa.concat_tables(compacted) if compacted else schema.empty_table()


def latest_per_key(changes: pa.Table, primary_key: tuple[str, ...]) -> pa.Table:
    """One row per primary key: the change with the greatest source position (duplicates collapse).
    Sorts only the key and position columns and takes each kept row once (the payload is copied once)."""
    if changes.num_rows == 0:
        return changes
    order = [(k, "ascending") for k in primary_key] + [(POSITION, "descending")]
    indices = pc.sort_indices(changes.select([*primary_key, POSITION]), sort_keys=order)
    sorted_keys = changes.select(list(primary_key)).take(indices)
    first = _first_of_each_group(sorted_keys, primary_key)
    if first.true_count == changes.num_rows:
        return changes  # no key twice: nothing to copy
    # Kept rows in their original order (ascending row numbers): `take` then reads the table front to back.
    kept = indices.filter(first)
    return changes.take(kept.take(pc.sort_indices(kept)))


def _first_of_each_group(ordered: pa.Table, columns: tuple[str, ...]) -> pa.Array:
    """True where a row starts a new run of equal `columns` values (input sorted by them; keys are non-null)."""
    n = ordered.num_rows
    changed: pa.Array | None = None
    for name in columns:
        col = ordered.column(name).combine_chunks()
        differs = pc.not_equal(col.slice(1), col.slice(0, n - 1))
        changed = differs if changed is None else pc.or_(changed, differs)
    assert changed is not None
    return pa.concat_arrays([pa.array([True]), changed])
