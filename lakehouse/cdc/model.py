"""The change model every CDC decoder produces, and the outcome vocabulary of a batch.

A `SourceRecord` is one record as the transport delivered it (a Kinesis record, a DynamoDB stream record).
Decoding it gives exactly one of: a `Change` (goes to bronze), an `Ignored` (tombstone, heartbeat, ...) or a
`Quarantined` (bad input, kept with its reason). Nothing else can happen to a record, so the counts add up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from lakehouse.cdc.coerce import RowImages

POSITION_DIGITS = 40


class Op(StrEnum):
    CREATE = "c"
    UPDATE = "u"
    DELETE = "d"
    READ = "r"  # snapshot read


class IgnoreReason(StrEnum):
    TOMBSTONE = "tombstone"  # null Kinesis data / Debezium tombstone (null payload)
    HEARTBEAT = "heartbeat"  # Debezium heartbeat (only ts_ms)
    TRANSACTION_MARKER = "transaction_marker"  # Debezium BEGIN/END transaction metadata events
    TRUNCATE = "truncate"  # Debezium op "t": the lake keeps history; truncates are not replayed
    LOGICAL_MESSAGE = "logical_message"  # Debezium op "m"
    CONTROL = "control"  # AWS DMS control records (DDL, table create)
    DUPLICATE = "duplicate"  # already in bronze (redelivery): the same _dedup_key was committed before


class QuarantineReason(StrEnum):
    BAD_BASE64 = "bad_base64"
    UNDECODABLE_JSON = "undecodable_json"
    UNRECOGNIZED_ENVELOPE = "unrecognized_envelope"
    UNKNOWN_TABLE = "unknown_table"
    UNKNOWN_OPERATION = "unknown_operation"
    MISSING_IMAGE = "missing_image"  # no row image to read (e.g. a KEYS_ONLY stream or a delete without before)
    MISSING_PRIMARY_KEY = "missing_primary_key"
    MISSING_REQUIRED_COLUMN = "missing_required_column"
    WRONG_TYPE = "wrong_type"
    BAD_POSITION = "bad_position"
    BAD_TIMESTAMP = "bad_timestamp"
    DECODER_ERROR = "decoder_error"  # an unexpected decoder exception: a bug, but it must not block the shard


class RecordRejected(Exception):
    """Raised by decoders and coercers for a record that must be quarantined."""

    def __init__(self, reason: QuarantineReason, detail: str, table: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.table = table


@dataclass(slots=True)  # not frozen: frozen __init__ costs ~1 µs per record at 10k records a batch
class SourceRecord:
    """One record as delivered by the transport.

    `record_id` is what Lambda wants back in `batchItemFailures` (the Kinesis / DynamoDB sequence number);
    `payload` is the Kinesis data (base64 text as delivered) or the DynamoDB `dynamodb` dict.
    """

    record_id: str
    stream: str  # event source ARN
    shard: str | None  # Kinesis shard id; DynamoDB Lambda events do not carry one
    payload: Any
    size_bytes: int
    arrival_ts: float | None  # seconds since epoch (approximateArrivalTimestamp / ApproximateCreationDateTime)


@dataclass(slots=True)
class Change:
    """One row change, envelope decoded. `image` holds the row as the source sent it (wire encodings; the after
    image, or the before image for deletes); the bronze writer validates and types it column by column against
    the contract (lakehouse.cdc.coerce.build_columns) and rejects the rows that do not fit."""

    table: str
    op: Op
    image: dict[str, Any]
    position: str  # 40-digit zero-padded decimal: sorts like the number
    source_ts_us: int | None


@dataclass
class TableChanges:
    """The changes of one table in a batch, column-wise: what the bronze writer validates and writes.

    `record_indices[i]` is the index, in the delivered batch, of the record that carried change i."""

    table: str
    record_indices: list[int]
    ops: pa.Array  # string: c | u | d | r
    positions: pa.Array  # string, 40 digits
    source_ts_us: pa.Array  # int64, nullable
    images: RowImages

    def __len__(self) -> int:
        return len(self.record_indices)

    def take(self, indices: Sequence[int]) -> TableChanges:
        """The changes at `indices` (positions in this object)."""
        selected = pa.array(indices, pa.int64())
        return TableChanges(
            table=self.table,
            record_indices=[self.record_indices[i] for i in indices],
            ops=self.ops.take(selected),
            positions=self.positions.take(selected),
            source_ts_us=self.source_ts_us.take(selected),
            images=self.images.take(indices),
        )

    @classmethod
    def from_changes(cls, table: str, indexed: Sequence[tuple[int, Change]]) -> TableChanges:
        from lakehouse.cdc.coerce import DictImages

        return cls(
            table=table,
            record_indices=[index for index, _ in indexed],
            ops=pa.array([c.op.value for _, c in indexed], pa.string()),
            positions=pa.array([c.position for _, c in indexed], pa.string()),
            source_ts_us=pa.array([c.source_ts_us for _, c in indexed], pa.int64()),
            images=DictImages([c.image for _, c in indexed]),
        )


@dataclass(frozen=True, slots=True)
class Ignored:
    reason: IgnoreReason


def to_position(value: Any) -> str:
    """A source position (int or decimal string) as a 40-digit zero-padded decimal string."""
    if isinstance(value, bool):
        raise RecordRejected(QuarantineReason.BAD_POSITION, f"position {value!r} is not a number")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise RecordRejected(QuarantineReason.BAD_POSITION, f"position {value!r} is not a number")
    if not text.isascii() or not text.isdigit() or len(text) > POSITION_DIGITS:
        raise RecordRejected(
            QuarantineReason.BAD_POSITION, f"position {value!r} is not a non-negative integer of <= 40 digits"
        )
    return text.zfill(POSITION_DIGITS)
