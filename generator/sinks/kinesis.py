"""Kinesis PutRecords sink: batches of <= 500 records / 5 MB, failed entries retried with backoff, never dropped.

Delivery is at least once: an entry whose outcome is unknown (a timed-out call) is sent again, so consumers
deduplicate by source position (the CDC decoders do). Order is kept per partition key across batches because a
batch is fully delivered before the next one is sent; within a batch, a retried entry lands after entries of
the same batch that succeeded at the first attempt (consumers order by source position, not arrival).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from generator.sinks.retry import DeliveryError, RetryPolicy, SinkStats, deliver_with_retries, describe_errors

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024  # data + partition keys of all records in one PutRecords call
MAX_BYTES_PER_RECORD = 1024 * 1024  # data + partition key of one record
MAX_PARTITION_KEY_CHARS = 256

Record = tuple[str, bytes]  # (partition key, data)


def record_size(partition_key: str, data: bytes) -> int:
    return len(partition_key.encode()) + len(data)


def check_record(partition_key: str, data: bytes) -> int:
    """Size of the record in bytes; a ValueError naming the key when Kinesis would reject it."""
    if not 1 <= len(partition_key) <= MAX_PARTITION_KEY_CHARS:
        raise ValueError(
            f"Kinesis partition key must be 1-{MAX_PARTITION_KEY_CHARS} characters; got {len(partition_key)}: "
            f"{partition_key[:80]!r}"
        )
    size = record_size(partition_key, data)
    if size > MAX_BYTES_PER_RECORD:
        raise ValueError(
            f"Kinesis record {partition_key!r} is {size} bytes; the limit is {MAX_BYTES_PER_RECORD} bytes "
            "(data + partition key). Split or shrink it before sending."
        )
    return size


def batches(
    records: Iterable[Record], max_records: int = MAX_RECORDS_PER_CALL, max_bytes: int = MAX_BYTES_PER_CALL
) -> Iterator[list[Record]]:
    """Group records lazily into PutRecords-sized batches, keeping input order."""
    batch: list[Record] = []
    batch_bytes = 0
    for partition_key, data in records:
        size = check_record(partition_key, data)
        if batch and (len(batch) == max_records or batch_bytes + size > max_bytes):
            yield batch
            batch, batch_bytes = [], 0
        batch.append((partition_key, data))
        batch_bytes += size
    if batch:
        yield batch


class KinesisSink:
    """Write (partition key, data) records to a Kinesis stream. `put` streams: memory holds one batch."""

    def __init__(self, client: Any, stream_name: str, *, retry: RetryPolicy | None = None) -> None:
        self.client = client
        self.stream_name = stream_name
        self.retry = retry or RetryPolicy()
        self.stats = SinkStats()

    def put(self, records: Iterable[Record]) -> int:
        """Deliver every record; returns how many. Raises `DeliveryError` (nothing dropped silently) or
        ValueError for a record Kinesis can never accept."""
        count = 0
        for batch in batches(records):
            self.put_batch(batch)
            count += len(batch)
        return count

    def put_batch(self, batch: list[Record]) -> None:
        """Deliver one batch (<= 500 records / 5 MB), re-sending failed entries until all are in."""
        delivered_before = self.stats.delivered

        def what(undelivered: list[Any], codes: Counter[str], attempts: int) -> str:
            keys = ", ".join(key for key, _ in undelivered[:5])
            return (
                f"{len(undelivered)} of {len(batch)} records of a PutRecords batch were not delivered to Kinesis "
                f"stream {self.stream_name!r} after {attempts} attempts (errors: {describe_errors(codes)}); "
                f"partition keys: {keys}{' ...' if len(undelivered) > 5 else ''}. "
                f"{delivered_before} records were delivered before this batch; the rest of the input was not read. "
                "They are in DeliveryError.undelivered; re-sending is safe (consumers deduplicate)."
            )

        deliver_with_retries(batch, self._send, policy=self.retry, stats=self.stats, what=what)

    def _send(self, pending: list[Record]) -> tuple[list[Record], Counter[str]]:
        response = self.client.put_records(
            StreamName=self.stream_name,
            Records=[{"PartitionKey": key, "Data": data} for key, data in pending],
        )
        if not response.get("FailedRecordCount"):
            return [], Counter()
        failed = [record for record, result in zip(pending, response["Records"], strict=True) if "ErrorCode" in result]
        codes = Counter(result["ErrorCode"] for result in response["Records"] if "ErrorCode" in result)
        return failed, codes


__all__ = ["DeliveryError", "KinesisSink", "Record", "batches", "check_record"]
