"""The local event source poller against Kinesis and DynamoDB Streams on a moto server."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

import pytest

from lakehouse.emulator import Emulator
from lakehouse.runtime import (
    CheckpointStore,
    DynamoDBStreamSource,
    EventSourceMapping,
    KinesisSource,
    Poller,
)
from lakehouse.runtime import checkpoint as checkpoint_module

pytestmark = pytest.mark.integration

KINESIS_KEYS = {
    "kinesis",
    "eventSource",
    "eventVersion",
    "eventID",
    "eventName",
    "invokeIdentityArn",
    "awsRegion",
    "eventSourceARN",
}


class RecordingHandler:
    """Records every delivery; fails the records whose payload is in `fail_once` on their first delivery."""

    def __init__(self, fail_once: set[str] = frozenset(), raise_once: bool = False) -> None:  # type: ignore[assignment]
        self.deliveries: list[str] = []
        self.batches: list[list[str]] = []
        self.fail_once = set(fail_once)
        self.raise_once = raise_once

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        assert context.function_name and context.get_remaining_time_in_millis() > 0
        payloads = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
        self.batches.append(payloads)
        self.deliveries += payloads
        if self.raise_once:
            self.raise_once = False
            raise RuntimeError("handler crashed")
        failed = [r for r, p in zip(event["Records"], payloads, strict=True) if p in self.fail_once]
        for p in payloads:
            self.fail_once.discard(p)
        return {"batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in failed]}


def kinesis_stream(emulator: Emulator, shards: int, records: list[tuple[str, str]]) -> Any:
    client = emulator.aws.client("kinesis")
    client.create_stream(StreamName="cdc", ShardCount=shards)
    for key, data in records:
        client.put_record(StreamName="cdc", PartitionKey=key, Data=data.encode())
    return client


def poller(emulator: Emulator, handler: Any, tmp_path: Path, **mapping: Any) -> Poller:
    source = KinesisSource(emulator.aws.client("kinesis"), "cdc", region=emulator.region)
    return Poller(
        source,
        handler,
        EventSourceMapping(function_name="cdc_kinesis", **mapping),
        CheckpointStore(tmp_path / "checkpoints.json"),
        region=emulator.region,
    )


def per_key_order(deliveries: list[str]) -> dict[str, list[str]]:
    order: dict[str, list[str]] = {}
    for payload in deliveries:
        order.setdefault(payload.split("#")[0], []).append(payload)
    return order


RECORDS = [(f"k{i % 5}", f"k{i % 5}#{i:03d}") for i in range(40)]


def test_kinesis_events_are_shaped_like_lambda_and_delivered_once_in_shard_order(
    emulator: Emulator, tmp_path: Path
) -> None:
    kinesis_stream(emulator, 3, RECORDS)
    events: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        events.extend(event["Records"])

    stats = poller(emulator, handler, tmp_path, batch_size=7).drain()

    assert stats.records_succeeded == 40 and stats.shards == 3
    record = events[0]
    assert set(record) == KINESIS_KEYS
    assert set(record["kinesis"]) == {
        "kinesisSchemaVersion",
        "partitionKey",
        "sequenceNumber",
        "data",
        "approximateArrivalTimestamp",
    }
    assert record["eventName"] == "aws:kinesis:record" and record["eventSource"] == "aws:kinesis"
    assert record["eventSourceARN"].startswith("arn:aws:kinesis:us-east-1:") and record["eventSourceARN"].endswith(
        "stream/cdc"
    )
    shard, _, sequence = record["eventID"].partition(":")
    assert shard.startswith("shardId-") and sequence == record["kinesis"]["sequenceNumber"]
    assert isinstance(record["kinesis"]["approximateArrivalTimestamp"], float)
    json.dumps(events)  # exactly JSON-serialisable, like a real event
    payloads = [base64.b64decode(e["kinesis"]["data"]).decode() for e in events]
    assert sorted(payloads) == sorted(p for _, p in RECORDS)
    expected = per_key_order([p for _, p in RECORDS])
    assert per_key_order(payloads) == expected  # one key -> one shard -> its order kept


def test_checkpoint_resumes_after_the_last_handled_record(emulator: Emulator, tmp_path: Path) -> None:
    client = kinesis_stream(emulator, 2, RECORDS[:10])
    first = RecordingHandler()
    poller(emulator, first, tmp_path, batch_size=4).drain()
    client.put_record(StreamName="cdc", PartitionKey="k9", Data=b"k9#new")

    second = RecordingHandler()
    poller(emulator, second, tmp_path, batch_size=4).drain()

    assert len(first.deliveries) == 10 and second.deliveries == ["k9#new"]
    saved = json.loads((tmp_path / "checkpoints.json").read_text())
    assert len(next(iter(saved.values()))) == 2  # both shards checkpointed


def test_partial_failure_redelivers_from_the_first_failed_record(emulator: Emulator, tmp_path: Path) -> None:
    records = [("k", f"k#{i}") for i in range(6)]  # one key: one shard, one ordered sequence
    kinesis_stream(emulator, 1, records)
    handler = RecordingHandler(fail_once={"k#2", "k#4"})

    stats = poller(emulator, handler, tmp_path, batch_size=6).drain()

    assert handler.batches[0] == [f"k#{i}" for i in range(6)]
    assert handler.batches[1][:4] == ["k#2", "k#3", "k#4", "k#5"]  # from the first failure, not only the failed
    assert per_key_order(handler.deliveries)["k"].count("k#0") == 1
    assert stats.partial_failures == 1 and stats.records_succeeded == 6


def test_handler_exception_retries_the_whole_batch(emulator: Emulator, tmp_path: Path) -> None:
    kinesis_stream(emulator, 1, [("k", f"k#{i}") for i in range(3)])
    handler = RecordingHandler(raise_once=True)

    stats = poller(emulator, handler, tmp_path, batch_size=10).drain()

    assert handler.batches == [["k#0", "k#1", "k#2"], ["k#0", "k#1", "k#2"]]
    assert stats.handler_errors == 1 and stats.records_succeeded == 3


def test_crash_between_handler_commit_and_checkpoint_redelivers(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kinesis_stream(emulator, 1, [("k", f"k#{i}") for i in range(4)])
    handler = RecordingHandler()
    real_save = checkpoint_module.CheckpointStore._save
    saves = {"n": 0}

    def crash_on_second_save(self: CheckpointStore) -> None:
        saves["n"] += 1
        if saves["n"] == 2:
            raise KeyboardInterrupt("power cut")
        real_save(self)

    monkeypatch.setattr(checkpoint_module.CheckpointStore, "_save", crash_on_second_save)
    with pytest.raises(KeyboardInterrupt):
        poller(emulator, handler, tmp_path, batch_size=2).drain()
    monkeypatch.setattr(checkpoint_module.CheckpointStore, "_save", real_save)
    poller(emulator, handler, tmp_path, batch_size=2).drain()

    assert handler.batches == [["k#0", "k#1"], ["k#2", "k#3"], ["k#2", "k#3"]]  # the batch after the crash again
    assert not list(tmp_path.glob(".checkpoints.json.*.tmp"))  # no torn temporary files left


def test_record_failing_past_the_retry_budget_goes_to_the_on_failure_file(emulator: Emulator, tmp_path: Path) -> None:
    kinesis_stream(emulator, 1, [("k", f"k#{i}") for i in range(3)])

    def always_fail_second(event: dict[str, Any], context: Any) -> dict[str, Any]:
        second = [r for r in event["Records"] if base64.b64decode(r["kinesis"]["data"]) == b"k#1"]
        return {"batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in second]}

    stats = poller(emulator, always_fail_second, tmp_path, batch_size=10, max_retry_attempts=2).drain()

    assert stats.invocations == 3 and stats.discarded == 2  # k#1 and k#2 were in the failing batch
    failure = json.loads((tmp_path / "checkpoints.failures.jsonl").read_text())
    assert failure["batchSize"] == 2 and failure["retryAttempts"] == 2


def test_shard_order_shuffling_keeps_per_key_order(emulator: Emulator, tmp_path: Path) -> None:
    kinesis_stream(emulator, 4, RECORDS)
    handler = RecordingHandler()
    source = KinesisSource(emulator.aws.client("kinesis"), "cdc", region=emulator.region)
    mapping = EventSourceMapping(function_name="f", batch_size=3, parallel_shards=True)
    Poller(source, handler, mapping, CheckpointStore(tmp_path / "c.json"), rng=random.Random(7)).drain()
    assert per_key_order(handler.deliveries) == per_key_order([p for _, p in RECORDS])


def test_dynamodb_stream_events_are_shaped_like_lambda(emulator: Emulator, tmp_path: Path) -> None:
    dynamodb = emulator.aws.client("dynamodb")
    dynamodb.create_table(
        TableName="user-behaviour",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    key = {"pk": {"S": "CART#1"}, "sk": {"S": "META"}}
    dynamodb.put_item(TableName="user-behaviour", Item={**key, "status": {"S": "open"}})
    dynamodb.put_item(TableName="user-behaviour", Item={**key, "status": {"S": "converted"}})
    dynamodb.delete_item(TableName="user-behaviour", Key=key)
    events: list[dict[str, Any]] = []
    source = DynamoDBStreamSource(
        dynamodb, emulator.aws.client("dynamodbstreams"), "user-behaviour", region="us-east-1"
    )

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.extend(event["Records"])
        return {"batchItemFailures": []}

    Poller(
        source,
        handler,
        EventSourceMapping(function_name="cdc_dynamodb", batch_size=2),
        CheckpointStore(tmp_path / "d.json"),
    ).drain()

    assert [e["eventName"] for e in events] == ["INSERT", "MODIFY", "REMOVE"]
    modify = events[1]
    assert {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "eventSourceARN"} <= set(
        modify
    )
    assert modify["eventSource"] == "aws:dynamodb" and "/stream/" in modify["eventSourceARN"]
    record = modify["dynamodb"]
    assert record["Keys"] == key and record["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert record["NewImage"]["status"] == {"S": "converted"} and record["OldImage"]["status"] == {"S": "open"}
    assert isinstance(record["ApproximateCreationDateTime"], float) and isinstance(record["SizeBytes"], int)
    assert "NewImage" not in events[2]["dynamodb"] and events[2]["dynamodb"]["OldImage"]["status"] == {"S": "converted"}
    sequences = [int(e["dynamodb"]["SequenceNumber"]) for e in events]
    assert sequences == sorted(sequences)
    json.dumps(events)
