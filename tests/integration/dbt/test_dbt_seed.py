"""Silver seeded from a simulator-style snapshot for the dbt benchmark: the newest rows held back, then merged."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from lakehouse.contract import TABLES
from lakehouse.silver.apply import ApplyPolicy
from lakehouse.transform.seed import creation_column, merge_held_back, partition_bounds, seed_silver, write_silver
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
    assert seeded.cutoff is not None and max(kept) <= seeded.cutoff < min(later)

    # Lineage as silver apply writes it: source positions are 40-digit, gap-free sequence numbers.
    orders = DeltaTable(f"{lake}/silver/orders").to_pyarrow_table()
    positions = sorted(orders.column("_source_position").to_pylist())
    assert positions == [f"{i:040d}" for i in range(1, orders.num_rows + 1)]

    assert merge_held_back(seeded) == sum(held.values())
    for name in TABLES:
        assert DeltaTable(f"{lake}/silver/{name}").to_pyarrow_table().num_rows == totals[name]


def test_silver_is_laid_out_as_silver_apply_lays_it_out(tmp_path: Path) -> None:
    """Clustered by primary-key range in files of about half the merge budget (their key ranges do not overlap, so
    a filter on a column that follows the key skips files); partitioned tables by their partition columns."""
    orders = TABLES["orders"]
    budget = ApplyPolicy().max_target_rows_per_merge // 2
    count = budget * 3
    shuffled = pa.array(np.random.default_rng(7).permutation(count) + 1, pa.int64())
    rows = pa.table({f.name: pa.nulls(count, f.type) for f in orders.arrow_schema()}).set_column(
        0, "order_id", shuffled
    )
    write_silver(orders, rows, str(tmp_path / "orders"))

    files = pa.table(DeltaTable(str(tmp_path / "orders")).get_add_actions(flatten=True)).sort_by("min.order_id")
    assert files.num_rows >= 2
    assert all(n <= budget * 1.5 for n in files["num_records"].to_pylist())
    lows, highs = files["min.order_id"].to_pylist(), files["max.order_id"].to_pylist()
    assert all(high < next_low for high, next_low in zip(highs, lows[1:], strict=False))
    assert sum(files["num_records"].to_pylist()) == count

    events = TABLES["clickstream_events"]
    day = pa.array([datetime(2026, 11, 1).date(), datetime(2026, 11, 2).date()] * 2, pa.date32())
    rows = pa.table({f.name: pa.nulls(4, f.type) for f in events.arrow_schema()}).set_column(
        events.column_names.index("event_date"), "event_date", day
    )
    write_silver(events, rows, str(tmp_path / "events"))
    assert DeltaTable(str(tmp_path / "events")).metadata().partition_columns == ["event_date"]


def test_a_partitioned_table_is_streamed_in_batches_into_one_commit(tmp_path: Path) -> None:
    """Partitioned tables are seeded batch by batch (the largest table does not fit in memory at scale 4): the
    result is the same rows, held-back split and gap-free source positions as one whole-table write."""
    write_snapshot(tmp_path / "snapshot")
    whole = seed_silver(tmp_path / "snapshot", str(tmp_path / "whole"), hold_back=0.2, batch_rows=1_000_000)
    streamed = seed_silver(tmp_path / "snapshot", str(tmp_path / "streamed"), hold_back=0.2, batch_rows=2)

    name, columns = "clickstream_events", ["event_id", "session_id", "event_ts", "event_date", "_source_position"]
    assert streamed.rows[name] > 2, "the fixture must span several batches"
    assert streamed.rows == whole.rows
    assert streamed.held_back[name].equals(whole.held_back[name])
    table = DeltaTable(str(tmp_path / "streamed" / "silver" / name))
    assert table.version() == 0
    assert (
        table.to_pyarrow_table()
        .select(columns)
        .sort_by("event_id")
        .equals(
            DeltaTable(str(tmp_path / "whole" / "silver" / name)).to_pyarrow_table().select(columns).sort_by("event_id")
        )
    )
    positions = sorted(table.to_pyarrow_table().column("_source_position").to_pylist())
    assert positions == [f"{i:040d}" for i in range(1, streamed.rows[name] + 1)]


def test_merging_held_back_rows_reads_only_their_partitions(tmp_path: Path) -> None:
    """The merge predicate bounds the partition columns to the held-back rows' values, so delta-rs skips every
    other partition instead of reading the whole table."""
    events = TABLES["clickstream_events"]
    days = pa.array([datetime(2026, 11, 3).date(), datetime(2026, 11, 1).date()], pa.date32())
    held = pa.table({f.name: pa.nulls(2, f.type) for f in events.arrow_schema()}).set_column(
        events.column_names.index("event_date"), "event_date", days
    )
    assert partition_bounds(events, held, alias="t") == ["t.event_date >= '2026-11-01'", "t.event_date <= '2026-11-03'"]
    assert partition_bounds(TABLES["orders"], held.slice(0, 0), alias="t") == []
