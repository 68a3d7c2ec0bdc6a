"""The same ingest code against S3 on a moto server process, and concurrent appends (S3 and local folder)."""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest
from deltalake import DeltaTable

from lakehouse.bench.cdc_bronze import debezium_batch
from lakehouse.cdc.config import CdcSettings
from lakehouse.cdc.ingest import BatchOutcome, CdcIngestService
from lakehouse.emulator import Emulator
from tests.unit.cdc.conftest import LambdaContext, load_event

pytestmark = pytest.mark.integration


@pytest.fixture
def s3_settings(emulator: Emulator) -> CdcSettings:
    s3 = emulator.aws.client("s3")
    s3.create_bucket(Bucket="lake")
    s3.create_bucket(Bucket="quarantine")
    return CdcSettings("s3://lake", "s3://quarantine/cdc", emulator.aws)


def rows(settings: CdcSettings, table: str) -> int:
    uri = f"{settings.lake_uri}/bronze/{table}"
    return DeltaTable(uri, storage_options=settings.delta_storage_options()).to_pyarrow_table().num_rows


def test_s3_lake_and_quarantine(s3_settings: CdcSettings, emulator: Emulator) -> None:
    service = CdcIngestService(s3_settings)
    outcome = service.ingest_kinesis_event(load_event("kinesis_cdc_batch.json"))
    assert outcome.balanced and (outcome.appended, outcome.quarantined, outcome.failed) == (6, 5, 0)
    assert rows(s3_settings, "orders") == 5
    table = DeltaTable("s3://lake/bronze/orders", storage_options=s3_settings.delta_storage_options())
    assert table.metadata().configuration["delta.enableChangeDataFeed"] == "true"
    listing = emulator.aws.client("s3").list_objects_v2(Bucket="quarantine", Prefix="cdc/")
    keys = sorted(o["Key"] for o in listing["Contents"])
    assert [k.split("/")[:3] for k in keys] == [["cdc", "kinesis", "orders"], ["cdc", "kinesis", "unknown"]]
    body = emulator.aws.client("s3").get_object(Bucket="quarantine", Key=keys[0])["Body"].read()
    assert {json.loads(line)["reason"] for line in body.splitlines()} == {"wrong_type", "missing_primary_key"}
    again = CdcIngestService(s3_settings).ingest_kinesis_event(load_event("kinesis_cdc_batch.json"))  # cold start
    assert again.appended == 0 and rows(s3_settings, "orders") == 5


def test_quarantine_outage_reports_the_bad_records_and_keeps_the_good(emulator: Emulator) -> None:
    emulator.aws.client("s3").create_bucket(Bucket="lake")  # the quarantine bucket is missing: every put fails
    settings = CdcSettings("s3://lake", "s3://missing-bucket/cdc", emulator.aws)
    outcome = CdcIngestService(settings).ingest_kinesis_event(load_event("kinesis_cdc_batch.json"))
    assert outcome.balanced and outcome.failed == 5 and outcome.appended == 6
    assert outcome.reasons["failed:quarantine_write"] == 5
    assert any("quarantine write failed" in e for e in outcome.errors)


def test_handlers_write_to_s3_chosen_by_uri(
    s3_settings: CdcSettings, monkeypatch: pytest.MonkeyPatch, emulator: Emulator
) -> None:
    from lambdas.cdc_dynamodb.handler import handler as dynamodb_handler
    from lambdas.cdc_kinesis.handler import handler as kinesis_handler

    monkeypatch.setenv("LAKEHOUSE_LAKE_URI", "s3://lake")
    monkeypatch.setenv("LAKEHOUSE_QUARANTINE_URI", "s3://quarantine/cdc")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    assert kinesis_handler(load_event("kinesis_cdc_batch.json"), LambdaContext()) == {"batchItemFailures": []}
    assert dynamodb_handler(load_event("dynamodb_behaviour_batch.json"), LambdaContext()) == {"batchItemFailures": []}
    assert rows(s3_settings, "orders") == 5 and rows(s3_settings, "web_sessions") == 2


def shard_batches(shards: int, per_shard: int) -> list[dict]:
    """One batch per shard over one LSN range (as partition-key hashing spreads it), same tables everywhere."""
    records = debezium_batch(shards * per_shard, first_lsn=1, mix={"orders": 2, "payments": 1})["Records"]
    batches = []
    for shard in range(shards):
        mine = records[shard::shards]
        shard_id = f"shardId-{shard:012d}"
        batches.append({"Records": [dict(r, eventID=f"{shard_id}:{r['kinesis']['sequenceNumber']}") for r in mine]})
    return batches


def ingest_concurrently(settings: CdcSettings, batches: list[dict]) -> list[BatchOutcome]:
    # One service per consumer, as concurrent Lambda invocations (one per shard) each have their own.
    def consume(batch: dict) -> BatchOutcome:
        return CdcIngestService(settings).ingest_kinesis_event(batch)

    with ThreadPoolExecutor(max_workers=len(batches)) as pool:
        return list(pool.map(consume, batches))


def assert_nothing_lost(settings: CdcSettings, outcomes: list[BatchOutcome], expected: int, before: int = 0) -> None:
    assert all(o.balanced and o.failed == 0 for o in outcomes), [o.errors for o in outcomes]
    assert sum(o.appended for o in outcomes) == expected
    assert rows(settings, "orders") + rows(settings, "payments") == before + expected


def test_concurrent_appends_to_s3_lose_nothing(s3_settings: CdcSettings) -> None:
    batches = shard_batches(shards=4, per_shard=250)
    CdcIngestService(s3_settings).ingest_kinesis_event(debezium_batch(2, first_lsn=10**9, mix={"orders": 1}))
    CdcIngestService(s3_settings).ingest_kinesis_event(debezium_batch(2, first_lsn=2 * 10**9, mix={"payments": 1}))
    outcomes = ingest_concurrently(s3_settings, batches)
    assert_nothing_lost(s3_settings, outcomes, 1000, before=4)


def test_concurrent_first_appends_create_the_table_once(tmp_path: Path) -> None:
    settings = CdcSettings(str(tmp_path / "lake"), str(tmp_path / "quarantine"))
    outcomes = ingest_concurrently(settings, shard_batches(shards=4, per_shard=200))
    assert_nothing_lost(settings, outcomes, 800)


def _consume_in_process(lake: str, quarantine: str, batch: dict) -> int:
    return CdcIngestService(CdcSettings(lake, quarantine)).ingest_kinesis_event(batch).appended


def test_concurrent_processes_append_to_a_local_table(tmp_path: Path) -> None:
    settings = CdcSettings(str(tmp_path / "lake"), str(tmp_path / "quarantine"))
    CdcIngestService(settings).ingest_kinesis_event(debezium_batch(2, first_lsn=10**9, mix={"orders": 1}))
    batches = shard_batches(shards=3, per_shard=300)
    with ProcessPoolExecutor(max_workers=3, mp_context=multiprocessing.get_context("spawn")) as pool:
        appended = list(pool.map(_consume_in_process, [settings.lake_uri] * 3, [settings.quarantine_uri] * 3, batches))
    assert sum(appended) == 900
    assert rows(settings, "orders") + rows(settings, "payments") == 902
