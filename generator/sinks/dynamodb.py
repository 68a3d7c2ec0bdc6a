"""DynamoDB BatchWriteItem sink: 25 write requests per call, UnprocessedItems retried with backoff, never dropped.

A batch never holds two requests for the same key (DynamoDB rejects such a batch), and a batch is fully written
before the next one is sent, so successive writes to one item (put, then update as a put, then delete) apply in
input order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from generator.sinks.retry import DeliveryError, RetryPolicy, SinkStats, deliver_with_retries, describe_errors

MAX_REQUESTS_PER_CALL = 25
DEFAULT_KEY_ATTRIBUTES = ("pk", "sk")

WriteRequest = dict[str, Any]  # {"PutRequest": {"Item": {...}}} or {"DeleteRequest": {"Key": {...}}}


def write_request(change: dict[str, Any]) -> WriteRequest:
    """A BatchWriteItem request from one line of the simulator's local DynamoDB output (docs/source-formats.md):
    `{"op": "put", "item": {...}}` or `{"op": "delete", "key": {...}}`."""
    op = change.get("op")
    if op == "put":
        return {"PutRequest": {"Item": change["item"]}}
    if op == "delete":
        return {"DeleteRequest": {"Key": change["key"]}}
    raise ValueError(f"DynamoDB change needs op 'put' (with 'item') or 'delete' (with 'key'); got op={op!r}")


def request_key(request: WriteRequest, key_attributes: tuple[str, ...] = DEFAULT_KEY_ATTRIBUTES) -> tuple[str, ...]:
    """The key values of a write request as strings, e.g. ("CART#7", "META")."""
    if "PutRequest" in request:
        attributes = request["PutRequest"]["Item"]
    elif "DeleteRequest" in request:
        attributes = request["DeleteRequest"]["Key"]
    else:
        raise ValueError(f"a write request holds PutRequest or DeleteRequest; got keys {sorted(request)}")
    try:
        # An attribute value is {"S": "CART#7"} (or N, B): its one value identifies the item.
        return tuple(str(next(iter(attributes[name].values()))) for name in key_attributes)
    except KeyError as missing:
        raise ValueError(f"write request lacks key attribute {missing}; the table key is {key_attributes}") from None


def batches(
    requests: Iterable[WriteRequest],
    key_attributes: tuple[str, ...] = DEFAULT_KEY_ATTRIBUTES,
    max_requests: int = MAX_REQUESTS_PER_CALL,
) -> Iterator[list[WriteRequest]]:
    """Group requests lazily into batches of <= 25 with distinct keys, keeping input order."""
    batch: list[WriteRequest] = []
    keys: set[tuple[str, ...]] = set()
    for request in requests:
        key = request_key(request, key_attributes)
        if batch and (len(batch) == max_requests or key in keys):
            yield batch
            batch, keys = [], set()
        batch.append(request)
        keys.add(key)
    if batch:
        yield batch


class DynamoDBSink:
    """Write BatchWriteItem requests to one table. `write` streams: memory holds one batch."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        key_attributes: tuple[str, ...] = DEFAULT_KEY_ATTRIBUTES,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.client = client
        self.table_name = table_name
        self.key_attributes = key_attributes
        self.retry = retry or RetryPolicy()
        self.stats = SinkStats()

    def write(self, requests: Iterable[WriteRequest]) -> int:
        """Write every request (see `write_request` for the simulator's local format); returns how many."""
        count = 0
        for batch in batches(requests, self.key_attributes):
            self.write_batch(batch)
            count += len(batch)
        return count

    def write_batch(self, batch: list[WriteRequest]) -> None:
        delivered_before = self.stats.delivered

        def what(undelivered: list[Any], codes: Counter[str], attempts: int) -> str:
            keys = ", ".join("/".join(request_key(r, self.key_attributes)) for r in undelivered[:5])
            return (
                f"{len(undelivered)} of {len(batch)} write requests were not written to DynamoDB table "
                f"{self.table_name!r} after {attempts} attempts (errors: {describe_errors(codes)}); keys: {keys}"
                f"{' ...' if len(undelivered) > 5 else ''}. {delivered_before} requests were written before this "
                "batch; the rest of the input was not read. They are in DeliveryError.undelivered."
            )

        deliver_with_retries(batch, self._send, policy=self.retry, stats=self.stats, what=what)

    def _send(self, pending: list[WriteRequest]) -> tuple[list[WriteRequest], Counter[str]]:
        response = self.client.batch_write_item(RequestItems={self.table_name: pending})
        unprocessed = response.get("UnprocessedItems", {}).get(self.table_name, [])
        # UnprocessedItems carries no per-item reason; DynamoDB returns it when throughput is exceeded.
        return list(unprocessed), Counter({"UnprocessedItems": len(unprocessed)}) if unprocessed else Counter()


__all__ = ["DeliveryError", "DynamoDBSink", "WriteRequest", "batches", "request_key", "write_request"]
