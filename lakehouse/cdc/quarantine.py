"""The quarantine: bad records kept whole, with the reason, where a human can look at them and replay them.

Objects: `<quarantine-uri>/<source>/<table or unknown>/dt=YYYY-MM-DD/<batch_id>.jsonl`, one JSON line per record
(raw payload, reason, detail, stream, shard, record id, position). The same code writes a local folder or S3,
chosen by the URI. The object name is the batch id, which is derived from the batch's records: a redelivered
identical batch overwrites its own object instead of adding a copy; an overlapping batch after a partial retry may
quarantine a record again (each line carries stream + record id to deduplicate on replay).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import os
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson

from lakehouse.aws import AwsConfig, is_s3_uri

UNKNOWN_TABLE = "unknown"


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    source: str  # "kinesis" | "dynamodb"
    table: str | None
    reason: str
    detail: str
    stream: str
    shard: str | None
    record_id: str
    position: str | None
    raw: Any  # the record as delivered: Kinesis data (base64 text) or the DynamoDB record dict

    def to_json(self, batch_id: str, quarantined_at: str) -> bytes:
        raw_text = _raw_text(self.raw)
        return orjson.dumps(
            {
                "reason": self.reason,
                "detail": self.detail,
                "source": self.source,
                "table": self.table,
                "stream": self.stream,
                "shard": self.shard,
                "record_id": self.record_id,
                "position": self.position,
                "batch_id": batch_id,
                "quarantined_at": quarantined_at,
                **raw_text,
            },
            default=str,
        )


def _raw_text(raw: Any) -> dict[str, Any]:
    """The record exactly as delivered (`raw`), plus its decoded text where base64 data decodes to UTF-8."""
    if isinstance(raw, bytes):
        raw = base64.b64encode(raw).decode()
    fields: dict[str, Any] = {"raw": raw}
    if isinstance(raw, str):
        with contextlib.suppress(ValueError):  # binascii.Error and UnicodeDecodeError are ValueErrors
            fields["raw_decoded"] = base64.b64decode(raw, validate=True).decode("utf-8")
    return fields


class QuarantineWriter:
    def __init__(self, uri: str, aws: AwsConfig | None = None) -> None:
        self.uri = uri.rstrip("/")
        self.aws = aws or AwsConfig.from_env()

    @cached_property
    def _s3(self) -> Any:
        return self.aws.client("s3")  # created on first bad record, never at import

    def write(self, entries: Sequence[QuarantineEntry], *, batch_id: str, now: dt.datetime | None = None) -> list[str]:
        """Write the entries, one object per (source, table); return the URIs written."""
        if not entries:
            return []
        now = now or dt.datetime.now(dt.UTC)
        stamp = now.isoformat()
        groups: dict[tuple[str, str], list[bytes]] = defaultdict(list)
        for entry in entries:
            groups[(entry.source, entry.table or UNKNOWN_TABLE)].append(entry.to_json(batch_id, stamp))
        written = []
        for (source, table), lines in groups.items():
            relative = f"{source}/{table}/dt={now.date().isoformat()}/{batch_id}.jsonl"
            body = b"\n".join(lines) + b"\n"
            written.append(self._put(relative, body))
        return written

    def _put(self, relative: str, body: bytes) -> str:
        target = f"{self.uri}/{relative}"
        if is_s3_uri(self.uri):
            bucket, _, prefix = self.uri.removeprefix("s3://").partition("/")
            key = f"{prefix}/{relative}" if prefix else relative
            self._s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-ndjson")
            return target
        path = Path(self.uri.removeprefix("file://")) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # atomic: readers never see half a file
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        os.replace(tmp, path)
        return str(path)
