"""The batch ingest service: a Lambda batch (Kinesis or DynamoDB Streams) in, bronze commits out.

Every record ends in exactly one bucket, each with a reason:
  appended     -> committed to `<lake>/bronze/<table>` (one Delta append per table per batch)
  ignored      -> tombstone, heartbeat, transaction marker, DMS control, duplicate (already in bronze), ...
  quarantined  -> written to the quarantine with its raw payload and the reason
  failed       -> could not be committed now (e.g. a transient S3 error): reported in `batchItemFailures`,
                  so Lambda redelivers from the first failed record; the redelivery is deduplicated in bronze.
received == appended + ignored + quarantined + failed, always (`BatchOutcome.balanced`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from typing import Any

import pyarrow as pa

from lakehouse.cdc.bronze import AppendResult, BronzeRows, BronzeWriter, bronze_rows
from lakehouse.cdc.config import CdcSettings
from lakehouse.cdc.decoders import (
    Decoded,
    decode_change_json,
    decode_debezium_batch,
    decode_dynamodb_record,
    kinesis_payload,
    kinesis_payloads,
)
from lakehouse.cdc.model import (
    Change,
    Ignored,
    IgnoreReason,
    QuarantineReason,
    RecordRejected,
    SourceRecord,
    TableChanges,
)
from lakehouse.cdc.quarantine import QuarantineEntry, QuarantineWriter
from lakehouse.contract import get_table

log = logging.getLogger(__name__)

APPEND_THREADS = 8  # commits wait on storage round trips (S3): all tables of a batch in flight at once
KINESIS = "kinesis"
DYNAMODB = "dynamodb"


class RecordFailed(Exception):
    """Raised by the BatchProcessor record handler for a record whose commit failed (to be redelivered)."""


@dataclass
class BatchOutcome:
    source: str
    batch_id: str
    received: int = 0
    appended: int = 0
    ignored: int = 0
    quarantined: int = 0
    failed: int = 0
    bytes: int = 0
    reasons: Counter[str] = field(default_factory=Counter)  # "ignored:tombstone", "quarantined:wrong_type", ...
    appended_by_table: dict[str, int] = field(default_factory=dict)
    commit_ms: dict[str, float] = field(default_factory=dict)
    iterator_age_ms: float | None = None
    failed_record_ids: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    quarantine_objects: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.received == self.appended + self.ignored + self.quarantined + self.failed

    def raise_if_failed(self, record: Any) -> None:
        """Record handler for Powertools' BatchProcessor: raise for records that must be redelivered."""
        raw = getattr(record, "raw_event", record)
        record_id = raw["kinesis"]["sequenceNumber"] if "kinesis" in raw else raw["dynamodb"]["SequenceNumber"]
        if record_id in self.failed_record_ids:
            raise RecordFailed(f"record {record_id} was not committed: {'; '.join(self.errors) or 'see logs'}")

    def summary(self) -> dict[str, Any]:
        """Counts for logs and reports (JSON-serialisable)."""
        return {
            "source": self.source,
            "batch_id": self.batch_id,
            "received": self.received,
            "appended": self.appended,
            "ignored": self.ignored,
            "quarantined": self.quarantined,
            "failed": self.failed,
            "bytes": self.bytes,
            "reasons": dict(sorted(self.reasons.items())),
            "appended_by_table": dict(sorted(self.appended_by_table.items())),
            "commit_ms": {k: round(v, 1) for k, v in sorted(self.commit_ms.items())},
            "iterator_age_ms": None if self.iterator_age_ms is None else round(self.iterator_age_ms),
            "balanced": self.balanced,
            "errors": self.errors,
        }


class _Batch:
    """Bookkeeping while one batch is decoded: the ignored counts and the records to quarantine."""

    def __init__(self, source: str, records: Sequence[SourceRecord], outcome: BatchOutcome) -> None:
        self.source, self.records, self.outcome = source, records, outcome
        self.rejected: list[QuarantineEntry] = []
        self.decoder_errors = 0

    def ignore(self, ignored: Ignored) -> None:
        self.outcome.ignored += 1
        self.outcome.reasons[f"ignored:{ignored.reason}"] += 1

    def reject(self, index: int, error: RecordRejected) -> None:
        record = self.records[index]
        self.rejected.append(
            QuarantineEntry(
                source=self.source,
                table=error.table,
                reason=str(error.reason),
                detail=error.detail,
                stream=record.stream,
                shard=record.shard,
                record_id=record.record_id,
                position=record.record_id,
                raw=record.payload,
            )
        )


