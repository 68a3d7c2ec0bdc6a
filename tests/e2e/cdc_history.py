"""Test support: a random change history of the `products` table, its ground truth, and the Debezium change
events the Kinesis consumer receives for it (as Lambda records, one list per shard)."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

from lakehouse.contract import get_table
from lakehouse.runtime.sources import kinesis_lambda_record

PRODUCTS = get_table("products")
BASE_US = 1_764_000_000_000_000
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/cdc"


@dataclass(frozen=True)
class Event:
    op: str  # c | u | d
    key: int
    lsn: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def product_row(key: int, lsn: int) -> dict[str, Any]:
    """Debezium JSON values of one version of a product (decimals as strings, timestamps as epoch micros)."""
    return {
        "product_id": key,
        "sku": f"SKU-{key}",
        "name": f"product {key} v{lsn}",
        "category": ["toys", "books", "garden"][lsn % 3],
        "subcategory": None if lsn % 4 == 0 else f"sub{lsn % 5}",
        "brand": f"brand{key % 3}",
        "price": f"{lsn % 500}.{lsn % 100:02d}",
        "cost": "1.50",
        "is_active": lsn % 2 == 0,
        "created_at": BASE_US + key,
        "updated_at": BASE_US + lsn * 1_000_000,
    }


def history(steps: list[tuple[int, bool]]) -> list[Event]:
    """`steps` = (key, delete wanted): insert when the key is absent, else delete or update."""
    current: dict[int, dict[str, Any]] = {}
    events = []
    for index, (key, delete) in enumerate(steps):
        lsn = (index + 1) * 10
        before = current.get(key)
        if before is None:
            after = product_row(key, lsn)
            events.append(Event("c", key, lsn, None, after))
            current[key] = after
        elif delete:
            events.append(Event("d", key, lsn, before, None))
            del current[key]
        else:
            after = product_row(key, lsn)
            events.append(Event("u", key, lsn, before, after))
            current[key] = after
    return events


def ground_truth(events: list[Event]) -> pa.Table:
    state: dict[int, dict[str, Any]] = {}
    for event in events:
        if event.op == "d":
            state.pop(event.key, None)
        else:
            assert event.after is not None
            state[event.key] = event.after
    rows = [_typed(row) for _, row in sorted(state.items())]
    return pa.Table.from_pylist(rows, schema=PRODUCTS.arrow_schema())


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return {
        **row,
        "price": Decimal(row["price"]),
        "cost": Decimal(row["cost"]),
        "created_at": epoch + timedelta(microseconds=row["created_at"]),
        "updated_at": epoch + timedelta(microseconds=row["updated_at"]),
    }


def debezium(event: Event) -> bytes:
    source = {
        "version": "3.6.1.Final",
        "connector": "postgresql",
        "name": "shop",
        "ts_ms": (BASE_US // 1000) + event.lsn,
        "snapshot": "false",
        "db": "shop",
        "schema": "public",
        "table": "products",
        "txId": event.lsn,
        "lsn": event.lsn,
    }
    body = {"before": event.before, "after": event.after, "source": source, "op": event.op, "ts_ms": source["ts_ms"]}
    return json.dumps(body).encode()


def shard_of(key: int, shards: int) -> int:
    return zlib.crc32(f"products:{key}".encode()) % shards  # one key -> one shard, like Kinesis' key hashing


def shard_records(events: list[Event], shards: int, duplicated: set[int]) -> list[list[dict[str, Any]]]:
    """Lambda-shaped Kinesis records per shard, in order. Events whose index is in `duplicated` are put twice
    (a producer retry: the same change under two sequence numbers)."""
    out: list[list[dict[str, Any]]] = [[] for _ in range(shards)]
    arrival = datetime(2026, 11, 27, tzinfo=UTC)
    for index, event in enumerate(events):
        shard = shard_of(event.key, shards)
        for _ in range(2 if index in duplicated else 1):
            sequence = f"{len(out[shard]) + 1:056d}"
            record = {"SequenceNumber": sequence, "PartitionKey": f"products:{event.key}", "Data": debezium(event),
                      "ApproximateArrivalTimestamp": arrival}  # fmt: skip
            shard_id = f"shardId-{shard:012d}"
            role = "arn:aws:iam::123456789012:role/lambda-role"
            lambda_record = kinesis_lambda_record(
                shard_id, record, stream_arn=STREAM_ARN, region="us-east-1", invoke_identity_arn=role
            )
            out[shard].append(lambda_record)
    return out
