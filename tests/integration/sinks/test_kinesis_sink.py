"""KinesisSink against a moto server with injected partial failures: nothing lost, duplicates only where the
service's answer was ambiguous, a clear error when the retry budget runs out."""

from __future__ import annotations

import base64
import json
import zlib
from collections import Counter
from typing import Any

import pytest

from generator.sinks import DeliveryError, KinesisSink, RetryPolicy, ensure_resources
from lakehouse.emulator import Emulator
from tests.integration.sinks.faults import KINESIS_PUT_RECORDS, EntryFaults, throttle_whole_calls
from tests.integration.sinks.readback import kinesis_records

pytestmark = pytest.mark.integration
STREAM = "cdc-test"


def _records(n: int) -> list[tuple[str, bytes]]:
    """Change-event-like records; a few keys repeat (updates of one row), sizes vary."""
    records = []
    for i in range(n):
        key = f"orders:{i % (n // 3)}"
        data = json.dumps({"op": "u" if i >= n // 3 else "c", "lsn": i, "pad": "x" * (i % 700)}).encode()
        records.append((key, data))
    return records


def _fast_retry(max_attempts: int = 8) -> tuple[RetryPolicy, list[float]]:
    sleeps: list[float] = []
    return RetryPolicy(max_attempts=max_attempts, base_delay_s=0.001, max_delay_s=0.01, sleep=sleeps.append), sleeps


def _sink(emulator: Emulator, shards: int = 3, **kwargs: Any) -> KinesisSink:
    ensure_resources(emulator.aws, stream=STREAM, shards=shards, table=None)
    return KinesisSink(emulator.aws.client("kinesis"), STREAM, **kwargs)


def _lsn(entry: dict[str, Any]) -> int:
    return int(json.loads(base64.b64decode(entry["Data"]))["lsn"])


def test_partial_failures_are_retried_until_every_record_is_in_exactly_once(emulator: Emulator) -> None:
    retry, sleeps = _fast_retry()
    sink = _sink(emulator, retry=retry)
    codes = ("ProvisionedThroughputExceededException", "InternalFailure")
    # About a third of the entries fail on their first two sends, with both error codes Kinesis uses.
    faults = EntryFaults(
        KINESIS_PUT_RECORDS, lambda entry, sent: codes[_lsn(entry) % 2] if _lsn(entry) % 3 == 0 and sent < 2 else None
    ).install(sink.client)
    records = _records(1_200)

    assert sink.put(iter(records)) == len(records)

    stored = kinesis_records(sink.client, STREAM)
    assert Counter(stored) == Counter(records)  # every record, none twice
    assert len(faults.injected) == 2 * len([r for r in records if json.loads(r[1])["lsn"] % 3 == 0])
    assert sink.stats.retried_entries == len(faults.injected)
    assert sink.stats.delivered == len(records)
    assert set(sink.stats.error_codes) == set(codes)
    assert sink.stats.calls == 3 * 3  # three batches (500, 500, 200), each needed two retries
    assert len(sleeps) == 6 and all(0 <= s <= 0.01 for s in sleeps)


def test_per_key_order_is_kept_in_each_shard(emulator: Emulator) -> None:
    sink = _sink(emulator)
    records = _records(900)
    sink.put(records)
    by_key: dict[str, list[int]] = {}
    for key, data in kinesis_records(sink.client, STREAM):
        by_key.setdefault(key, []).append(json.loads(data)["lsn"])
    assert by_key and all(lsns == sorted(lsns) for lsns in by_key.values())


def test_ambiguous_failures_duplicate_only_the_entries_reported_failed(emulator: Emulator) -> None:
    retry, _ = _fast_retry()
    sink = _sink(emulator, retry=retry)
    faults = EntryFaults(
        KINESIS_PUT_RECORDS,
        lambda entry, sent: "InternalFailure" if _lsn(entry) % 50 == 0 and sent == 0 else None,
        delivered=True,
    ).install(sink.client)
    records = _records(600)

    sink.put(records)

    stored = Counter(kinesis_records(sink.client, STREAM))
    extra = stored - Counter(records)
    assert not Counter(records) - stored  # nothing lost
    expected_duplicates = Counter(
        (entry["PartitionKey"], base64.b64decode(entry["Data"])) for entry, _ in faults.injected
    )
    assert extra == expected_duplicates and len(extra) == 12  # at least once, and only where ambiguous


def test_whole_call_throttling_is_retried(emulator: Emulator) -> None:
    retry, sleeps = _fast_retry()
    sink = _sink(emulator, shards=1, retry=retry)
    seen = throttle_whole_calls(sink.client, KINESIS_PUT_RECORDS.event, "ProvisionedThroughputExceededException", 2)
    records = _records(30)

    sink.put(records)

    assert seen["calls"] == 3 and len(sleeps) == 2
    assert Counter(kinesis_records(sink.client, STREAM)) == Counter(records)


def test_gives_up_after_a_bounded_number_of_attempts_naming_what_was_not_delivered(emulator: Emulator) -> None:
    retry, _ = _fast_retry(max_attempts=4)
    sink = _sink(emulator, shards=2, retry=retry)
    poisoned = "orders:7"
    faults = EntryFaults(
        KINESIS_PUT_RECORDS,
        lambda entry, _: "ProvisionedThroughputExceededException" if entry["PartitionKey"] == poisoned else None,
    ).install(sink.client)
    records = [(f"orders:{i}", f'{{"lsn": {i}}}'.encode()) for i in range(1_100)]
    consumed = []

    def source() -> Any:
        for record in records:
            consumed.append(record)
            yield record

    with pytest.raises(DeliveryError) as raised:
        sink.put(source())

    error = raised.value
    assert error.undelivered == [records[7]]
    assert poisoned in str(error) and "ProvisionedThroughputExceededException x4" in str(error)
    assert "after 4 attempts" in str(error)
    assert faults.calls == 4
    # The first batch's other records are in; the input after that batch was not read.
    assert Counter(kinesis_records(sink.client, STREAM)) == Counter(records[:500]) - Counter([records[7]])
    assert len(consumed) == 501


def test_missing_stream_fails_at_once_with_the_stream_name(emulator: Emulator) -> None:
    retry, sleeps = _fast_retry()
    sink = KinesisSink(emulator.aws.client("kinesis"), "no-such-stream", retry=retry)
    with pytest.raises(DeliveryError, match=r"no-such-stream.*ResourceNotFoundException"):
        sink.put([("customers:1", b"{}")])
    assert sleeps == []


def test_compressed_binary_payloads_round_trip(emulator: Emulator) -> None:
    sink = _sink(emulator, shards=1)
    records = [(f"blob:{i}", zlib.compress(bytes(range(256)) * (i + 1))) for i in range(20)]
    sink.put(records)
    assert kinesis_records(sink.client, STREAM) == records


def test_batches_respect_the_record_count_and_byte_limits() -> None:
    from generator.sinks.kinesis import MAX_BYTES_PER_RECORD, batches

    small = [(f"k:{i}", b"x") for i in range(1_201)]
    assert [len(b) for b in batches(small)] == [500, 500, 201]
    big = [(f"k:{i}", b"x" * 900_000) for i in range(12)]  # 6 x 900 kB > 5 MB: 5 per call
    grouped = list(batches(big))
    assert [len(b) for b in grouped] == [5, 5, 2] and [r for b in grouped for r in b] == big
    with pytest.raises(ValueError, match=r"'orders:1' is 1048577 bytes; the limit is 1048576"):
        list(batches([("orders:1", b"x" * (MAX_BYTES_PER_RECORD - len("orders:1") + 1))]))
    with pytest.raises(ValueError, match="1-256 characters"):
        list(batches([("k" * 257, b"{}")]))
