"""S3Sink and FolderSink: same keys, same bytes; S3 503s (injected at the HTTP layer) are retried by botocore."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from generator.sinks import FolderSink, S3Sink, ensure_resources, object_sink
from lakehouse.emulator import Emulator
from tests.integration.sinks.faults import fail_http_sends
from tests.integration.sinks.readback import s3_objects

pytestmark = pytest.mark.integration
BUCKET = "landing-test"


def _files() -> dict[str, bytes]:
    return {
        f"{table}/dt=2026-11-{day:02d}/part-00000.jsonl.gz": gzip.compress(f'{{"{table}_id": {day}}}\n'.encode() * day)
        for table in ("reviews", "support_tickets")
        for day in (1, 2, 27)
    }


def test_s3_sink_stores_every_file_under_the_prefix_despite_503s(emulator: Emulator, tmp_path: Path) -> None:
    ensure_resources(emulator.aws, stream=None, table=None, buckets=[BUCKET])
    sink = object_sink(f"s3://{BUCKET}/landing/", emulator.aws)
    assert isinstance(sink, S3Sink)
    sends = fail_http_sends(sink.client, "s3.PutObject", lambda _request, nth: nth == 0)  # first send of each key
    files = _files()
    for i, (key, body) in enumerate(files.items()):
        if i % 2:
            sink.put(key, body)
        else:
            (tmp_path / "f").write_bytes(body)
            assert sink.put_file(key, tmp_path / "f") == f"s3://{BUCKET}/landing/{key}"

    assert s3_objects(sink.client, BUCKET) == {f"landing/{key}": body for key, body in files.items()}
    assert sends["injected"] == len(files)


def test_folder_sink_writes_the_same_layout_atomically(tmp_path: Path) -> None:
    sink = object_sink(str(tmp_path / "landing"))
    assert isinstance(sink, FolderSink)
    files = _files()
    for key, body in files.items():
        sink.put(key, body)
    sink.put_file("copy/part-00000.jsonl.gz", tmp_path / "landing" / next(iter(files)))

    written = {
        p.relative_to(tmp_path / "landing").as_posix(): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()
    }
    assert written == {**files, "copy/part-00000.jsonl.gz": next(iter(files.values()))}  # no temporary files left


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a"])
def test_keys_must_be_plain_relative_paths(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="relative path"):
        FolderSink(tmp_path).put(key, b"x")


def test_ensure_resources_is_idempotent(emulator: Emulator) -> None:
    first = ensure_resources(emulator.aws, stream="s", shards=2, table="t", buckets=["bucket-one", "bucket-two"])
    again = ensure_resources(emulator.aws, stream="s", shards=2, table="t", buckets=["bucket-one", "bucket-two"])
    assert len(first.created) == 4 and again.created == []
    assert first.stream_arn == again.stream_arn and first.table_stream_arn == again.table_stream_arn
    table = emulator.aws.client("dynamodb").describe_table(TableName="t")["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {"pk": "S", "sk": "S"}
    shards = emulator.aws.client("kinesis").list_shards(StreamName="s")["Shards"]
    assert len(shards) == 2
