"""Decoders: one transport record in, one `Change` or `Ignored` out (or `RecordRejected` raised).

Kinesis data may hold a Debezium event (with or without the `schema`/`payload` wrapper) or an AWS DMS record
(`data` + `metadata`); DynamoDB stream records carry DynamoDB JSON images of the single-table design.
See docs/source-formats.md for the encodings and docs/cdc.md for the ignore/quarantine reasons.
"""

from __future__ import annotations

import binascii
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import repeat
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from lakehouse.cdc.coerce import StructImages, parse_iso_timestamp_us
from lakehouse.cdc.model import (
    POSITION_DIGITS,
    Change,
    Ignored,
    IgnoreReason,
    Op,
    QuarantineReason,
    RecordRejected,
    TableChanges,
    to_position,
)
from lakehouse.contract import MONEY, SourceSystem, TableContract, tables_from

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
def kinesis_payload(data: str | bytes | None) -> bytes | Ignored:
    """The bytes of one Kinesis record's base64 `data`; empty data or JSON null is a tombstone."""
    if not data:
        return Ignored(IgnoreReason.TOMBSTONE)
    try:
        raw = binascii.a2b_base64(data, strict_mode=True)  # validates in C (b64decode's validate uses a regex)
    except (binascii.Error, ValueError) as error:
        raise RecordRejected(QuarantineReason.BAD_BASE64, f"kinesis data is not base64: {error}") from None
    stripped = raw.strip()
    if not stripped or stripped == b"null":
        return Ignored(IgnoreReason.TOMBSTONE)
    return raw


def kinesis_payloads(data: Sequence[Any]) -> list[bytes] | None:
    """The decoded Kinesis data of a whole batch, or None when some record is not base64 text (then
    `kinesis_payload` looks at each record). Tombstones are left to the batch JSON decoder, which sends a batch
    holding one to the per-record path."""
    decode = binascii.a2b_base64
    try:
        return [decode(text, strict_mode=True) for text in data]
    except (binascii.Error, ValueError, TypeError):
        return None


def decode_kinesis_data(data: str | bytes | None) -> Decoded:
    """Decode the base64 `kinesis.data` of one Kinesis record."""
    payload = kinesis_payload(data)
    return payload if isinstance(payload, Ignored) else decode_change_json(payload)


