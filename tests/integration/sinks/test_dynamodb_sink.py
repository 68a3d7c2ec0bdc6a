"""DynamoDBSink against a moto server with injected UnprocessedItems: the table ends in the state the writes
describe, in order, with nothing lost."""

from __future__ import annotations

from collections import Counter
from typing import Any
from zlib import crc32

import pytest

from generator.sinks import DeliveryError, DynamoDBSink, RetryPolicy, ensure_resources, write_request
from generator.sinks.dynamodb import batches
from lakehouse.emulator import Emulator
from tests.integration.sinks.faults import EntryFaults, dynamodb_batch_write, throttle_whole_calls
from tests.integration.sinks.readback import apply_dynamodb_changes, dynamodb_items

pytestmark = pytest.mark.integration
TABLE = "user-behaviour-test"


def _changes(n_carts: int) -> list[dict[str, Any]]:
    """Simulator-style changes: each cart is put, updated twice (as puts), gets items; every 4th cart's items
    are deleted again. Successive writes to one key must apply in order."""
    changes: list[dict[str, Any]] = []
    for cart in range(n_carts):
        pk = {"S": f"CART#{cart}"}
        for version, status in enumerate(("open", "open", "abandoned" if cart % 3 else "converted")):
            item = {"pk": pk, "sk": {"S": "META"}, "entity": {"S": "carts"}, "status": {"S": status}}
            changes.append({"op": "put", "item": {**item, "version": {"N": str(version)}}})
            changes.append(
                {"op": "put", "item": {"pk": pk, "sk": {"S": f"ITEM#{version}"}, "entity": {"S": "cart_items"}}}
            )
        if cart % 4 == 0:
            changes.extend({"op": "delete", "key": {"pk": pk, "sk": {"S": f"ITEM#{v}"}}} for v in range(3))
    return changes


def _sink(emulator: Emulator, max_attempts: int = 8) -> tuple[DynamoDBSink, list[float]]:
    ensure_resources(emulator.aws, stream=None, table=TABLE)
    sleeps: list[float] = []
    retry = RetryPolicy(max_attempts=max_attempts, base_delay_s=0.001, max_delay_s=0.01, sleep=sleeps.append)
    return DynamoDBSink(emulator.aws.client("dynamodb"), TABLE, retry=retry), sleeps


def _key(request: dict[str, Any]) -> str:
    attributes = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
    return f"{attributes['pk']['S']}/{attributes['sk']['S']}"


def test_unprocessed_items_are_retried_and_the_final_state_matches_the_writes_in_order(emulator: Emulator) -> None:
    sink, sleeps = _sink(emulator)

    # A fifth of the keys come back unprocessed on their first send, a third of those on their first two.
    def unprocessed(request: dict[str, Any], sent: int) -> str | None:
        bucket = crc32(_key(request).encode()) % 15
        return "UnprocessedItems" if bucket % 5 == 0 and sent < (2 if bucket == 0 else 1) else None

    faults = EntryFaults(dynamodb_batch_write(TABLE), unprocessed).install(sink.client)
    changes = _changes(60)

    written = sink.write(write_request(change) for change in changes)

    assert written == len(changes)
    assert dynamodb_items(sink.client, TABLE) == apply_dynamodb_changes(changes)
    assert faults.injected and sink.stats.retried_entries == len(faults.injected)
    assert sink.stats.delivered == len(changes)
    assert len(sleeps) > 0


def test_batches_hold_at_most_25_requests_and_never_one_key_twice() -> None:
    distinct = [{"op": "put", "item": {"pk": {"S": f"USER#{i}"}, "sk": {"S": "PROFILE"}}} for i in range(60)]
    requests = [write_request(change) for change in [*distinct, *_changes(40)]]
    grouped = list(batches(iter(requests)))
    assert [r for batch in grouped for r in batch] == requests
    assert all(1 <= len(batch) <= 25 for batch in grouped)
    assert all(len({_key(r) for r in batch}) == len(batch) for batch in grouped)
    assert max(len(batch) for batch in grouped) == 25


def test_whole_call_throttling_is_retried(emulator: Emulator) -> None:
    sink, sleeps = _sink(emulator)
    seen = throttle_whole_calls(sink.client, "dynamodb.BatchWriteItem", "ProvisionedThroughputExceededException", 3)
    changes = _changes(5)
    sink.write(write_request(c) for c in changes)
    assert seen["calls"] > 3 and len(sleeps) >= 3
    assert dynamodb_items(sink.client, TABLE) == apply_dynamodb_changes(changes)


def test_gives_up_after_a_bounded_number_of_attempts_naming_the_keys(emulator: Emulator) -> None:
    sink, _ = _sink(emulator, max_attempts=3)
    stuck = "CART#2/META"
    EntryFaults(
        dynamodb_batch_write(TABLE), lambda request, _: "UnprocessedItems" if _key(request) == stuck else None
    ).install(sink.client)
    changes = _changes(10)

    with pytest.raises(DeliveryError) as raised:
        sink.write(write_request(c) for c in changes)

    assert [_key(r) for r in raised.value.undelivered] == [stuck]
    assert stuck in str(raised.value) and "after 3 attempts" in str(raised.value) and TABLE in str(raised.value)
    assert Counter(raised.value.error_codes) == Counter({"UnprocessedItems": 3})


def test_bad_change_lines_name_the_expected_shape() -> None:
    with pytest.raises(ValueError, match="op 'put'"):
        write_request({"op": "upsert", "item": {}})
    with pytest.raises(ValueError, match=r"key attribute 'sk'"):
        list(batches([{"PutRequest": {"Item": {"pk": {"S": "x"}}}}]))
