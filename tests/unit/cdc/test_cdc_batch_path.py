"""The Kinesis batch path (whole batch base64-decoded, one Arrow JSON read per table, no per-record objects)
against the per-record reference path, through the whole service: same bronze rows, same counts and reasons,
same quarantine lines. Plus the dedup high-water mark that lets a fresh batch skip reading bronze."""

from __future__ import annotations

import json
import random
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
from deltalake import DeltaTable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lakehouse.bench.cdc_bronze import debezium_batch, debezium_event
from lakehouse.cdc.bronze import committed_high_position
from lakehouse.cdc.config import CdcSettings
from lakehouse.cdc.ingest import BatchOutcome, CdcIngestService, KinesisRecords
from lakehouse.contract import get_table
from tests.unit.cdc.conftest import kinesis_record, kinesis_records
from tests.unit.cdc.test_cdc_fuzz import kinesis_payloads

VOLATILE_SUMMARY = ("commit_ms", "iterator_age_ms")


def _ingest(workdir: Path, event: dict[str, Any], *, batch_json: bool) -> dict[str, Any]:
    """Everything a batch leaves behind, minus wall-clock values."""
    service = CdcIngestService(CdcSettings(str(workdir / "lake"), str(workdir / "quarantine")), batch_json=batch_json)
    outcome = service.ingest_kinesis_event(event)
    summary = {k: v for k, v in outcome.summary().items() if k not in VOLATILE_SUMMARY}
    bronze = {}
    for table in outcome.appended_by_table:
        rows = DeltaTable(service.writer.table_uri(table)).to_pyarrow_table().drop_columns(["_ingested_at"])
        bronze[table] = sorted(rows.to_pylist(), key=lambda row: row["_dedup_key"])
    quarantine = sorted(
        (
            {k: v for k, v in json.loads(line).items() if k != "quarantined_at"}
            for path in (workdir / "quarantine").rglob("*.jsonl")
            for line in path.read_text().splitlines()
        ),
        key=lambda line: line["record_id"],
    )
    return {"summary": summary, "bronze": bronze, "quarantine": quarantine}


def _same_effect(event: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as fast_dir, tempfile.TemporaryDirectory() as reference_dir:
        fast = _ingest(Path(fast_dir), event, batch_json=True)
        reference = _ingest(Path(reference_dir), event, batch_json=False)
    assert fast == reference


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(kinesis_payloads(), min_size=1, max_size=20), st.integers(0, 3))
def test_batch_path_and_per_record_path_leave_the_same_bronze_and_quarantine(
    payloads: list[bytes | str | None], keep_bad: int
) -> None:
    # Mostly-valid batches (only `keep_bad` odd records) reach the batch path; the rest check its fallbacks.
    good = [p for p in payloads if isinstance(p, bytes) and p.startswith(b'{"before"')]
    odd = [p for p in payloads if p not in good][:keep_bad]
    _same_effect({"Records": kinesis_records(good + odd)})


def test_plain_debezium_batch_takes_the_batch_path() -> None:
    event = debezium_batch(300, first_lsn=1_000, seed=3)
    changes = CdcIngestService._kinesis_batch_changes(KinesisRecords(event))
    assert changes is not None
    assert sorted(i for part in changes for i in part.record_indices) == list(range(300))
    _same_effect(event)


def _event(table: str, lsn: int, op: str = "c", extra: dict[str, Any] | None = None) -> dict[str, Any]:
    event = debezium_event(get_table(table), lsn, lsn, random.Random(lsn), op=op)
    (event["before"] if op == "d" else event["after"]).update(extra or {})
    return event


def test_deletes_updates_and_new_columns_in_one_batch() -> None:
    events = [
        _event("orders", 10),
        _event("orders", 11, op="u", extra={"coupon": "SPRING"}),  # a new source column: a string column in bronze
        _event("orders", 12, op="d"),
        _event("payments", 13, op="d"),
        _event("customers", 14, op="r", extra={"loyalty_tier": 3}),
    ]
    event = {"Records": [kinesis_record(orjson.dumps(e), i) for i, e in enumerate(events)]}
    assert CdcIngestService._kinesis_batch_changes(KinesisRecords(event)) is not None
    _same_effect(event)


def test_a_column_named_table_or_a_source_block_first_cannot_misroute_records() -> None:
    """Records are grouped by the `"table":"..."` text of their source block; the parsed source must agree."""
    shadowed = _event("orders", 20, extra={"table": "payments"})  # an image column called `table`
    source_first = _event("payments", 21)
    source_first = {"source": source_first.pop("source"), **source_first}
    source_first["after"]["table"] = "orders"  # found last: the grouping guesses `orders`, the source says not
    event = {"Records": [kinesis_record(orjson.dumps(e), i) for i, e in enumerate([shadowed, source_first])]}
    _same_effect(event)


