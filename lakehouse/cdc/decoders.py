"""Decoders: one transport record in, one `Change` or `Ignored` out (or `RecordRejected` raised).

Kinesis data may hold a Debezium event (with or without the `schema`/`payload` wrapper) or an AWS DMS record
(`data` + `metadata`); DynamoDB stream records carry DynamoDB JSON images of the single-table design.
See docs/source-formats.md for the encodings and docs/cdc.md for the ignore/quarantine reasons.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import orjson

from lakehouse.cdc.coerce import parse_iso_timestamp_us
from lakehouse.cdc.model import (
    Change,
    Ignored,
    IgnoreReason,
    Op,
    QuarantineReason,
    RecordRejected,
    to_position,
)
from lakehouse.contract import SourceSystem, TableContract, tables_from

Decoded = Change | Ignored

_OLTP_TABLES: dict[str, TableContract] = {t.name: t for t in tables_from(SourceSystem.OLTP)}
_DYNAMODB_TABLES: dict[str, TableContract] = {t.name: t for t in tables_from(SourceSystem.DYNAMODB)}
_DEBEZIUM_OPS = {"c": Op.CREATE, "u": Op.UPDATE, "d": Op.DELETE, "r": Op.READ}
_DEBEZIUM_IGNORED_OPS = {"t": IgnoreReason.TRUNCATE, "m": IgnoreReason.LOGICAL_MESSAGE}
_DMS_OPS = {"insert": Op.CREATE, "update": Op.UPDATE, "delete": Op.DELETE, "load": Op.READ}
_DYNAMODB_OPS = {"INSERT": Op.CREATE, "MODIFY": Op.UPDATE, "REMOVE": Op.DELETE}
# Single-table design attributes that are not contract columns (docs/source-formats.md).
DYNAMODB_STRUCTURAL_ATTRIBUTES = frozenset({"pk", "sk", "entity"})


# ----------------------------------------------------------------------------------------------- Kinesis
def decode_kinesis_data(data: str | bytes | None) -> Decoded:
    """Decode the base64 `kinesis.data` of one Kinesis record."""
    if not data:
        return Ignored(IgnoreReason.TOMBSTONE)
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as error:
        raise RecordRejected(QuarantineReason.BAD_BASE64, f"kinesis data is not base64: {error}") from None
    return decode_change_json(raw)


def decode_change_json(raw: bytes) -> Decoded:
    """Decode one JSON change event (Debezium plain or wrapped, or AWS DMS)."""
    if not raw.strip() or raw.strip() == b"null":
        return Ignored(IgnoreReason.TOMBSTONE)
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise RecordRejected(QuarantineReason.UNDECODABLE_JSON, str(error)) from None
    if not isinstance(document, dict):
        raise RecordRejected(QuarantineReason.UNRECOGNIZED_ENVELOPE, f"expected a JSON object, got {type(document)}")
    if "payload" in document and "schema" in document:  # Debezium with schemas.enable=true
        payload = document["payload"]
        if payload is None:
            return Ignored(IgnoreReason.TOMBSTONE)
        if not isinstance(payload, dict):
            raise RecordRejected(QuarantineReason.UNRECOGNIZED_ENVELOPE, "Debezium payload is not an object")
        document = payload
    if "metadata" in document and isinstance(document["metadata"], dict):
        return _decode_dms(document)
    return _decode_debezium(document)


def _decode_debezium(event: dict[str, Any]) -> Decoded:
    op_code = event.get("op")
    if op_code is not None and not isinstance(op_code, str):
        raise RecordRejected(QuarantineReason.UNKNOWN_OPERATION, f"Debezium op {op_code!r:.80}")
    if op_code is None:
        if "status" in event and event.get("status") in ("BEGIN", "END"):
            return Ignored(IgnoreReason.TRANSACTION_MARKER)
        if set(event) <= {"ts_ms", "source"}:  # heartbeat topic payload: {"ts_ms": ...}
            return Ignored(IgnoreReason.HEARTBEAT)
        raise RecordRejected(QuarantineReason.UNRECOGNIZED_ENVELOPE, "neither a Debezium change event nor DMS record")
    if op_code in _DEBEZIUM_IGNORED_OPS:
        return Ignored(_DEBEZIUM_IGNORED_OPS[op_code])
    op = _DEBEZIUM_OPS.get(op_code)
    if op is None:
        raise RecordRejected(QuarantineReason.UNKNOWN_OPERATION, f"Debezium op {op_code!r}")
    source = event.get("source")
    if not isinstance(source, dict):
        raise RecordRejected(QuarantineReason.UNRECOGNIZED_ENVELOPE, "Debezium event without a source block")
    contract = _contract(_OLTP_TABLES, source.get("table"))
    image = event.get("before") if op is Op.DELETE else event.get("after")
    if not isinstance(image, dict):
        side = "before" if op is Op.DELETE else "after"
        raise RecordRejected(QuarantineReason.MISSING_IMAGE, f"op {op_code!r} without a {side} image", contract.name)
    position = _debezium_position(source, contract)
    ts_ms = source.get("ts_ms", event.get("ts_ms"))
    return Change(contract.name, op, image, position, _epoch_ms_to_us(ts_ms, contract))


def _debezium_position(source: Mapping[str, Any], contract: TableContract) -> str:
    lsn = source.get("lsn")  # PostgreSQL: the change's log sequence number, strictly increasing
    if lsn is None:
        raise RecordRejected(QuarantineReason.BAD_POSITION, "Debezium source.lsn is missing", contract.name)
    try:
        return to_position(lsn)
    except RecordRejected as rejected:
        raise RecordRejected(rejected.reason, rejected.detail, contract.name) from None


def _decode_dms(document: dict[str, Any]) -> Decoded:
    metadata = document["metadata"]
    if metadata.get("record-type") == "control":
        return Ignored(IgnoreReason.CONTROL)
    if metadata.get("record-type") != "data":
        raise RecordRejected(QuarantineReason.UNRECOGNIZED_ENVELOPE, f"DMS record-type {metadata.get('record-type')!r}")
    contract = _contract(_OLTP_TABLES, metadata.get("table-name"))
    operation = metadata.get("operation")
    op = _DMS_OPS.get(operation) if isinstance(operation, str) else None
    if op is None:
        raise RecordRejected(QuarantineReason.UNKNOWN_OPERATION, f"DMS operation {operation!r}", contract.name)
    image = document.get("data")
    if not isinstance(image, dict):
        raise RecordRejected(QuarantineReason.MISSING_IMAGE, "DMS record without data", contract.name)
    # DMS has no LSN in its default metadata. Order by commit time (IncludeTransactionDetails adds
    # commit-timestamp and transaction-record-id; otherwise the DMS timestamp), padded to the 40-digit position.
    stamp = metadata.get("commit-timestamp") or metadata.get("timestamp")
    if not isinstance(stamp, str):
        raise RecordRejected(QuarantineReason.BAD_TIMESTAMP, "DMS metadata.timestamp is missing", contract.name)
    try:
        ts_us = parse_iso_timestamp_us(stamp)
    except ValueError:
        raise RecordRejected(QuarantineReason.BAD_TIMESTAMP, f"DMS timestamp {stamp!r}", contract.name) from None
    record_offset = metadata.get("transaction-record-id", 0)
    if not isinstance(record_offset, int) or isinstance(record_offset, bool) or not 0 <= record_offset < 10**12:
        raise RecordRejected(QuarantineReason.BAD_POSITION, f"transaction-record-id {record_offset!r}", contract.name)
    if ts_us < 0:
        raise RecordRejected(QuarantineReason.BAD_TIMESTAMP, f"DMS timestamp {stamp!r} before 1970", contract.name)
    return Change(contract.name, op, image, to_position(ts_us * 10**12 + record_offset), ts_us)


# ---------------------------------------------------------------------------------------------- DynamoDB
def decode_dynamodb_record(event_name: Any, stream_record: Mapping[str, Any]) -> Decoded:
    """Decode one DynamoDB Streams record (`eventName` and the `dynamodb` block of the Lambda event)."""
    op = _DYNAMODB_OPS.get(event_name) if isinstance(event_name, str) else None
    if op is None:
        raise RecordRejected(QuarantineReason.UNKNOWN_OPERATION, f"DynamoDB eventName {event_name!r}")
    if not isinstance(stream_record, Mapping):
        raise RecordRejected(QuarantineReason.UNRECOGNIZED_ENVELOPE, "DynamoDB record without a dynamodb block")
    raw_image = stream_record.get("OldImage" if op is Op.DELETE else "NewImage")
    if not isinstance(raw_image, dict):
        side = "OldImage" if op is Op.DELETE else "NewImage"
        raise RecordRejected(QuarantineReason.MISSING_IMAGE, f"{event_name} without {side} (stream view type?)")
    image = deserialize_item(raw_image)
    contract = _contract(_DYNAMODB_TABLES, image.get("entity"))
    try:
        position = to_position(stream_record.get("SequenceNumber"))
    except RecordRejected as rejected:
        raise RecordRejected(rejected.reason, rejected.detail, contract.name) from None
    created = stream_record.get("ApproximateCreationDateTime")
    source_ts_us = _epoch_seconds_to_us(created) if created is not None else None
    for attribute in DYNAMODB_STRUCTURAL_ATTRIBUTES:
        image.pop(attribute, None)
    return Change(contract.name, op, image, position, source_ts_us)


def deserialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB JSON to plain values. Numbers stay decimal text (`N`): the coercer knows the column type."""
    return {name: _attribute(value) for name, value in item.items()}