def batch_id_for(records: Sequence[SourceRecord]) -> str:
    """Deterministic per delivered batch: the same records give the same id (quarantine objects overwrite)."""
    if not records:
        return "empty"
    first, last = records[0], records[-1]
    seed = f"{first.stream}|{first.shard}|{first.record_id}|{last.record_id}|{len(records)}"
    return hashlib.sha256(seed.encode()).hexdigest()[:24]


# ------------------------------------------------------------------------------------------ transport parsing
def kinesis_source_record(record: Mapping[str, Any]) -> SourceRecord:
    """One record of a Lambda Kinesis event (`kinesis.data` base64, `eventID` = shard:sequence)."""
    kinesis = record.get("kinesis") or {}
    data = kinesis.get("data")
    return SourceRecord(
        record_id=str(kinesis.get("sequenceNumber", "")),
        stream=str(record.get("eventSourceARN", "")),
        shard=str(record.get("eventID", "")).partition(":")[0] or None,
        payload=data,
        size_bytes=len(data) * 3 // 4 if isinstance(data, str) else 0,
        arrival_ts=kinesis.get("approximateArrivalTimestamp"),
    )


_KINESIS, _DATA, _ARRIVAL = itemgetter("kinesis"), itemgetter("data"), itemgetter("approximateArrivalTimestamp")


