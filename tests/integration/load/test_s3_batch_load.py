"""dlt loads from an S3 landing bucket into a Delta lake on S3, against a moto server process."""

from __future__ import annotations

import json
from datetime import date

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from lakehouse.emulator import Emulator
from lakehouse.load.pipeline import LoadTarget, load_files
from lakehouse.sources.landing_files.samples import encode_jsonl_gz, landing_key, review

pytestmark = pytest.mark.integration

LANDING = "s3://landing/landing"


@pytest.fixture
def target(emulator: Emulator) -> LoadTarget:
    s3 = emulator.aws.client("s3")
    for bucket in ("landing", "lake", "quarantine"):
        s3.create_bucket(Bucket=bucket)
    return LoadTarget("s3://lake", "s3://quarantine/quarantine", emulator.aws)


def upload(emulator: Emulator, table: str, day: date, body: bytes, part: int = 0) -> None:
    emulator.aws.client("s3").put_object(Bucket="landing", Key=f"landing/{landing_key(table, day, part)}", Body=body)


def silver(emulator: Emulator, table: str) -> pa.Table:
    options = emulator.aws.delta_storage_options()
    return DeltaTable(f"s3://lake/silver/{table}", storage_options=options).to_pyarrow_table()


def test_full_load_no_op_then_new_files_only(emulator: Emulator, target: LoadTarget) -> None:
    upload(emulator, "reviews", date(2026, 11, 1), encode_jsonl_gz([review(i) for i in range(1, 31)]))
    upload(emulator, "reviews", date(2026, 11, 2), encode_jsonl_gz([review(i) for i in range(31, 61)]))

    assert load_files(LANDING, target).rows == {"reviews": 60}
    assert silver(emulator, "reviews").num_rows == 60

    again = load_files(LANDING, target)
    assert again.rows == {} and again.files == {}

    upload(emulator, "reviews", date(2026, 11, 3), encode_jsonl_gz([review(61), review(3, rating=1)]))
    third = load_files(LANDING, target)
    assert third.files == {"reviews": 1} and third.rows == {"reviews": 2}
    table = silver(emulator, "reviews")
    assert table.num_rows == 61
    assert table.filter(pa.compute.equal(table["review_id"], 3))["rating"].to_pylist() == [1]


def test_bad_files_go_to_the_quarantine_bucket_and_the_rest_loads(emulator: Emulator, target: LoadTarget) -> None:
    good = encode_jsonl_gz([review(i) for i in range(1, 11)])
    upload(emulator, "reviews", date(2026, 11, 1), good)
    upload(emulator, "reviews", date(2026, 11, 2), good[:40])  # truncated gzip
    upload(emulator, "support_tickets", date(2026, 11, 1), encode_jsonl_gz([]))  # empty: no rows, no error
    report = load_files(LANDING, target)
    assert report.rows == {"reviews": 10}
    assert report.quarantined == {"reviews": 1}
    (uri,) = report.quarantine_files
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    assert key.startswith("quarantine/landing_files/reviews/dt=")
    body = emulator.aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    (entry,) = [json.loads(line) for line in body.splitlines()]
    assert entry["stream"] == "s3://landing/landing/reviews/dt=2026-11-02/part-00000.jsonl.gz"
    assert entry["reason"] == "unreadable_gzip" and entry["position"] is None


def test_schema_evolution_on_s3(emulator: Emulator, target: LoadTarget) -> None:
    upload(emulator, "reviews", date(2026, 11, 1), encode_jsonl_gz([review(1)]))
    load_files(LANDING, target)
    upload(emulator, "reviews", date(2026, 11, 2), encode_jsonl_gz([review(2, language="de", rating="n/a")]))
    load_files(LANDING, target)
    table = silver(emulator, "reviews").sort_by("review_id")
    assert table["language"].to_pylist() == [None, "de"]
    assert table["rating__v_text"].to_pylist() == [None, "n/a"]


def test_tables_without_files_are_created_empty_on_s3_and_later_files_merge_in(
    emulator: Emulator, target: LoadTarget
) -> None:
    upload(emulator, "reviews", date(2026, 11, 1), encode_jsonl_gz([review(1), review(2)]))

    first = load_files(LANDING, target)

    assert first.rows == {"reviews": 2} and sorted(first.created_empty) == ["product_images", "support_tickets"]
    assert silver(emulator, "product_images").num_rows == 0
    assert {"_dlt_load_id", "_dlt_id", "_landing_file"} <= set(silver(emulator, "support_tickets").column_names)

    upload(emulator, "reviews", date(2026, 11, 2), encode_jsonl_gz([review(2, title="edited"), review(3)]))
    second = load_files(LANDING, target)
    assert second.rows == {"reviews": 2} and second.created_empty == []
    assert silver(emulator, "reviews").num_rows == 3
