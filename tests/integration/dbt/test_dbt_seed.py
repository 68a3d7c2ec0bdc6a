"""Silver seeded from a simulator-style snapshot for the dbt benchmark: the newest rows held back, then merged."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from lakehouse.contract import TABLES
from lakehouse.transform.seed import creation_column, merge_held_back, seed_silver
from tests.integration.dbt.silver_fixture import rows

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt")]


def write_snapshot(out: Path) -> dict[str, int]:
    """The hand-checked fixture as a snapshot folder (one parquet file per contract table)."""
    out.mkdir(parents=True)
    counts = {}
    for name, table_rows in rows().items():
        table = pa.Table.from_pylist(table_rows, schema=TABLES[name].arrow_schema())
        pq.write_table(table, out / f"{name}.parquet")
        counts[name] = table.num_rows
    return counts


def test_the_newest_rows_are_held_back_and_merged_later(tmp_path: Path) -> None:
    totals = write_snapshot(tmp_path / "snapshot")
    lake = str(tmp_path / "lake")

    seeded = seed_silver(tmp_path / "snapshot", lake, hold_back=0.2)

    held = {name: table.num_rows for name, table in seeded.held_back.items()}
    assert {name: seeded.rows[name] + held[name] for name in TABLES} == totals
    assert 0 < sum(held.values()) < sum(totals.values()) / 2

    # One cutoff across tables: every row held back was created after every row kept.
    def creation_times(name: str, table: pa.Table) -> list[datetime]:
        column = creation_column(TABLES[name])
        return table.column(column).to_pylist() if column else []

    kept = [t for name in TABLES for t in creation_times(name, DeltaTable(f"{lake}/silver/{name}").to_pyarrow_table())]
    later = [t for name, table in seeded.held_back.items() for t in creation_times(name, table)]
    assert min(later) > max(kept)

    # Lineage as silver apply writes it: source positions are 40-digit, gap-free sequence numbers.
    orders = DeltaTable(f"{lake}/silver/orders").to_pyarrow_table()
    positions = sorted(orders.column("_source_position").to_pylist())
    assert positions == [f"{i:040d}" for i in range(1, orders.num_rows + 1)]

    assert merge_held_back(seeded) == sum(held.values())
    for name in TABLES:
        assert DeltaTable(f"{lake}/silver/{name}").to_pyarrow_table().num_rows == totals[name]
