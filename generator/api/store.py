"""In-memory entity store with keyset pagination: rows ordered by (updated_at, primary key).

Keyset (not offset) pagination is what makes the cursor survive concurrent writes: a cursor names the last row
a client saw, new and updated rows get an `updated_at` later than every existing row, so they sort after it.
A client that pages to the end sees every row at least once and never misses one.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PrimaryKey = tuple[Any, ...]
SortKey = tuple[int, PrimaryKey]  # (updated_at in microseconds since epoch, primary key values)


class CursorError(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    """The position after the last row of a page. Encoded as URL-safe base64 JSON: opaque to clients."""

    entity: str
    updated_us: int
    key: PrimaryKey

    def encode(self) -> str:
        raw = json.dumps({"e": self.entity, "u": self.updated_us, "k": list(self.key)}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, entity: str) -> Cursor:
        try:
            raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            cursor = cls(entity=raw["e"], updated_us=int(raw["u"]), key=tuple(raw["k"]))
        except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise CursorError(
                f"cursor {token[:40]!r} is not a cursor this API issued; pass the `next_cursor` of the previous "
                "page unchanged, or leave cursor out to start from the first page"
            ) from None
        if cursor.entity != entity:
            raise CursorError(
                f"this cursor belongs to /api/{cursor.entity}, not /api/{entity}; "
                "leave cursor out to start from the first page of this entity"
            )
        return cursor


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


class EntityStore:
    """Rows of one entity (already in the API's JSON encoding), kept sorted by (updated_at, primary key)."""

    def __init__(self, entity: str, primary_key: tuple[str, ...]) -> None:
        self.entity = entity
        self.primary_key = primary_key
        self._order: list[SortKey] = []
        self._rows: dict[PrimaryKey, tuple[int, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def max_updated_us(self) -> int | None:
        with self._lock:
            return self._order[-1][0] if self._order else None

    def max_key(self) -> PrimaryKey | None:
        with self._lock:
            return max(self._rows) if self._rows else None

    def upsert(self, row: dict[str, Any], updated_us: int) -> None:
        key = tuple(row[column] for column in self.primary_key)
        with self._lock:
            previous = self._rows.get(key)
            if previous is not None:
                del self._order[bisect.bisect_left(self._order, (previous[0], key))]
            bisect.insort(self._order, (updated_us, key))
            self._rows[key] = (updated_us, row)

    def page(self, *, limit: int, updated_since_us: int | None = None, cursor: Cursor | None = None) -> Page:
        """Up to `limit` rows with updated_at >= updated_since (inclusive: rows sharing the boundary timestamp
        are not lost) after the cursor, and the cursor of the next page (None on the last page)."""
        with self._lock:
            start = 0
            if updated_since_us is not None:
                start = bisect.bisect_left(self._order, (updated_since_us,))
            if cursor is not None:
                if len(cursor.key) != len(self.primary_key):
                    raise CursorError(f"cursor does not fit /api/{self.entity}; leave cursor out to start again")
                try:
                    start = max(start, bisect.bisect_right(self._order, (cursor.updated_us, cursor.key)))
                except TypeError:  # a key of the wrong type (an edited cursor)
                    raise CursorError(
                        f"cursor does not fit /api/{self.entity}; leave cursor out to start again"
                    ) from None
            window = self._order[start : start + limit + 1]
            items = [self._rows[key][1] for _, key in window[:limit]]
        next_cursor = None
        if len(window) > limit:
            last_updated_us, last_key = window[limit - 1]
            next_cursor = Cursor(self.entity, last_updated_us, last_key).encode()
        return Page(items=items, next_cursor=next_cursor)
