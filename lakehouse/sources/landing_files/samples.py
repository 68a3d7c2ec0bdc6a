"""Small, typed landing files for tests and the load benchmark (the simulator writes the real ones).

Records follow docs/source-formats.md: contract columns, decimals as strings, timestamps as ISO-8601 UTC strings.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

START = datetime(2026, 11, 1, tzinfo=UTC)


def review(review_id: int, **overrides: Any) -> dict[str, Any]:
    created = START + timedelta(minutes=review_id)
    record = {
        "review_id": review_id,
        "order_item_id": 10_000 + review_id,
        "order_id": 5_000 + review_id // 2,
        "product_id": 1 + review_id % 97,
        "customer_id": 1 + review_id % 301,
        "rating": 1 + review_id % 5,
        "title": f"review {review_id}",
        "body": "Arrived on time, does what it says." if review_id % 3 else None,
        "created_at": created.isoformat().replace("+00:00", "Z"),
    }
    record.update(overrides)
    return record


def landing_key(table: str, day: date, part: int = 0) -> str:
    return f"{table}/dt={day.isoformat()}/part-{part:05d}.jsonl.gz"


def encode_jsonl_gz(records: list[dict[str, Any]]) -> bytes:
    return gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode(), compresslevel=1)


def write_landing_file(root: Path, table: str, day: date, records: list[dict[str, Any]], part: int = 0) -> Path:
    path = root / landing_key(table, day, part)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_jsonl_gz(records))
    return path
