"""Read everything back from the emulator, independently of the sinks under test."""

from __future__ import annotations

from typing import Any


def kinesis_records(client: Any, stream: str) -> list[tuple[str, bytes]]:
    """(partition key, data) of every record in every shard, shard by shard in sequence order."""
    records: list[tuple[str, bytes]] = []
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        iterator = client.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = client.get_records(ShardIterator=iterator, Limit=10_000)
            if not page["Records"]:
                break
            records.extend((r["PartitionKey"], r["Data"]) for r in page["Records"])
            iterator = page.get("NextShardIterator")
    return records


def dynamodb_items(client: Any, table: str) -> dict[tuple[str, str], dict[str, Any]]:
    items: dict[tuple[str, str], dict[str, Any]] = {}
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            items[(item["pk"]["S"], item["sk"]["S"])] = item
    return items


def s3_objects(client: Any, bucket: str) -> dict[str, bytes]:
    objects: dict[str, bytes] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            objects[entry["Key"]] = client.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
    return objects


def apply_dynamodb_changes(changes: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The table state that the simulator's DynamoDB change lines describe, applied in order."""
    state: dict[tuple[str, str], dict[str, Any]] = {}
    for change in changes:
        attributes = change.get("item") or change["key"]
        key = (attributes["pk"]["S"], attributes["sk"]["S"])
        if change["op"] == "put":
            state[key] = change["item"]
        else:
            state.pop(key, None)
    return state
