"""dlt landing-file loads into Delta on a local folder: incremental, merge, schema evolution, quarantine."""

from __future__ import annotations

import gzip
import json
import os
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable

from lakehouse.load.pipeline import LoadTarget, load_files
from lakehouse.sources.landing_files.samples import review, write_landing_file


def silver(target: LoadTarget, table: str) -> pa.Table:
    return (
        DeltaTable(f"{target.silver_uri}/{table}")
        .to_pyarrow_table()
        .sort_by("review_id" if table == "reviews" else "_dlt_id")
    )


def touch_later(path: Path) -> None:
    """New files must look newer than the last run's cursor even on a coarse clock."""
    later = time.time() + 5
    os.utime(path, (later, later))


def test_full_load_then_nothing_then_only_new_files(tmp_path: Path, local_target: LoadTarget) -> None:
    landing = tmp_path / "landing"
    write_landing_file(landing, "reviews", date(2026, 11, 1), [review(i) for i in range(1, 51)])
    write_landing_file(landing, "reviews", date(2026, 11, 2), [review(i) for i in range(51, 101)])

    first = load_files(str(landing), local_target)
    assert first.rows == {"reviews": 100} and first.files == {"reviews": 2} and first.quarantined == {}
    table = silver(local_target, "reviews")
    assert table.num_rows == 100
    # contract types, not JSON's: timestamps in UTC, int32 ratings
    assert table.schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("rating").type == pa.int32()
    assert {"_dlt_load_id", "_dlt_id", "_landing_file"} <= set(table.column_names)

    second = load_files(str(landing), local_target)  # fresh working folder: state comes from the lake
    assert second.rows == {} and second.files == {} and second.load_ids == []

    new_file = write_landing_file(
        landing, "reviews", date(2026, 11, 3), [review(i) for i in range(101, 111)] + [review(7, title="edited")]
    )
    touch_later(new_file)
    third = load_files(str(landing), local_target)
    assert third.files == {"reviews": 1} and third.rows == {"reviews": 11}
    table = silver(local_target, "reviews")
    assert table.num_rows == 110  # review 7 merged on its key, not appended
    assert table.filter(pa.compute.equal(table["review_id"], 7))["title"].to_pylist() == ["edited"]


def test_same_key_in_two_files_of_one_run_keeps_the_later_version(tmp_path: Path, local_target: LoadTarget) -> None:
    landing = tmp_path / "landing"
    write_landing_file(landing, "reviews", date(2026, 11, 1), [review(1), review(2)])
    write_landing_file(landing, "reviews", date(2026, 11, 2), [review(2, title="second thoughts")])
    load_files(str(landing), local_target)
    table = silver(local_target, "reviews")
    assert table["review_id"].to_pylist() == [1, 2]
    assert table["title"].to_pylist() == ["review 1", "second thoughts"]


def test_schema_evolution_new_column_variant_and_child_table(tmp_path: Path, local_target: LoadTarget) -> None:
    landing = tmp_path / "landing"
    write_landing_file(landing, "reviews", date(2026, 11, 1), [review(1), review(2)])
    load_files(str(landing), local_target)

    evolved = [
        review(3, verified_purchase=True),  # a new field
        review(4, rating="five stars"),  # conflicts with the int32 contract type
        review(5, photos=[{"url": "a.jpg"}, {"url": "b.jpg"}]),  # a nested list
    ]
    touch_later(write_landing_file(landing, "reviews", date(2026, 11, 2), evolved))
    report = load_files(str(landing), local_target)
    assert report.rows == {"reviews": 3, "reviews__photos": 2}

    table = silver(local_target, "reviews")
    assert table.num_rows == 5
    assert table["verified_purchase"].to_pylist() == [None, None, True, None, None]
    assert table["rating"].to_pylist()[3] is None
    assert table["rating__v_text"].to_pylist()[3] == "five stars"  # kept, not dropped
    photos = silver(local_target, "reviews__photos")
    assert sorted(photos["url"].to_pylist()) == ["a.jpg", "b.jpg"]
    parent = table.filter(pa.compute.equal(table["review_id"], 5))["_dlt_id"][0].as_py()
    assert set(photos["_dlt_parent_id"].to_pylist()) == {parent}


def test_bad_files_are_quarantined_and_the_rest_loads(tmp_path: Path, local_target: LoadTarget) -> None:
    landing = tmp_path / "landing"
    write_landing_file(landing, "reviews", date(2026, 11, 1), [review(i) for i in range(1, 21)])
    broken = write_landing_file(landing, "reviews", date(2026, 11, 2), [review(i) for i in range(21, 41)])
    broken.write_bytes(broken.read_bytes()[:60])  # truncated upload
    bad_line = landing / "reviews" / "dt=2026-11-03" / "part-00000.jsonl.gz"
    bad_line.parent.mkdir(parents=True)
    bad_line.write_bytes(gzip.compress((json.dumps(review(41)) + "\n{oops\n").encode()))

    report = load_files(str(landing), local_target)
    assert report.rows == {"reviews": 21}
    assert report.quarantined == {"reviews": 2}
    (quarantine_file,) = report.quarantine_files
    entries = [json.loads(line) for line in Path(quarantine_file).read_text().splitlines()]
    by_position = {e["position"]: e for e in entries}
    assert by_position[None]["stream"].endswith("dt=2026-11-02/part-00000.jsonl.gz")
    assert by_position["2"]["raw_decoded"] == "{oops" and by_position["2"]["reason"] == "undecodable_json"
    assert by_position[None]["reason"] == "unreadable_gzip"


def test_loads_into_a_silver_folder_another_writer_created(tmp_path: Path, local_target: LoadTarget) -> None:
    """Silver apply may create <lake>/silver before the first dlt load on a local lake."""
    Path(local_target.silver_uri, "orders").mkdir(parents=True)
    landing = tmp_path / "landing"
    write_landing_file(landing, "reviews", date(2026, 11, 1), [review(1)])
    assert load_files(str(landing), local_target).rows == {"reviews": 1}
    assert Path(local_target.silver_uri, "orders").is_dir()
