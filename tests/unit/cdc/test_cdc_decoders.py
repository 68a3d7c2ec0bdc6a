"""Decoders against the real-shaped fixtures in tests/events/."""

from __future__ import annotations

import base64
import datetime as dt

import orjson
import pytest

from lakehouse.cdc.decoders import decode_change_json, decode_dynamodb_record, decode_kinesis_data
from lakehouse.cdc.model import Change, Ignored, IgnoreReason, Op, QuarantineReason, RecordRejected, to_position
from tests.unit.cdc.conftest import load_event


def decode_fixture(name: str) -> Change | Ignored:
    return decode_change_json(orjson.dumps(load_event(name)))


def test_debezium_plain_create() -> None:
    change = decode_fixture("debezium_orders_create.json")
    assert isinstance(change, Change)
    assert (change.table, change.op) == ("orders", Op.CREATE)
    assert change.position == "0" * 31 + "123456789"
    assert change.source_ts_us == 1764237600000 * 1000
    assert change.image["order_total"] == "59.90"


def test_debezium_wrapped_update_reads_the_payload() -> None:
    change = decode_fixture("debezium_orders_update_wrapped.json")
    assert isinstance(change, Change)
    assert change.op is Op.UPDATE
    assert change.image["status"] == "paid"
    assert change.position == to_position(123457000)


def test_debezium_delete_uses_the_before_image() -> None:
    change = decode_fixture("debezium_orders_delete.json")
    assert isinstance(change, Change)
    assert change.op is Op.DELETE
    assert change.image["order_id"] == 17 and change.image["status"] == "paid"


def test_snapshot_read() -> None:
    change = decode_fixture("debezium_products_snapshot_read.json")
    assert isinstance(change, Change) and change.op is Op.READ and change.table == "products"


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("debezium_heartbeat.json", IgnoreReason.HEARTBEAT),
        ("debezium_transaction_end.json", IgnoreReason.TRANSACTION_MARKER),
        ("dms_control.json", IgnoreReason.CONTROL),
    ],
)
def test_ignored_events_carry_their_reason(fixture: str, reason: IgnoreReason) -> None:
    assert decode_fixture(fixture) == Ignored(reason)


@pytest.mark.parametrize("data", [None, "", base64.b64encode(b"null").decode()])
def test_tombstones_are_ignored(data: str | None) -> None:
    assert decode_kinesis_data(data) == Ignored(IgnoreReason.TOMBSTONE)


def test_wrapped_tombstone() -> None:
    assert decode_change_json(b'{"schema": null, "payload": null}') == Ignored(IgnoreReason.TOMBSTONE)


def test_dms_update_orders_by_commit_time_and_record_offset() -> None:
    change = decode_fixture("dms_orders_update.json")
    assert isinstance(change, Change)
    assert (change.table, change.op) == ("orders", Op.UPDATE)
    commit = dt.datetime(2026, 11, 27, 11, 0, 0, 300000, tzinfo=dt.UTC)
    commit_us = int(commit.timestamp()) * 1_000_000 + commit.microsecond
    assert change.position == to_position(commit_us * 10**12 + 1)
    assert change.source_ts_us == commit_us


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"before": null, "after": {"order_id": 1', QuarantineReason.UNDECODABLE_JSON),
        (b"\xff\xfe", QuarantineReason.UNDECODABLE_JSON),
        (b"[1, 2]", QuarantineReason.UNRECOGNIZED_ENVELOPE),
        (b'{"hello": "world"}', QuarantineReason.UNRECOGNIZED_ENVELOPE),
        (b'{"op": "x", "source": {"table": "orders", "lsn": 1}}', QuarantineReason.UNKNOWN_OPERATION),
        (b'{"op": "c", "after": {}, "source": {"table": "nope", "lsn": 1}}', QuarantineReason.UNKNOWN_TABLE),
        (b'{"op": "c", "after": {}, "source": {"table": "web_users", "lsn": 1}}', QuarantineReason.UNKNOWN_TABLE),
        (b'{"op": "c", "after": null, "source": {"table": "orders", "lsn": 1}}', QuarantineReason.MISSING_IMAGE),
        (b'{"op": "c", "after": {}, "source": {"table": "orders"}}', QuarantineReason.BAD_POSITION),
        (b'{"op": "c", "after": {}, "source": {"table": "orders", "lsn": -5}}', QuarantineReason.BAD_POSITION),
        (
            b'{"op": "c", "after": {}, "source": {"table": "orders", "lsn": 1, "ts_ms": "x"}}',
            QuarantineReason.BAD_TIMESTAMP,
        ),
    ],
)
def test_malformed_events_are_rejected_with_a_reason(payload: bytes, reason: QuarantineReason) -> None:
    with pytest.raises(RecordRejected) as rejected:
        decode_change_json(payload)
    assert rejected.value.reason is reason


def test_bad_base64_is_rejected() -> None:
    with pytest.raises(RecordRejected) as rejected:
        decode_kinesis_data("not*base64!")
    assert rejected.value.reason is QuarantineReason.BAD_BASE64


def test_dynamodb_records() -> None:
    records = load_event("dynamodb_behaviour_batch.json")["Records"]
    insert = decode_dynamodb_record(records[0]["eventName"], records[0]["dynamodb"])
    assert isinstance(insert, Change)
    assert (insert.table, insert.op) == ("web_sessions", Op.CREATE)
    assert insert.position == to_position(records[0]["dynamodb"]["SequenceNumber"])
    assert insert.source_ts_us == 1764237600 * 1_000_000
    assert "pk" not in insert.image and "entity" not in insert.image  # single-table attributes are not columns
    assert insert.image["page_views"] == "1" and insert.image["customer_id"] is None
    remove = decode_dynamodb_record(records[5]["eventName"], records[5]["dynamodb"])
    assert isinstance(remove, Change) and remove.op is Op.DELETE and remove.image["product_id"] == "5"


@pytest.mark.parametrize(
    ("index", "reason"), [(6, QuarantineReason.UNKNOWN_TABLE), (8, QuarantineReason.MISSING_IMAGE)]
)
def test_bad_dynamodb_records(index: int, reason: QuarantineReason) -> None:
    record = load_event("dynamodb_behaviour_batch.json")["Records"][index]
    with pytest.raises(RecordRejected) as rejected:
        decode_dynamodb_record(record["eventName"], record["dynamodb"])
    assert rejected.value.reason is reason


def test_positions_sort_like_numbers() -> None:
    numbers = [5, 40, 123456789, 10**39]
    assert sorted(to_position(n) for n in numbers) == [to_position(n) for n in sorted(numbers)]
    assert len(to_position("4421584500000000017450439091")) == 40
    with pytest.raises(RecordRejected):
        to_position("1" * 41)
