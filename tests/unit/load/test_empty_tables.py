"""Tables nothing was loaded into yet are created empty by dlt itself, and later loads merge into them."""

from __future__ import annotations

import json
import os
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from lakehouse.aws import AwsConfig
from lakehouse.contract import get_table
from lakehouse.load.pipeline import LoadTarget, load_files
from lakehouse.sources.landing_files import LINEAGE_COLUMN, landing_tables
from lakehouse.sources.landing_files.samples import review, write_landing_file

DLT_COLUMNS = ["_dlt_load_id", "_dlt_id"]


def delta_fields(target: LoadTarget, table: str) -> list[dict[str, object]]:
    """Name, type and nullability of every column, as the Delta log records them."""
    fields = json.loads(DeltaTable(f"{target.silver_uri}/{table}").schema().to_json())["fields"]
    return [{k: f[k] for k in ("name", "type", "nullable")} for f in fields]


def rows(target: LoadTarget, table: str) -> pa.Table:
    return DeltaTable(f"{target.silver_uri}/{table}").to_pyarrow_table()


def touch_later(path: Path) -> None:
    later = time.time() + 5
    os.utime(path, (later, later))


def test_no_landing_files_yet_creates_every_landing_table_empty(tmp_path: Path, local_target: LoadTarget) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()

    report = load_files(str(landing), local_target)

    assert report.rows == {} and sorted(report.created_empty) == sorted(landing_tables())
    assert report.load_ids and "create_empty" in report.seconds
    for table in landing_tables():
        contract = get_table(table)
        empty = rows(local_target, table)
        assert empty.num_rows == 0
        assert empty.column_names == [*contract.column_names, LINEAGE_COLUMN, *DLT_COLUMNS]
        assert empty.schema.field(LINEAGE_COLUMN).type == pa.string()
    assert rows(local_target, "reviews").schema.field("created_at").type == pa.timestamp("us", tz="UTC")

    again = load_files(str(landing), local_target)
    assert again.created_empty == [] and again.load_ids == []  # they exist now: nothing to do


def test_first_load_into_a_pre_created_table_merges_and_then_is_incremental(tmp_path: Path) -> None:
    pre_created = LoadTarget(str(tmp_path / "lake"), str(tmp_path / "quarantine"), AwsConfig())
    (tmp_path / "landing").mkdir()
    load_files(str(tmp_path / "landing"), pre_created)  # creates reviews empty

    landing = tmp_path / "landing"
    write_landing_file(landing, "reviews", date(2026, 11, 1), [review(i) for i in range(1, 51)])
    first = load_files(str(landing), pre_created)
    assert first.rows == {"reviews": 50} and first.files == {"reviews": 1} and first.created_empty == []
    assert rows(pre_created, "reviews").num_rows == 50

    # the table is exactly what dlt gives a table it creates with data
    fresh = LoadTarget(str(tmp_path / "fresh-lake"), str(tmp_path / "fresh-quarantine"), AwsConfig())
    load_files(str(landing), fresh)
    assert delta_fields(pre_created, "reviews") == delta_fields(fresh, "reviews")

    nothing_new = load_files(str(landing), pre_created)  # the files cursor was stored with the first load
    assert nothing_new.rows == {} and nothing_new.files == {} and nothing_new.load_ids == []

    edited = write_landing_file(landing, "reviews", date(2026, 11, 2), [review(7, title="edited"), review(51)], part=1)
    touch_later(edited)
    third = load_files(str(landing), pre_created)
    assert third.rows == {"reviews": 2} and third.files == {"reviews": 1}
    table = rows(pre_created, "reviews")
    assert table.num_rows == 51  # review 7 merged on its key (upsert), not appended
    assert table.filter(pc.equal(table["review_id"], 7))["title"].to_pylist() == ["edited"]
