"""The batch ingest service and the Lambda handlers, in-process, against a local lake folder."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from lakehouse.bench.cdc_bronze import debezium_batch
from lakehouse.cdc.bronze import METADATA_COLUMNS, PARTITION_COLUMN
from lakehouse.cdc.config import CdcSettings
from lakehouse.cdc.ingest import BatchOutcome, CdcIngestService
from lakehouse.contract import get_table
from tests.unit.cdc.conftest import LambdaContext, load_event


@pytest.fixture
def service(tmp_path: Path) -> CdcIngestService:
    return CdcIngestService(CdcSettings(str(tmp_path / "lake"), str(tmp_path / "quarantine")))


def bronze(service: CdcIngestService, table: str) -> pa.Table:
    return DeltaTable(service.writer.table_uri(table)).to_pyarrow_table()


def quarantine_lines(root: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(root.rglob("*.jsonl")) for line in path.read_text().splitlines()]


def test_kinesis_fixture_batch_counts_add_up(service: CdcIngestService, tmp_path: Path) -> None:
    outcome = service.ingest_kinesis_event(load_event("kinesis_cdc_batch.json"))
    assert outcome.balanced and outcome.failed == 0
    assert (outcome.received, outcome.appended, outcome.ignored, outcome.quarantined) == (15, 6, 4, 5)
    assert outcome.reasons == {
        "ignored:heartbeat": 1,
        "ignored:transaction_marker": 1,
        "ignored:tombstone": 1,
        "ignored:control": 1,
        "quarantined:unknown_table": 1,
        "quarantined:wrong_type": 1,
        "quarantined:undecodable_json": 1,
        "quarantined:missing_primary_key": 1,
        "quarantined:bad_base64": 1,
    }
    assert outcome.appended_by_table == {"orders": 5, "products": 1}
    lines = quarantine_lines(tmp_path / "quarantine")
    assert len(lines) == 5
    by_reason = {line["reason"]: line for line in lines}
    wrong = by_reason["wrong_type"]
    assert wrong["table"] == "orders" and "order_total" in wrong["detail"]
    assert wrong["shard"] == "shardId-000000000000" and wrong["stream"].endswith(":stream/cdc")
    assert orjson.loads(wrong["raw_decoded"])["after"]["order_total"] == "fifty"
    assert by_reason["bad_base64"]["raw"] == "not*base64!"
    assert by_reason["unknown_table"]["table"] is None
    # unknown tables go under unknown/, contract violations under their table
    assert {p.parent.parent.name for p in (tmp_path / "quarantine").rglob("*.jsonl")} == {"orders", "unknown"}


def test_bronze_layout_and_typed_values(service: CdcIngestService) -> None:
    service.ingest_kinesis_event(load_event("kinesis_cdc_batch.json"))
    table = DeltaTable(service.writer.table_uri("orders"))
    assert table.metadata().partition_columns == [PARTITION_COLUMN]
    assert table.metadata().configuration["delta.enableChangeDataFeed"] == "true"
    rows = table.to_pyarrow_table().sort_by("_source_position").to_pylist()
    assert [r["_op"] for r in rows] == ["c", "u", "d", "c", "u"]  # the DMS update sorts last (commit time)
    first = rows[0]
    assert str(first["order_total"]) == "59.90"
    assert first["placed_at"].isoformat() == "2025-11-27T10:00:00+00:00"
    assert first["_dedup_key"] == f"orders:17:{first['_source_position']}"
    assert rows[2]["status"] == "paid"  # the delete carries the before image
    schema = table.schema().to_arrow()
    for column in get_table("orders").column_names:
        assert column in schema.names
    assert set(schema.names) >= METADATA_COLUMNS


def test_new_source_column_reaches_bronze_without_losing_rows(service: CdcIngestService) -> None:
    service.ingest_kinesis_event(load_event("kinesis_cdc_batch.json"))  # record 12 carries gift_wrap=true
    rows = bronze(service, "orders")
    assert "gift_wrap" in rows.column_names and rows.schema.field("gift_wrap").type == pa.string()
    assert sorted(v for v in rows.column("gift_wrap").to_pylist() if v is not None) == ["true"]
    later = debezium_batch(20, first_lsn=10**10, mix={"orders": 1})
    assert service.ingest_kinesis_event(later).appended == 20
    assert bronze(service, "orders").num_rows == rows.num_rows + 20


def test_redelivered_batch_is_not_appended_twice(service: CdcIngestService, tmp_path: Path) -> None:
    event = load_event("kinesis_cdc_batch.json")
    first = service.ingest_kinesis_event(event)
    version = DeltaTable(service.writer.table_uri("orders")).version()
    again = service.ingest_kinesis_event(event)
    assert again.balanced and again.appended == 0
    assert again.reasons["ignored:duplicate"] == first.appended
    assert DeltaTable(service.writer.table_uri("orders")).version() == version  # no empty commit either
    assert bronze(service, "orders").num_rows == 5
    assert len(quarantine_lines(tmp_path / "quarantine")) == 5  # same batch id: the object is rewritten, not added


def test_overlapping_redelivery_appends_only_the_new_records(service: CdcIngestService) -> None:
    records = debezium_batch(300, first_lsn=1_000)["Records"]
    first = service.ingest_kinesis_event({"Records": records[:200]})
    overlap = service.ingest_kinesis_event({"Records": records[100:]})  # e.g. after bisect-on-error
    assert first.appended == 200
    assert (overlap.appended, overlap.reasons["ignored:duplicate"]) == (100, 100)
    total = sum(bronze(service, t).num_rows for t in first.appended_by_table | overlap.appended_by_table)
    assert total == 300


def test_two_shards_with_interleaved_positions(service: CdcIngestService) -> None:
    # Partition keys spread one LSN range over both shards: the positions interleave.
    records = debezium_batch(200, first_lsn=5_000, mix={"orders": 1})["Records"]
    shard_a = [r for i, r in enumerate(records) if i % 2 == 0]
    shard_b = [dict(r, eventID="shardId-000000000001:" + r["eventID"].split(":")[1]) for r in records[1::2]]
    assert service.ingest_kinesis_event({"Records": shard_a}).appended == 100
    assert service.ingest_kinesis_event({"Records": shard_b}).appended == 100
    assert service.ingest_kinesis_event({"Records": shard_b}).appended == 0
    assert bronze(service, "orders").num_rows == 200


@pytest.fixture
def broken_payments_table(service: CdcIngestService) -> Iterator[Path]:
    """A real, table-local commit failure: a plain file where the payments table folder must go."""
    path = Path(service.writer.table_uri("payments"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not a folder")
    yield path
    if path.is_file():
        path.unlink()


def test_failed_commit_reports_the_records_and_the_retry_completes(
    service: CdcIngestService, broken_payments_table: Path
) -> None:
    event = debezium_batch(400, first_lsn=1, mix={"orders": 1, "payments": 1})
    payment_ids = {
        r["kinesis"]["sequenceNumber"]
        for r in event["Records"]
        if orjson.loads(base64.b64decode(r["kinesis"]["data"]))["source"]["table"] == "payments"
    }
    outcome = service.ingest_kinesis_event(event)
    assert outcome.balanced
    assert outcome.failed == len(payment_ids) and outcome.failed_record_ids == payment_ids
    assert outcome.appended == 400 - len(payment_ids)
    assert any("payments" in e for e in outcome.errors)
    # Lambda redelivers from the first failed record (batchItemFailures); the transient error has passed.
    broken_payments_table.unlink()
    first_failed = min(payment_ids)
    retry = service.ingest_kinesis_event(
        {"Records": [r for r in event["Records"] if r["kinesis"]["sequenceNumber"] >= first_failed]}
    )
    assert retry.failed == 0 and retry.appended == len(payment_ids)
    assert bronze(service, "orders").num_rows + bronze(service, "payments").num_rows == 400


def test_dynamodb_fixture_batch(service: CdcIngestService, tmp_path: Path) -> None:
    outcome = service.ingest_dynamodb_event(load_event("dynamodb_behaviour_batch.json"))
    assert outcome.balanced
    assert (outcome.received, outcome.appended, outcome.quarantined) == (9, 6, 3)
    assert outcome.reasons["quarantined:unknown_table"] == 1
    assert outcome.reasons["quarantined:wrong_type"] == 1
    assert outcome.reasons["quarantined:missing_image"] == 1
    sessions = bronze(service, "web_sessions").sort_by("_source_position").to_pylist()
    assert [(s["_op"], s["page_views"]) for s in sessions] == [("c", 1), ("u", 3)]
    assert sessions[1]["ended_at"].isoformat() == "2026-11-27T10:12:30.500000+00:00"
    items = bronze(service, "cart_items").to_pylist()
    assert {(i["_op"], str(i["unit_price"])) for i in items} == {("c", "29.95"), ("d", "29.95")}
    clicks = bronze(service, "clickstream_events").to_pylist()
    assert clicks[0]["referrer"] == "newsletter" and str(clicks[0]["event_date"]) == "2026-11-27"
    assert str(bronze(service, "carts").to_pylist()[0]["cart_value"]) == "59.90"
    lines = quarantine_lines(tmp_path / "quarantine")
    assert {line["source"] for line in lines} == {"dynamodb"}
    assert all(line["record_id"] and line["raw"]["eventSourceARN"] for line in lines)


# ---------------------------------------------------------------------------------------------- handlers
def test_kinesis_handler_in_process(
    cdc_env: tuple[Path, Path], lambda_context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from lambdas.cdc_kinesis.handler import handler, logger

    # The module-level Logger keeps the stdout it saw when first imported (maybe another test's capture).
    logger.registered_handler.setStream(sys.stdout)  # type: ignore[attr-defined,unused-ignore]
    response = handler(load_event("kinesis_cdc_batch.json"), lambda_context)
    assert response == {"batchItemFailures": []}
    lake, _ = cdc_env
    assert DeltaTable(str(lake / "bronze" / "orders")).to_pyarrow_table().num_rows == 5
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    metrics = next(e for e in emitted if "_aws" in e)
    assert metrics["RecordsReceived"] == [15.0] and metrics["RecordsQuarantined"] == [5.0]
    assert metrics["RecordsAppended"] == [6.0] and metrics["RecordsIgnored"] == [4.0]
    assert "IteratorAgeMs" in metrics and "CommitMs" in metrics
    log = next(e for e in emitted if e.get("message") == "cdc batch ingested")
    assert log["batch"]["balanced"] is True and log["function_request_id"] == lambda_context.aws_request_id


def test_kinesis_handler_reports_batch_item_failures(cdc_env: tuple[Path, Path], lambda_context: LambdaContext) -> None:
    from lambdas.cdc_kinesis.handler import handler

    lake, _ = cdc_env
    blocker = lake / "bronze" / "payments"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")
    event = debezium_batch(50, first_lsn=1, mix={"orders": 1, "payments": 1})
    response = handler(event, lambda_context)
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    payments = {
        r["kinesis"]["sequenceNumber"]
        for r in event["Records"]
        if b'"table":"payments"' in base64.b64decode(r["kinesis"]["data"])
    }
    assert failed == payments and failed


def test_dynamodb_handler_in_process(cdc_env: tuple[Path, Path], lambda_context: LambdaContext) -> None:
    from lambdas.cdc_dynamodb.handler import handler

    assert handler(load_event("dynamodb_behaviour_batch.json"), lambda_context) == {"batchItemFailures": []}
    lake, quarantine = cdc_env
    assert DeltaTable(str(lake / "bronze" / "web_sessions")).to_pyarrow_table().num_rows == 2
    objects = sorted(p.relative_to(quarantine).parts[:2] for p in quarantine.rglob("*.jsonl"))
    assert objects == [("dynamodb", "carts"), ("dynamodb", "unknown")]  # one object per (source, table)
    assert len(quarantine_lines(quarantine)) == 3


def test_missing_settings_name_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAKEHOUSE_LAKE_URI", raising=False)
    monkeypatch.delenv("LAKEHOUSE_QUARANTINE_URI", raising=False)
    with pytest.raises(RuntimeError, match="LAKEHOUSE_LAKE_URI, LAKEHOUSE_QUARANTINE_URI"):
        CdcSettings.from_env()


def test_outcome_summary_is_json(service: CdcIngestService) -> None:
    outcome: BatchOutcome = service.ingest_kinesis_event(load_event("kinesis_cdc_batch.json"))
    assert json.loads(json.dumps(outcome.summary()))["received"] == 15
