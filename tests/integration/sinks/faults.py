"""Fault injection for the sink tests, on the botocore client's event system (no fake of the service itself).

`EntryFaults` makes chosen entries of a batch call (Kinesis PutRecords, DynamoDB BatchWriteItem) fail:
- "rejected" (the default): the entry is removed from the request before it reaches the emulator and reported
  back as failed (an ErrorCode entry / an UnprocessedItems entry), exactly what the service does under throttling;
- "ambiguous" (`delivered=True`): the entry reaches the emulator but is reported as failed, as after a lost
  response; re-sending it must create a duplicate, and only that.
`throttle_whole_calls` answers the first calls of an operation with an error response (before the network),
and `fail_http_sends` makes the HTTP layer answer 503 so botocore's own retry runs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse


class _Raw:
    """Just enough of urllib3's response for botocore to read an error body."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _response(status: int, body: bytes = b"{}") -> AWSResponse:
    return AWSResponse("http://fault-injection", status, {}, _Raw(body))


@dataclass
class _Operation:
    event: str  # e.g. "kinesis.PutRecords"
    get_entries: Callable[[dict[str, Any]], list[Any]]
    set_entries: Callable[[dict[str, Any], list[Any]], None]
    merge_failures: Callable[[dict[str, Any], int, list[tuple[int, Any, str]]], dict[str, Any]]


def _kinesis_merge(parsed: dict[str, Any], total: int, failures: list[tuple[int, Any, str]]) -> dict[str, Any]:
    results = iter(parsed.get("Records", []))
    failed_at = {index: code for index, _, code in failures}
    merged = []
    for index in range(total):
        if index in failed_at:
            merged.append({"ErrorCode": failed_at[index], "ErrorMessage": "injected by the test"})
        else:
            merged.append(next(results))
    parsed["Records"] = merged
    parsed["FailedRecordCount"] = sum("ErrorCode" in r for r in merged)
    return parsed


def _dynamodb_table(body: dict[str, Any]) -> str:
    (table,) = body["RequestItems"]
    return str(table)


def _dynamodb_set(body: dict[str, Any], entries: list[Any]) -> None:
    body["RequestItems"][_dynamodb_table(body)] = entries


def _dynamodb_merge_for(table: str) -> Callable[[dict[str, Any], int, list[tuple[int, Any, str]]], dict[str, Any]]:
    def merge(parsed: dict[str, Any], total: int, failures: list[tuple[int, Any, str]]) -> dict[str, Any]:
        unprocessed = parsed.setdefault("UnprocessedItems", {}).setdefault(table, [])
        unprocessed.extend(entry for _, entry, _ in failures)
        return parsed

    return merge


KINESIS_PUT_RECORDS = _Operation(
    event="kinesis.PutRecords",
    get_entries=lambda body: body["Records"],
    set_entries=lambda body, entries: body.__setitem__("Records", entries),
    merge_failures=_kinesis_merge,
)


def dynamodb_batch_write(table: str) -> _Operation:
    return _Operation(
        event="dynamodb.BatchWriteItem",
        get_entries=lambda body: body["RequestItems"][_dynamodb_table(body)],
        set_entries=_dynamodb_set,
        merge_failures=_dynamodb_merge_for(table),
    )


def entry_identity(entry: Any) -> str:
    return json.dumps(entry, sort_keys=True)


# should_fail(entry as sent on the wire, how many times this entry was sent before) -> error code or None
FailureRule = Callable[[dict[str, Any], int], str | None]


@dataclass
class EntryFaults:
    operation: _Operation
    should_fail: FailureRule
    delivered: bool = False
    attempts: Counter[str] = field(default_factory=Counter)  # entry identity -> times sent
    injected: list[tuple[Any, str]] = field(default_factory=list)  # (entry, error code) per injected failure
    calls: int = 0

    def install(self, client: Any) -> EntryFaults:
        client.meta.events.register(f"before-call.{self.operation.event}", self._before_call)
        client.meta.events.register(f"after-call.{self.operation.event}", self._after_call)
        return self

    def _before_call(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
        self.calls += 1
        body = json.loads(params["body"])
        entries = self.operation.get_entries(body)
        failures: list[tuple[int, Any, str]] = []
        for index, entry in enumerate(entries):
            identity = entry_identity(entry)
            code = self.should_fail(entry, self.attempts[identity])
            self.attempts[identity] += 1
            if code:
                failures.append((index, entry, code))
                self.injected.append((entry, code))
        context["injected_failures"] = (len(entries), failures)
        if not failures or self.delivered:
            return None
        failed_indexes = {index for index, _, _ in failures}
        survivors = [entry for index, entry in enumerate(entries) if index not in failed_indexes]
        if not survivors:  # nothing left to send: answer as the service would, without a call
            return _response(200), {"Records": [], "UnprocessedItems": {}}
        self.operation.set_entries(body, survivors)
        params["body"] = json.dumps(body).encode()
        return None

    def _after_call(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        total, failures = context.pop("injected_failures", (0, []))
        if failures and "Error" not in parsed:
            if self.delivered:  # the emulator stored them; the caller is told they failed
                if self.operation.event == KINESIS_PUT_RECORDS.event:
                    parsed["Records"] = list(parsed["Records"])
                    for index, _, code in failures:
                        parsed["Records"][index] = {"ErrorCode": code, "ErrorMessage": "injected (delivered)"}
                    parsed["FailedRecordCount"] = len(failures)
                else:
                    self.operation.merge_failures(parsed, total, failures)
            else:
                self.operation.merge_failures(parsed, total, failures)


def throttle_whole_calls(client: Any, event: str, code: str, times: int, status: int = 400) -> Counter[str]:
    """Answer the first `times` calls of `event` with `code` before they reach the network."""
    seen: Counter[str] = Counter()

    def before_call(**_: Any) -> Any:
        seen["calls"] += 1
        if seen["calls"] <= times:
            return _response(status), {"Error": {"Code": code, "Message": "injected by the test"}}
        return None

    client.meta.events.register(f"before-call.{event}", before_call)
    return seen


def fail_http_sends(client: Any, event: str, should_fail: Callable[[Any, int], bool]) -> Counter[str]:
    """Make the HTTP layer answer 503 SlowDown for requests chosen by `should_fail(request, nth send of its URL)`;
    botocore's retry handler sees a real 503 and retries."""
    sends: Counter[str] = Counter()
    body = b"<Error><Code>SlowDown</Code><Message>injected by the test</Message></Error>"

    def before_send(request: Any, **_: Any) -> Any:
        nth = sends[request.url]
        sends[request.url] += 1
        if should_fail(request, nth):
            sends["injected"] += 1
            return _response(503, body)
        return None

    client.meta.events.register(f"before-send.{event}", before_send)
    return sends
