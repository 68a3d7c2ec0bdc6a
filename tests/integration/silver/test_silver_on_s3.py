"""Silver apply against S3 on a moto server: the same code as on a local folder, chosen by the URI."""

from __future__ import annotations

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from lakehouse.emulator import Emulator
from lakehouse.silver import ApplyPolicy, apply_table, silver_schema
from tests.unit.silver.bronze_log import EPOCH, THINGS, Change, append_changes

pytestmark = pytest.mark.integration


def test_apply_on_s3_folds_changes_and_reruns_as_a_noop(emulator: Emulator) -> None:
    emulator.aws.client("s3").create_bucket(Bucket="lake")
    lake, options = "s3://lake", emulator.aws.delta_storage_options()
    row = {"name": "a", "price": None, "updated_at": EPOCH}
    append_changes(
        lake,
        THINGS,
        [Change("c", 1, {"thing_id": 1, **row}), Change("c", 2, {"thing_id": 2, **row})],
        storage_options=options,
    )
    append_changes(
        lake,
        THINGS,
        [Change("u", 3, {"thing_id": 1, **row, "name": "b"}), Change("d", 4, {"thing_id": 2})],
        storage_options=options,
    )

    report = apply_table(THINGS, lake, storage_options=options)
    again = apply_table(THINGS, lake, storage_options=options)

    rows = DeltaTable(f"{lake}/silver/things", storage_options=options).to_pyarrow_table().to_pylist()
    assert [(r["thing_id"], r["name"]) for r in rows] == [(1, "b")]
    assert report.applied_to == 1 and again.noop
    tombstones = DeltaTable(f"{lake}/silver/_tombstones/things", storage_options=options).to_pyarrow_table()
    assert tombstones.column("thing_id").to_pylist() == [2]


def test_missing_bronze_on_s3_creates_the_empty_silver_table(emulator: Emulator) -> None:
    emulator.aws.client("s3").create_bucket(Bucket="lake")
    lake, options = "s3://lake", emulator.aws.delta_storage_options()

    report = apply_table(THINGS, lake, storage_options=options)

    silver = DeltaTable(f"{lake}/silver/things", storage_options=options)
    assert report.noop and silver.to_pyarrow_table().num_rows == 0
    assert pa.schema(silver.schema().to_arrow()) == silver_schema(THINGS)


def test_clustered_merges_and_reclustering_on_s3(emulator: Emulator) -> None:
    emulator.aws.client("s3").create_bucket(Bucket="lake")
    lake, options = "s3://lake", emulator.aws.delta_storage_options()
    policy = ApplyPolicy(max_target_rows_per_merge=2_000)
    row = {"name": "a", "price": None, "updated_at": EPOCH}
    append_changes(
        lake, THINGS, [Change("c", i, {"thing_id": i, **row}) for i in range(1, 6_001)], storage_options=options
    )
    first = apply_table(THINGS, lake, storage_options=options, policy=policy)
    inserts = [Change("c", 10_000 + i, {"thing_id": 6_000 + i, **row}) for i in range(1, 4_001)]
    changes = [Change("u", 20_000, {"thing_id": 7, **row, "name": "b"}), Change("d", 20_001, {"thing_id": 5_999})]
    append_changes(lake, THINGS, [*inserts, *changes], storage_options=options)

    second = apply_table(THINGS, lake, storage_options=options, policy=policy)

    assert first.merges == 6 and second.merges == 2 and second.maintenance.reclustered_rows > 4_000
    rows = DeltaTable(f"{lake}/silver/things", storage_options=options).to_pyarrow_table(columns=["thing_id", "name"])
    names = dict(zip(rows.column("thing_id").to_pylist(), rows.column("name").to_pylist(), strict=True))
    assert len(names) == 9_999 and names[7] == "b" and 5_999 not in names
