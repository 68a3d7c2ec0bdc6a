"""Test helper: append changes to a bronze table laid out as agreed in notes/interfaces.md (contract columns all
nullable + lineage columns, partitioned by `_ingest_date`, change data feed on). Used by the silver tests before
and independently of the real bronze writer, which the end-to-end tests exercise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake

from lakehouse.contract import Column, SourceSystem, TableContract
from lakehouse.settings import BRONZE, table_uri

THINGS = TableContract(
    name="things",
    source=SourceSystem.OLTP,
    description="a small table for silver tests",
    columns=(
        Column("thing_id", "int64", nullable=False),
        Column("name", "string", nullable=False),
        Column("price", "decimal(12,2)"),
        Column("updated_at", "timestamp", nullable=False),
    ),
    primary_key=("thing_id",),
)
PAIRS = TableContract(
    name="pairs",
    source=SourceSystem.DYNAMODB,
    description="a composite-key table for silver tests",
    columns=(
        Column("left_id", "string", nullable=False),
        Column("right_id", "int64", nullable=False),
        Column("qty", "int32", nullable=False),
        Column("updated_at", "timestamp", nullable=False),
    ),
    primary_key=("left_id", "right_id"),
)
EPOCH = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Change:
    op: str  # c | u | d | r
    position: int
    row: dict[str, Any]  # contract columns (for deletes at least the key)


def bronze_schema(contract: TableContract, extra: tuple[pa.Field, ...] = ()) -> pa.Schema:
    fields = [f.with_nullable(True) for f in contract.arrow_schema()]
    ts = pa.timestamp("us", tz="UTC")
    return pa.schema(
        [
            *fields,
            *extra,
            pa.field("_op", pa.string()),
            pa.field("_source_position", pa.string()),
            pa.field("_source_ts", ts),
            pa.field("_ingested_at", ts),
            pa.field("_batch_id", pa.string()),
            pa.field("_dedup_key", pa.string()),
            pa.field("_ingest_date", pa.date32()),
        ]
    )


def position(value: int) -> str:
    return f"{value:040d}"


def append_changes(
    lake: str,
    contract: TableContract,
    changes: list[Change],
    extra: tuple[pa.Field, ...] = (),
    storage_options: dict[str, str] | None = None,
) -> None:
    """One bronze commit holding `changes` (an empty list commits nothing)."""
    if not changes:
        return
    schema = bronze_schema(contract, extra)
    rows = []
    for change in changes:
        key = "|".join(str(change.row[k]) for k in contract.primary_key)
        rows.append(
            {
                **{f.name: change.row.get(f.name) for f in schema if not f.name.startswith("_")},
                "_op": change.op,
                "_source_position": position(change.position),
                "_source_ts": EPOCH + timedelta(seconds=change.position),
                "_ingested_at": datetime.now(UTC),
                "_batch_id": "test",
                "_dedup_key": f"{contract.name}:{key}:{position(change.position)}",
                "_ingest_date": date(2026, 11, 1),
            }
        )
    write_deltalake(
        table_uri(lake, BRONZE, contract.name),
        pa.Table.from_pylist(rows, schema=schema),
        mode="append",
        partition_by=["_ingest_date"],
        schema_mode="merge",
        configuration={"delta.enableChangeDataFeed": "true"},
        storage_options=storage_options,
    )
