"""`lakehouse catalog sync` against moto Glue + S3: Athena-native Delta tables, schema changes, idempotence."""

from __future__ import annotations

import json
from datetime import date

import pyarrow as pa
import pytest
from deltalake import write_deltalake
from typer.testing import CliRunner

from lakehouse.catalog.glue import DELTA_PARAMETERS, sync_catalog
from lakehouse.cli import app
from lakehouse.emulator import Emulator
from lakehouse.load.pipeline import LoadTarget, load_files
from lakehouse.sources.landing_files import landing_tables
from lakehouse.sources.landing_files.samples import encode_jsonl_gz, landing_key, review

pytestmark = pytest.mark.integration

SILVER_LANDING_TABLES = sorted(landing_tables())  # a files load leaves every landing table in silver


@pytest.fixture
def lake(emulator: Emulator) -> str:
    s3 = emulator.aws.client("s3")
    for bucket in ("landing", "lake", "quarantine"):
        s3.create_bucket(Bucket=bucket)
    return "s3://lake"


def columns(emulator: Emulator, database: str, table: str) -> list[tuple[str, str]]:
    described = emulator.aws.client("glue").get_table(DatabaseName=database, Name=table)["Table"]
    return [(c["Name"], c["Type"]) for c in described["StorageDescriptor"]["Columns"]]


def load_reviews(emulator: Emulator, lake: str, day: date, records: list[dict]) -> None:
    key = f"landing/{landing_key('reviews', day)}"
    emulator.aws.client("s3").put_object(Bucket="landing", Key=key, Body=encode_jsonl_gz(records))
    load_files("s3://landing/landing", LoadTarget(lake, "s3://quarantine/q", emulator.aws))


def test_sync_registers_bronze_and_silver_then_follows_a_schema_change(emulator: Emulator, lake: str) -> None:
    options = emulator.aws.delta_storage_options()
    bronze = pa.table({"order_id": pa.array([1], pa.int64()), "_op": ["c"], "_ingest_date": [date(2026, 11, 1)]})
    write_deltalake(f"{lake}/bronze/orders", bronze, storage_options=options, partition_by=["_ingest_date"])
    load_reviews(emulator, lake, date(2026, 11, 1), [review(1)])

    first = sync_catalog(lake, emulator.aws)
    # no _dlt_* tables; the landing tables without files yet are created empty by the load and registered too
    assert first.created == ["lakehouse_bronze.orders", *(f"lakehouse_silver.{t}" for t in SILVER_LANDING_TABLES)]
    glue = emulator.aws.client("glue")
    described = glue.get_table(DatabaseName="lakehouse_silver", Name="reviews")["Table"]
    assert described["TableType"] == "EXTERNAL_TABLE"
    assert described["Parameters"] == DELTA_PARAMETERS
    assert described["StorageDescriptor"]["Location"] == "s3://lake/silver/reviews"
    assert columns(emulator, "lakehouse_silver", "reviews")[:3] == [
        ("review_id", "bigint"),
        ("order_item_id", "bigint"),
        ("order_id", "bigint"),
    ]
    assert ("rating", "int") in columns(emulator, "lakehouse_silver", "reviews")
    assert ("created_at", "timestamp") in columns(emulator, "lakehouse_silver", "reviews")
    assert columns(emulator, "lakehouse_bronze", "orders") == [
        ("order_id", "bigint"),
        ("_op", "string"),
        ("_ingest_date", "date"),
    ]

    second = sync_catalog(lake, emulator.aws)
    assert second.created == [] and second.updated == []
    assert second.unchanged == first.created

    load_reviews(emulator, lake, date(2026, 11, 2), [review(2, helpful_votes=4)])  # a new column in silver
    third = sync_catalog(lake, emulator.aws)
    assert third.updated == ["lakehouse_silver.reviews"]
    assert third.unchanged == [t for t in first.created if t != "lakehouse_silver.reviews"]
    assert columns(emulator, "lakehouse_silver", "reviews")[-1] == ("helpful_votes", "bigint")


def test_cli_sync_prints_json(emulator: Emulator, lake: str) -> None:
    load_reviews(emulator, lake, date(2026, 11, 1), [review(1)])
    result = CliRunner().invoke(app, ["catalog", "sync", "--lake", lake, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["created"] == [f"lakehouse_silver.{t}" for t in SILVER_LANDING_TABLES]