class KinesisRecords(Sequence[SourceRecord]):
    """The records of a Lambda Kinesis event, read lazily: the batch path needs only the data, the batch's size
    and its earliest arrival, so a `SourceRecord` is built only for a record that is looked at on its own (the
    per-record path, a quarantined or failed record)."""

    def __init__(self, event: Mapping[str, Any]) -> None:
        self.raw: list[Any] = list(event.get("Records") or [])

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [kinesis_source_record(r) for r in self.raw[index]]
        return kinesis_source_record(self.raw[index])

    def __iter__(self) -> Iterator[SourceRecord]:
        return (kinesis_source_record(r) for r in self.raw)

    @cached_property
    def data(self) -> list[Any]:
        """Every record's base64 `kinesis.data` (None where missing)."""
        try:
            return list(map(_DATA, map(_KINESIS, self.raw)))  # C loops
        except (KeyError, TypeError):
            return [(record.get("kinesis") or {}).get("data") for record in self.raw]

    def total_bytes(self) -> int:
        return sum(len(data) * 3 // 4 for data in self.data if isinstance(data, str))

    def earliest_arrival(self) -> float | None:
        try:
            earliest = min(map(_ARRIVAL, map(_KINESIS, self.raw)), default=None)  # C loops; fine when all numbers
            if isinstance(earliest, int | float):
                return earliest
        except (KeyError, TypeError):
            pass
        stamps = ((record.get("kinesis") or {}).get("approximateArrivalTimestamp") for record in self.raw)
        return min((stamp for stamp in stamps if isinstance(stamp, int | float)), default=None)


def kinesis_source_records(event: Mapping[str, Any]) -> list[SourceRecord]:
    """The records of a Lambda Kinesis event."""
    return list(KinesisRecords(event))


def dynamodb_source_records(event: Mapping[str, Any]) -> list[SourceRecord]:
    """The records of a Lambda DynamoDB Streams event."""
    records = []
    for record in event.get("Records") or []:
        stream_record = record.get("dynamodb") or {}
        records.append(
            SourceRecord(
                record_id=str(stream_record.get("SequenceNumber", "")),
                stream=str(record.get("eventSourceARN", "")),
                shard=None,
                payload=record,
                size_bytes=int(stream_record.get("SizeBytes") or 0),
                arrival_ts=stream_record.get("ApproximateCreationDateTime"),
            )
        )
    return records


def _decode_dynamodb(record: SourceRecord) -> Decoded:
    return decode_dynamodb_record(record.payload.get("eventName"), record.payload.get("dynamodb"))


# ---------------------------------------------------------------------------------------------- the service
class CdcIngestService:
    """Decodes a batch, quarantines the bad records, appends the good ones to bronze (one commit per table)."""

    def __init__(
        self,
        settings: CdcSettings,
        *,
        writer: BronzeWriter | None = None,
        quarantine: QuarantineWriter | None = None,
        batch_json: bool = True,
    ) -> None:
        self.settings = settings
        self.batch_json = batch_json  # False: decode every Kinesis record on its own (the reference path)
        self.writer = writer or BronzeWriter(settings.lake_uri, settings.delta_storage_options())
        self.quarantine = quarantine or QuarantineWriter(settings.quarantine_uri, settings.aws)

    def ingest_kinesis_event(self, event: Mapping[str, Any]) -> BatchOutcome:
        records = KinesisRecords(event)
        return self._ingest(
            KINESIS,
            records,
            self._kinesis_changes,
            total_bytes=records.total_bytes(),
            earliest_arrival=records.earliest_arrival(),
        )

    def ingest_dynamodb_event(self, event: Mapping[str, Any]) -> BatchOutcome:
        def changes(records: Sequence[SourceRecord], batch: _Batch) -> list[TableChanges]:
            return self._decode_each(batch, [(i, r, r) for i, r in enumerate(records)], _decode_dynamodb)

        records = dynamodb_source_records(event)
        earliest = min((r.arrival_ts for r in records if isinstance(r.arrival_ts, int | float)), default=None)
        total_bytes = sum(r.size_bytes for r in records)
        return self._ingest(DYNAMODB, records, changes, total_bytes=total_bytes, earliest_arrival=earliest)

    def _ingest(
        self,
        source: str,
        records: Sequence[SourceRecord],
        decode: Callable[[Sequence[SourceRecord], _Batch], list[TableChanges]],
        *,
        total_bytes: int,
        earliest_arrival: float | None,
    ) -> BatchOutcome:
        outcome = BatchOutcome(source=source, batch_id=batch_id_for(records), received=len(records), bytes=total_bytes)
        if earliest_arrival is not None:
            outcome.iterator_age_ms = max(0.0, time.time() - earliest_arrival) * 1000
        batch = _Batch(source, records, outcome)
        ingested_at_us = time.time_ns() // 1000
        parts: dict[str, list[pa.Table]] = defaultdict(list)
        built: dict[str, list[tuple[TableChanges, BronzeRows]]] = defaultdict(list)
        for changes in decode(records, batch):
            rows = self._bronze_rows(changes, outcome.batch_id, ingested_at_us)
            for index, why in rows.rejected.items():
                batch.reject(changes.record_indices[index], why)
            parts[changes.table].append(rows.table)
            built[changes.table].append((changes, rows))
        self._quarantine(batch.rejected, outcome)
        rows_by_table = {
            table: tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")
            for table, tables in parts.items()
        }

        def committed_record_ids(table: str) -> list[str]:
            """The record ids of a table's rows that reached the commit (needed only when the commit fails)."""
            return [
                records[index].record_id
                for changes, rows in built[table]
                for n, index in enumerate(changes.record_indices)
                if n not in rows.rejected
            ]

        self._append_all(rows_by_table, committed_record_ids, outcome)
        return outcome

    def _kinesis_changes(self, records: Sequence[SourceRecord], batch: _Batch) -> list[TableChanges]:
        """Base64 per record; then the whole batch through Arrow's JSON reader when it is plain Debezium,
        else record by record."""
        if self.batch_json and isinstance(records, KinesisRecords):
            fast = self._batch_path(lambda: self._kinesis_batch_changes(records))
            if fast is not None:
                return fast
        payloads: list[tuple[int, SourceRecord, bytes]] = []
        for index, record in enumerate(records):
            try:
                payload = kinesis_payload(record.payload)
            except RecordRejected as error:
                batch.reject(index, error)
                continue
            if isinstance(payload, Ignored):
                batch.ignore(payload)
            else:
                payloads.append((index, record, payload))
        fast = None
        if self.batch_json:
            fast = self._batch_path(lambda: decode_debezium_batch([payload for _, _, payload in payloads]))
        if fast is None:
            return self._decode_each(batch, payloads, decode_change_json)
        for changes in fast:
            changes.record_indices = [payloads[i][0] for i in changes.record_indices]
        return fast

    @staticmethod
    def _kinesis_batch_changes(records: KinesisRecords) -> list[TableChanges] | None:
        """The whole batch at once: no per-record objects, JSON read by Arrow (record indices = batch positions)."""
        payloads = kinesis_payloads(records.data)
        return None if payloads is None else decode_debezium_batch(payloads)

    @staticmethod
    def _batch_path(decode: Callable[[], list[TableChanges] | None]) -> list[TableChanges] | None:
        try:
            return decode()
        except Exception:  # a bug in a batch path must not block the shard: the per-record path decides
            log.exception("batch decoding failed; decoding record by record")
            return None

    @staticmethod
    def _decode_each(
        batch: _Batch, items: Sequence[tuple[int, SourceRecord, Any]], decode: Callable[[Any], Decoded]
    ) -> list[TableChanges]:
        by_table: dict[str, list[tuple[int, Change]]] = defaultdict(list)
        for index, record, payload in items:
            try:
                decoded = decode(payload)
            except RecordRejected as error:
                batch.reject(index, error)
                continue
            except Exception as error:  # a decoder bug must not block the shard: keep the record, say why
                if not batch.decoder_errors:
                    log.exception("decoder error on record %s (first of this batch)", record.record_id)
                batch.decoder_errors += 1
                batch.reject(index, RecordRejected(QuarantineReason.DECODER_ERROR, repr(error)))
                continue
            if isinstance(decoded, Ignored):
                batch.ignore(decoded)
            else:
                by_table[decoded.table].append((index, decoded))
        return [TableChanges.from_changes(table, indexed) for table, indexed in by_table.items()]

    @staticmethod
    def _bronze_rows(changes: TableChanges, batch_id: str, ingested_at_us: int) -> BronzeRows:
        """Bronze rows for one table; should building them hit a bug, isolate the records that trigger it."""
        contract = get_table(changes.table)
        try:
            return bronze_rows(contract, changes, batch_id=batch_id, ingested_at_us=ingested_at_us)
        except Exception:
            log.exception("building bronze rows for %s failed; retrying record by record", changes.table)
        parts: list[pa.Table] = []
        rejected: dict[int, RecordRejected] = {}
        for index in range(len(changes)):
            try:
                single = bronze_rows(contract, changes.take([index]), batch_id=batch_id, ingested_at_us=ingested_at_us)
            except Exception as error:
                rejected[index] = RecordRejected(QuarantineReason.DECODER_ERROR, repr(error), changes.table)
                continue
            if single.rejected:
                rejected[index] = single.rejected[0]
            else:
                parts.append(single.table)
        table_rows = pa.concat_tables(parts, promote_options="permissive") if parts else pa.table({})
        return BronzeRows(table_rows, rejected)

    def _quarantine(self, entries: list[QuarantineEntry], outcome: BatchOutcome) -> None:
        if not entries:
            return
        try:
            outcome.quarantine_objects = self.quarantine.write(entries, batch_id=outcome.batch_id)
        except Exception as error:  # cannot keep them safe now: have Lambda redeliver them
            log.exception("quarantine write failed for batch %s", outcome.batch_id)
            outcome.errors.append(f"quarantine write failed: {error}")
            outcome.failed += len(entries)
            outcome.reasons["failed:quarantine_write"] += len(entries)
            outcome.failed_record_ids.update(e.record_id for e in entries)
            return
        outcome.quarantined += len(entries)
        for entry in entries:
            outcome.reasons[f"quarantined:{entry.reason}"] += 1

    def _append_all(
        self,
        rows_by_table: dict[str, pa.Table],
        committed_record_ids: Callable[[str], list[str]],
        outcome: BatchOutcome,
    ) -> None:
        """One commit per table. Tables are independent Delta logs, so their commits run in parallel threads
        (delta-rs writes and Arrow kernels release the GIL); results are merged here, in one thread."""
        tables = [t for t, rows in rows_by_table.items() if rows.num_rows]

        def append(table: str) -> AppendResult | Exception:
            try:
                return self.writer.append(table, rows_by_table[table], batch_id=outcome.batch_id)
            except Exception as error:  # e.g. a transient S3 error: nothing of this table was committed
                log.exception("bronze append to %s failed for batch %s", table, outcome.batch_id)
                return error

        if len(tables) > 1 and APPEND_THREADS > 1:
            with ThreadPoolExecutor(max_workers=min(len(tables), APPEND_THREADS)) as pool:
                results = list(pool.map(append, tables))
        else:
            results = [append(t) for t in tables]
        for table, result in zip(tables, results, strict=True):
            if isinstance(result, Exception):
                failed = committed_record_ids(table)
                outcome.errors.append(f"bronze append to {table} failed: {result}")
                outcome.failed += len(failed)
                outcome.reasons["failed:commit_error"] += len(failed)
                outcome.failed_record_ids.update(failed)
                continue
            outcome.appended += result.appended
            outcome.appended_by_table[table] = result.appended
            outcome.commit_ms[table] = result.commit_ms
            if result.duplicates:
                outcome.ignored += result.duplicates
                outcome.reasons[f"ignored:{IgnoreReason.DUPLICATE}"] += result.duplicates