# The batch path: a batch of plain Debezium events parsed by Arrow's JSON reader, one read per table. Row images
# are read with the contract's wire types (docs/source-formats.md), so Arrow never guesses them (it would read
# date-like text as timestamps); unknown columns are inferred (schema evolution). One read per table, because the
# reader fills every field of the schema for every row: a union of all tables' columns costs twice as much.
# Records are grouped by the `"table":"..."` text of their source block (found from the end: Debezium writes
# `source` after the row images), and the parsed `source.table` must agree, or the batch goes per record.
# Anything unusual in the batch (a wrapped or DMS event, a tombstone, a heartbeat, a value of the wrong wire type,
# a missing image, ...) makes it return None and the batch takes the per-record path, which names each bad
# record; tests/unit/cdc/test_cdc_fuzz.py and test_cdc_batch_path.py check that both paths have the same effect.
_WIRE_TYPES = {
    "string": pa.string(),
    "int32": pa.int64(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.int64(),
    "timestamp": pa.int64(),
    MONEY: pa.string(),
}
_SIMPLE_TYPES = (pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.null())
_DEBEZIUM_FIELDS = {"before", "after", "source", "op", "ts_ms", "transaction"}
_DEBEZIUM_OP_VALUES = pa.array(list(_DEBEZIUM_OPS), pa.string())
_MAX_TS_MS = 253_402_300_800_000
_TABLE_MARK = b'"table":"'
DECODE_THREADS = 4


def _debezium_schema(contract: TableContract) -> pa.Schema:
    image = pa.struct([(column.name, _WIRE_TYPES[column.type]) for column in contract.columns])
    return pa.schema(
        [
            ("op", pa.string()),
            ("ts_ms", pa.int64()),
            ("before", image),
            ("after", image),
            ("source", pa.struct([("table", pa.string()), ("lsn", pa.int64()), ("ts_ms", pa.int64())])),
        ]
    )


_DEBEZIUM_SCHEMAS = {name.encode(): _debezium_schema(contract) for name, contract in _OLTP_TABLES.items()}


def decode_debezium_batch(payloads: Sequence[bytes]) -> list[TableChanges] | None:
    """Plain Debezium events of one batch, column-wise per table (record indices = positions in `payloads`),
    or None when the batch needs the per-record path."""
    if not payloads:
        return []
    marks = list(map(bytes.rfind, payloads, repeat(_TABLE_MARK)))  # a C loop (a Python loop: ~1 µs a record)
    if -1 in marks:
        return None  # not a Debezium change event (a tombstone, heartbeat, DMS record, ...)
    starts = [mark + len(_TABLE_MARK) for mark in marks]
    names = pa.array(
        [payload[start : payload.find(b'"', start)] for payload, start in zip(payloads, starts, strict=True)],
        pa.binary(),
    )
    encoded = pc.dictionary_encode(names)
    groups = {
        name: pc.indices_nonzero(pc.equal(encoded.indices, code)).to_pylist()
        for code, name in enumerate(encoded.dictionary.to_pylist())
    }

    def decode_table(name: bytes) -> list[TableChanges] | None:
        indices = groups[name]
        return _decode_debezium_table(name, [payloads[i] for i in indices])

    threads = min(len(groups), DECODE_THREADS, os.cpu_count() or 1)
    if threads > 1:  # Arrow parses without the GIL: the tables' reads run in parallel
        with ThreadPoolExecutor(max_workers=threads) as pool:
            decoded = list(pool.map(decode_table, groups))
    else:
        decoded = [decode_table(name) for name in groups]
    changes: list[TableChanges] = []
    for indices, of_table in zip(groups.values(), decoded, strict=True):
        if of_table is None:
            return None
        for part in of_table:
            part.record_indices = [indices[i] for i in part.record_indices]
        changes.extend(of_table)
    return changes


def _decode_debezium_table(name: bytes, payloads: list[bytes]) -> list[TableChanges] | None:
    """The events of one table (by their text), record indices = positions in `payloads`; None: per record."""
    schema = _DEBEZIUM_SCHEMAS.get(name)
    if schema is None:
        return None  # an unknown table: the per-record path quarantines it
    buffer = b"\n".join(payloads)
    if buffer.count(b"\n") != len(payloads) - 1 or b"\r" in buffer:
        return None  # a payload spans lines: the per-record path reads it
    try:
        batch = pajson.read_json(
            pa.BufferReader(buffer),
            read_options=pajson.ReadOptions(use_threads=False, block_size=len(buffer) + 1),
            parse_options=pajson.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="infer", newlines_in_values=False
            ),
        )
    except (pa.ArrowException, ValueError):
        return None
    if batch.num_rows != len(payloads) or not set(batch.column_names) <= _DEBEZIUM_FIELDS:
        return None
    table = name.decode()
    op = batch.column("op").combine_chunks()
    source = batch.column("source").combine_chunks()
    after = batch.column("after").combine_chunks()
    before = batch.column("before").combine_chunks()
    if op.null_count or source.null_count or not pc.all(pc.is_in(op, value_set=_DEBEZIUM_OP_VALUES)).as_py():
        return None
    tables, lsn = pc.struct_field(source, "table"), pc.struct_field(source, "lsn")
    if tables.null_count or lsn.null_count or not pc.all(pc.equal(tables, table)).as_py():
        return None
    if pc.min(lsn).as_py() < 0:
        return None
    ts_ms = pc.coalesce(pc.struct_field(source, "ts_ms"), batch.column("ts_ms").combine_chunks())
    if ts_ms.null_count < len(ts_ms):
        low, high = pc.min_max(ts_ms).values()
        if low.as_py() < 0 or high.as_py() >= _MAX_TS_MS:
            return None
    deletes = pc.equal(op, Op.DELETE.value)
    if (
        pc.any(pc.and_(deletes, before.is_null())).as_py()
        or pc.any(pc.and_(pc.invert(deletes), after.is_null())).as_py()
    ):
        return None
    known = set(schema.field("after").type.names)
    for image in (before, after):
        if any(f.name not in known and f.type not in _SIMPLE_TYPES for f in image.type):
            return None  # an extra column Arrow typed as a timestamp, list or object: keep its text exactly
    positions = pc.utf8_lpad(pc.cast(lsn, pa.string()), POSITION_DIGITS, "0")
    source_ts_us = pc.multiply(ts_ms, 1000)
    changes = []
    for images, side in ((after, pc.invert(deletes)), (before, deletes)):
        indices = pc.indices_nonzero(side)
        if not len(indices):
            continue
        whole = len(indices) == len(op)  # the usual case: no deletes, nothing to take
        changes.append(
            TableChanges(
                table=table,
                record_indices=indices.to_pylist(),
                ops=op if whole else op.take(indices),
                positions=positions if whole else positions.take(indices),
                source_ts_us=source_ts_us if whole else source_ts_us.take(indices),
                images=StructImages(images if whole else images.take(indices)),
            )
        )
    return changes


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
    ts_ms = source.get("ts_ms")
    if ts_ms is None:
        ts_ms = event.get("ts_ms")
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
