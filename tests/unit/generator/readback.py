"""Reading the simulator's output back, decoding each wire encoding of docs/source-formats.md independently of
the generator's encoders (so the tests check the documented formats, not the code against itself)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from lakehouse.contract import MONEY, get_table

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def jsonl(folder: Path) -> list[dict]:
    records: list[dict] = []
    for path in sorted(folder.glob("part-*.jsonl")):
        with path.open() as handle:
            records.extend(json.loads(line) for line in handle)
    return records


def landing(root: Path, table: str) -> list[tuple[str, dict]]:
    """(dt, record) in write order: parts are numbered by slice, lines are in emit order within a part."""
    entries = []
    for path in (root / "landing" / table).glob("dt=*/part-*.jsonl.gz"):
        dt = path.parent.name.removeprefix("dt=")
        with gzip.open(path, "rt") as handle:
            for line_no, line in enumerate(handle):
                entries.append((path.name, line_no, dt, json.loads(line)))
    entries.sort(key=lambda e: (e[0], e[2], e[1]))
    return [(dt, record) for _, _, dt, record in entries]


@dataclass
class Snapshot:
    table: str
    rows: list[dict]

    def by_key(self) -> dict[tuple, dict]:
        pk = get_table(self.table).primary_key
        return {tuple(r[c] for c in pk): r for r in self.rows}

    def column(self, name: str) -> list[Any]:
        return [r[name] for r in self.rows]


def snapshot(out: Path, table: str) -> Snapshot:
    return Snapshot(table, pq.read_table(out / "snapshot" / f"{table}.parquet").to_pylist())


def debezium_value(logical: str, value: Any) -> Any:
    if value is None:
        return None
    if logical == MONEY:
        assert isinstance(value, str), f"money must be a string, got {value!r}"
        return Decimal(value)
    if logical == "timestamp":
        assert isinstance(value, int)
        return EPOCH + timedelta(microseconds=value)
    if logical == "date":
        assert isinstance(value, int)
        return date(1970, 1, 1) + timedelta(days=value)
    return value


def text_value(logical: str, value: Any) -> Any:
    """files / API encoding."""
    if value is None:
        return None
    if logical == MONEY:
        assert isinstance(value, str)
        return Decimal(value)
    if logical == "timestamp":
        assert isinstance(value, str) and value.endswith("Z"), value
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    if logical == "date":
        return date.fromisoformat(value)
    return value


def dynamodb_value(logical: str, attribute: dict) -> Any:
    ((tag, value),) = attribute.items()
    if tag == "NULL":
        return None
    if logical in ("string", "timestamp", "date"):
        assert tag == "S", attribute
        return text_value(logical, value)
    if logical == "bool":
        assert tag == "BOOL", attribute
        return value
    assert tag == "N" and isinstance(value, str), attribute
    if logical in ("int32", "int64"):
        return int(value)
    if logical == "float64":
        return float(value)
    return Decimal(value)


def decode_row(table: str, image: dict, decode: Any) -> dict:
    return {c.name: decode(c.type, image.get(c.name)) for c in get_table(table).columns}


def decode_item(table: str, item: dict) -> dict:
    return {c.name: dynamodb_value(c.type, item[c.name]) if c.name in item else None for c in get_table(table).columns}
