"""Quarantine for batch loads: bad landing files and bad lines are kept with their file and reason.

Written by the lake's one quarantine writer (`lakehouse.cdc.quarantine.QuarantineWriter`), so batch and CDC
quarantines share a layout and a line format: `<quarantine-uri>/landing_files/<table>/dt=YYYY-MM-DD/<batch_id>.jsonl`
with reason, detail, source, table, stream (the landing file URL), position (the line number, null for a whole
file), record_id, raw (base64) and raw_decoded (the text, when it is UTF-8). The landing file itself is never
touched: a fixed file uploaded again is read by the next run.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from lakehouse.aws import AwsConfig
from lakehouse.cdc.quarantine import QuarantineEntry, QuarantineWriter

# reasons (the CDC quarantine uses the same snake_case vocabulary)
UNREADABLE_GZIP = "unreadable_gzip"
UNDECODABLE_JSON = "undecodable_json"
NOT_AN_OBJECT = "not_a_json_object"
MISSING_PRIMARY_KEY = "missing_primary_key"


class Quarantine:
    """Collects quarantined items during a run (thread-safe: dlt may extract in threads) and writes them once."""

    def __init__(self, uri: str, batch_id: str, aws: AwsConfig | None = None) -> None:
        self.batch_id = batch_id
        self._writer = QuarantineWriter(uri, aws)
        self._items: list[QuarantineEntry] = []
        self._lock = threading.Lock()

    def add_line(
        self, *, source: str, table: str, stream: str, line_number: int, raw: bytes, reason: str, detail: str
    ) -> None:
        self._add(
            QuarantineEntry(
                source, table, reason, detail, stream, None, f"{stream}:{line_number}", str(line_number), raw
            )
        )

    def add_file(self, *, source: str, table: str, stream: str, raw: bytes, reason: str, detail: str) -> None:
        self._add(QuarantineEntry(source, table, reason, detail, stream, None, stream, None, raw))

    def _add(self, item: QuarantineEntry) -> None:
        with self._lock:
            self._items.append(item)

    @property
    def items(self) -> list[QuarantineEntry]:
        with self._lock:
            return list(self._items)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for item in self.items:
            counts[item.table or "unknown"] += 1
        return dict(counts)

    def flush(self) -> list[str]:
        """Write every collected item, one object per (source, table); returns the written URIs."""
        with self._lock:
            items, self._items = self._items, []
        return self._writer.write(items, batch_id=self.batch_id)
