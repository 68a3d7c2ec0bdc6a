"""The ground-truth snapshot writer: a folder of Parquet parts per table, each closed after a bounded number of row
groups (a writer holds every row group's metadata until its file closes), read back as one table in write order."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from generator.config import SimulationConfig
from generator.entities import campaigns_for
from generator.writers.snapshot import ROW_GROUPS_PER_PART, SnapshotWriter, snapshot_parts
from lakehouse.contract import TABLES


def _campaign_rows(first: int, count: int) -> pa.Table:
    """`count` campaigns with ids from `first`: the other columns of one real campaign, repeated."""
    campaigns = campaigns_for(SimulationConfig(seed=1, scale=0.01, days=5))
    rows = campaigns.take([0] * count)
    ids = pa.array(range(first, first + count), rows.schema.field("campaign_id").type)
    return rows.set_column(rows.schema.get_field_index("campaign_id"), rows.schema.field("campaign_id"), ids)


def test_parts_roll_after_the_row_group_limit_and_read_back_in_order(tmp_path: Path) -> None:
    writer = SnapshotWriter(tmp_path)
    slices = 2 * ROW_GROUPS_PER_PART + 5
    for number in range(slices):
        writer.write("campaigns", _campaign_rows(number * 10, 10))
    writer.close()

    parts = snapshot_parts(tmp_path / "snapshot", "campaigns")
    assert [p.name for p in parts] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert [pq.ParquetFile(p).num_row_groups for p in parts] == [ROW_GROUPS_PER_PART, ROW_GROUPS_PER_PART, 5]
    ids = pq.read_table(tmp_path / "snapshot" / "campaigns.parquet").column("campaign_id").to_pylist()
    assert ids == list(range(slices * 10))
    assert writer.counts["campaigns"] == slices * 10


def test_every_table_gets_a_readable_part_even_when_empty(tmp_path: Path) -> None:
    writer = SnapshotWriter(tmp_path)
    writer.write("campaigns", _campaign_rows(0, 3))
    writer.close()

    for name, contract in TABLES.items():
        table = pq.read_table(tmp_path / "snapshot" / f"{name}.parquet")
        assert table.schema.remove_metadata() == contract.arrow_schema()
        assert table.num_rows == (3 if name == "campaigns" else 0)