def test_tombstones_and_bad_base64_send_the_batch_to_the_per_record_path() -> None:
    valid = orjson.dumps(_event("orders", 30))
    for odd in (None, "", "bnVsbA==", "not base64!", "IA=="):  # missing, empty, JSON null, junk, a blank
        records = kinesis_records([valid, odd])
        assert CdcIngestService._kinesis_batch_changes(KinesisRecords({"Records": records})) is None
        _same_effect({"Records": records})


def test_committed_high_position_follows_the_log(tmp_path: Path) -> None:
    service = CdcIngestService(CdcSettings(str(tmp_path / "lake"), str(tmp_path / "quarantine")))
    assert committed_high_position(service.writer.open("orders")) == ""
    service.ingest_kinesis_event(debezium_batch(50, first_lsn=100, mix={"orders": 1}))
    assert committed_high_position(service.writer.open("orders")) == f"{149:040d}"


def test_another_consumers_commit_invalidates_the_remembered_high_water_mark(tmp_path: Path) -> None:
    """Consumer A remembers the high-water mark after its own commit; consumer B then commits later positions;
    a redelivery of B's batch to A must still be recognised as duplicates (A re-reads the file statistics)."""
    lake, quarantine = str(tmp_path / "lake"), str(tmp_path / "quarantine")
    first, second = CdcIngestService(CdcSettings(lake, quarantine)), CdcIngestService(CdcSettings(lake, quarantine))
    mix = {"orders": 1}
    assert first.ingest_kinesis_event(debezium_batch(40, first_lsn=1, mix=mix)).appended == 40
    assert first.ingest_kinesis_event(debezium_batch(40, first_lsn=41, mix=mix)).appended == 40
    later = debezium_batch(40, first_lsn=81, mix=mix)
    assert second.ingest_kinesis_event(later).appended == 40
    redelivered = first.ingest_kinesis_event(later)
    assert (redelivered.appended, redelivered.reasons["ignored:duplicate"]) == (0, 40)
    table = DeltaTable(first.writer.table_uri("orders")).to_pyarrow_table()
    assert table.num_rows == 120
    assert pa.compute.count_distinct(table.column("_dedup_key")).as_py() == 120


def test_two_consumers_racing_with_the_same_batch_append_it_once(tmp_path: Path) -> None:
    """Optimistic commits: the loser of the race re-reads bronze and finds its changes already there."""
    lake, quarantine = str(tmp_path / "lake"), str(tmp_path / "quarantine")
    mix = {"orders": 2, "payments": 1}
    consumers = [CdcIngestService(CdcSettings(lake, quarantine)) for _ in range(2)]
    for offset, consumer in enumerate(consumers):  # both warm, with tables open at the same version
        consumer.ingest_kinesis_event(debezium_batch(3, first_lsn=10**6 + 10 * offset, mix=mix))
    event = debezium_batch(300, first_lsn=1, mix=mix)
    start = threading.Barrier(len(consumers))

    def consume(consumer: CdcIngestService) -> BatchOutcome:
        start.wait()
        return consumer.ingest_kinesis_event(event)

    with ThreadPoolExecutor(max_workers=len(consumers)) as pool:
        outcomes = list(pool.map(consume, consumers))
    assert all(o.balanced and not o.failed for o in outcomes), [o.errors for o in outcomes]
    assert sum(o.appended for o in outcomes) == 300
    assert sum(o.reasons["ignored:duplicate"] for o in outcomes) == 300
    for table in mix:
        keys = DeltaTable(consumers[0].writer.table_uri(table)).to_pyarrow_table().column("_dedup_key")
        assert len(keys) == pa.compute.count_distinct(keys).as_py()


def test_new_column_then_same_columns_then_fewer_columns(tmp_path: Path) -> None:
    """The writer merges the schema only when a batch brings a column the table lacks; values land by name."""
    service = CdcIngestService(CdcSettings(str(tmp_path / "lake"), str(tmp_path / "quarantine")))
    batches = [
        [_event("orders", 40, extra={"coupon": "A"})],  # adds `coupon` (after the metadata columns)
        [_event("orders", 41, extra={"coupon": "B"})],  # same columns, in another order than the table's
        [_event("orders", 42)],  # no `coupon`: null
    ]
    for offset, events in enumerate(batches):
        event = {"Records": [kinesis_record(orjson.dumps(e), 100 * offset + i) for i, e in enumerate(events)]}
        assert service.ingest_kinesis_event(event).appended == len(events)
    rows = DeltaTable(service.writer.table_uri("orders")).to_pyarrow_table().to_pylist()
    by_id = {row["order_id"]: row for row in rows}
    assert {k: by_id[k]["coupon"] for k in (40, 41, 42)} == {40: "A", 41: "B", 42: None}
    assert {k: by_id[k]["_source_position"] for k in (40, 41, 42)} == {k: f"{k:040d}" for k in (40, 41, 42)}
