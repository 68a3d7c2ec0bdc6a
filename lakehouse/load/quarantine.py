"""Quarantine for batch loads: bad landing files and bad lines are kept with their file and reason.

Layout (as agreed for every quarantine): `<quarantine-uri>/<source>/<table>/dt=YYYY-MM-DD/<batch_id>.jsonl`,
one JSON object per quarantined item. The landing file itself is never touched, so nothing is lost: a fixed file
re-uploaded under any name is picked up by the next run.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from lakehouse.aws import AwsConfig, is_s3_uri


@dataclass(frozen=True)
class QuarantinedItem:
    source: str  # the dlt source, e.g. landing_files
    table: str
    stream: str  # where it came from: the landing file URL
    position: int | None  # 1-based line number; None when the whole file is quarantined
    reason: str
    payload: str  # the raw line, or the whole raw file base64-encoded
    payload_encoding: str  # utf-8 | base64


class Quarantine:
    """Collects quarantined items during a run (thread-safe: dlt may extract in threads) and writes them once."""

    def __init__(self, uri: str, batch_id: str, aws: AwsConfig | None = None) -> None:
        self.uri = uri.rstrip("/")
        self.batch_id = batch_id
        self.aws = aws or AwsConfig.from_env()
        self._items: list[QuarantinedItem] = []
        self._lock = threading.Lock()

    def add_line(self, *, source: str, table: str, stream: str, line_number: int, raw: bytes, reason: str) -> None:
        self._add(QuarantinedItem(source, table, stream, line_number, reason, *_encode(raw)))

    def add_file(self, *, source: str, table: str, stream: str, raw: bytes, reason: str) -> None:
        payload = base64.b64encode(raw).decode("ascii")
        self._add(QuarantinedItem(source, table, stream, None, reason, payload, "base64"))

    def _add(self, item: QuarantinedItem) -> None:
        with self._lock:
            self._items.append(item)

    @property
    def items(self) -> list[QuarantinedItem]:
        with self._lock:
            return list(self._items)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for item in self.items:
            counts[item.table] += 1
        return dict(counts)

    def flush(self) -> list[str]:
        """Write every collected item, one object per (source, table); returns the written URIs."""
        quarantined_at = datetime.now(UTC)
        groups: dict[tuple[str, str], list[QuarantinedItem]] = defaultdict(list)
        for item in self.items:
            groups[(item.source, item.table)].append(item)
        written = []
        for (source, table), items in groups.items():
            key = f"{source}/{table}/dt={quarantined_at:%Y-%m-%d}/{self.batch_id}.jsonl"
            body = "".join(
                json.dumps({**asdict(i), "batch_id": self.batch_id, "quarantined_at": quarantined_at.isoformat()})
                + "\n"
                for i in items
            ).encode()
            written.append(self._write(key, body))
        with self._lock:
            self._items.clear()
        return written

    def _write(self, key: str, body: bytes) -> str:
        uri = f"{self.uri}/{key}"
        if is_s3_uri(self.uri):
            bucket, _, prefix = self.uri.removeprefix("s3://").partition("/")
            object_key = f"{prefix}/{key}" if prefix else key
            self.aws.client("s3").put_object(Bucket=bucket, Key=object_key, Body=body)
        else:
            path = Path(uri)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
        return uri


def _encode(raw: bytes) -> tuple[str, str]:
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"
