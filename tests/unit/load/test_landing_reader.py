"""The landing-file reader: what loads and what goes to the quarantine, and why."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

from lakehouse.contract import get_table
from lakehouse.load.quarantine import Quarantine
from lakehouse.sources.landing_files import LINEAGE_COLUMN, read_records
from lakehouse.sources.landing_files.samples import encode_jsonl_gz, review

REVIEWS = get_table("reviews")


def read(raw: bytes, quarantine: Quarantine) -> list[dict]:
    return list(read_records("s3://landing/reviews/dt=2026-11-01/part-00000.jsonl.gz", raw, REVIEWS, quarantine))


def test_valid_file_loads_every_line_with_its_file(tmp_path: Path) -> None:
    quarantine = Quarantine(str(tmp_path), "b1")
    records = read(encode_jsonl_gz([review(1), review(2)]), quarantine)
    assert [r["review_id"] for r in records] == [1, 2]
    assert records[0][LINEAGE_COLUMN].endswith("part-00000.jsonl.gz")
    assert quarantine.items == []


def test_truncated_gzip_quarantines_the_whole_file(tmp_path: Path) -> None:
    quarantine = Quarantine(str(tmp_path), "b1")
    raw = encode_jsonl_gz([review(i) for i in range(1, 200)])
    truncated = raw[: len(raw) // 2]
    assert read(truncated, quarantine) == []
    (item,) = quarantine.items
    assert item.position is None and item.reason == "unreadable_gzip" and item.detail
    assert item.raw == truncated  # the raw bytes are kept


def test_invalid_lines_are_quarantined_with_line_number_and_reason(tmp_path: Path) -> None:
    lines = [
        json.dumps(review(1)),
        '{"review_id": 2, "rating": ',  # invalid JSON
        "[1, 2]",  # not an object
        json.dumps({**review(3), "review_id": None}),  # no primary key
        "",
        json.dumps(review(4)),
    ]
    quarantine = Quarantine(str(tmp_path), "b1")
    records = read(gzip.compress("\n".join(lines).encode()), quarantine)
    assert [r["review_id"] for r in records] == [1, 4]
    reasons = {item.position: item.reason for item in quarantine.items}
    assert reasons == {"2": "undecodable_json", "3": "not_a_json_object", "4": "missing_primary_key"}
    assert "review_id" in quarantine.items[2].detail
    assert quarantine.items[0].raw == lines[1].encode()


def test_uncompressed_jsonl_is_read_too(tmp_path: Path) -> None:
    quarantine = Quarantine(str(tmp_path), "b1")
    assert len(read((json.dumps(review(7)) + "\n").encode(), quarantine)) == 1


def test_quarantine_flush_writes_one_object_per_table_in_the_agreed_layout(tmp_path: Path) -> None:
    quarantine = Quarantine(str(tmp_path / "q"), "batch-1")
    read(gzip.compress(b"not json\n"), quarantine)
    (written,) = quarantine.flush()
    path = Path(written)
    assert path.relative_to(tmp_path / "q").parts[:2] == ("landing_files", "reviews")
    assert path.parent.name.startswith("dt=") and path.name == "batch-1.jsonl"
    (entry,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert entry["stream"].endswith(".jsonl.gz") and entry["position"] == "1" and entry["batch_id"] == "batch-1"
    assert entry["raw_decoded"] == "not json" and base64.b64decode(entry["raw"]) == b"not json"
    assert quarantine.items == []