def _attribute(value: Any) -> Any:
    if not isinstance(value, dict) or len(value) != 1:
        raise RecordRejected(QuarantineReason.WRONG_TYPE, f"not a DynamoDB attribute value: {value!r:.80}")
    ((tag, inner),) = value.items()
    if tag in ("S", "N", "B"):
        if not isinstance(inner, str):
            raise RecordRejected(QuarantineReason.WRONG_TYPE, f"DynamoDB {tag} value {inner!r:.80}")
        return inner
    if tag == "BOOL":
        if not isinstance(inner, bool):
            raise RecordRejected(QuarantineReason.WRONG_TYPE, f"DynamoDB BOOL value {inner!r:.80}")
        return inner
    if tag == "NULL":
        return None
    if tag == "M" and isinstance(inner, dict):
        return deserialize_item(inner)
    if tag == "L" and isinstance(inner, list):
        return [_attribute(v) for v in inner]
    if tag in ("SS", "NS", "BS") and isinstance(inner, list):
        return sorted(inner)
    raise RecordRejected(QuarantineReason.WRONG_TYPE, f"DynamoDB attribute {tag!r} with {inner!r:.80}")


# ------------------------------------------------------------------------------------------------ shared
def _contract(tables: Mapping[str, TableContract], name: Any) -> TableContract:
    contract = tables.get(name) if isinstance(name, str) else None
    if contract is None:
        raise RecordRejected(
            QuarantineReason.UNKNOWN_TABLE,
            f"table {name!r} is not in the contract for this source ({', '.join(tables)})",
        )
    return contract


def _epoch_ms_to_us(value: Any, contract: TableContract) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 253_402_300_800_000:
        return value * 1000
    raise RecordRejected(QuarantineReason.BAD_TIMESTAMP, f"source ts_ms {value!r:.80}", contract.name)


def _epoch_seconds_to_us(value: Any) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 253_402_300_800:
        return round(value * 1_000_000)
    raise RecordRejected(QuarantineReason.BAD_TIMESTAMP, f"ApproximateCreationDateTime {value!r:.80}")
