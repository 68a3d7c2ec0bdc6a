"""Continuous mode: Ctrl-C in a real subprocess leaves complete, parseable output; live traffic into the emulator
arrives complete; the local output replays into the emulator unchanged."""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from generator.config import SimulationConfig
from generator.sinks import DynamoDBSink, KinesisSink, ensure_resources
from generator.stream import LiveEvent, StreamTargets, run_stream, simulation_events, stream_config
from lakehouse.emulator import Emulator
from tests.integration.sinks.readback import apply_dynamodb_changes, dynamodb_items, kinesis_records, s3_objects

pytestmark = pytest.mark.integration
SUMMARY = re.compile(
    r"emitted ([\d,]+) events .*stopped by (\w[\w ]*)\): ([\d,]+) change events, ([\d,]+) DynamoDB writes, "
    r"([\d,]+) landing records in ([\d,]+) files"
)


def _n(text: str) -> int:
    return int(text.replace(",", ""))


def _jsonl(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(folder.glob("part-*.jsonl")):
        data = path.read_bytes()
        assert not data or data.endswith(b"\n"), f"{path} ends in half a line"
        rows.extend(json.loads(line) for line in data.splitlines())
    return rows


def _landing_records(folder: Path) -> list[dict[str, Any]]:
    paths = sorted(folder.rglob("*.jsonl.gz"))
    return [json.loads(line) for path in paths for line in gzip.decompress(path.read_bytes()).splitlines()]


def test_sigint_finishes_the_batch_writes_buffered_files_and_exits_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "live"
    command = [sys.executable, "-c", "from lakehouse.cli import main; main()", "generate", "stream"]
    # Landing records are flushed only at the stop here: Ctrl-C must still write them.
    args = ["--rate", "3000", "--out", str(out), "--landing-every", "3600"]
    process = subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "200"}
    )
    try:
        deadline = time.monotonic() + 90
        # Past the initial snapshot (customers, products): behaviour and landing records are flowing by then.
        behaviour_file = out / "dynamodb" / "part-00000.jsonl"
        while not (behaviour_file.exists() and behaviour_file.stat().st_size > 1_000_000):
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, "the stream produced nothing within 90s"
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr.decode()
    match = SUMMARY.search(stdout.decode())
    assert match, stdout.decode()
    events, stopped_by, cdc, writes, records, files = match.groups()
    assert stopped_by == "signal"

    changes = _jsonl(out / "cdc")
    behaviour = _jsonl(out / "dynamodb")
    landing = _landing_records(out / "landing")
    assert (len(changes), len(behaviour), len(landing)) == (_n(cdc), _n(writes), _n(records))
    assert len(changes) + len(behaviour) + len(landing) == _n(events) > 0
    assert len(list((out / "landing").rglob("*.jsonl.gz"))) == _n(files) and _n(records) > 0
    assert not list(out.rglob(".tmp-*"))
    lsns = [event["source"]["lsn"] for event in changes]
    assert lsns == sorted(lsns) and len(set(lsns)) == len(lsns)
    assert {w["op"] for w in behaviour} <= {"put", "delete"}
    assert all("pk" in (w.get("item") or w["key"]) for w in behaviour)


def test_live_traffic_reaches_kinesis_dynamodb_and_s3_complete(emulator: Emulator, tmp_path: Path) -> None:
    ensure_resources(emulator.aws, stream="live", shards=2, table="behaviour", buckets=["landing-live"])
    aws = emulator.aws
    from generator.sinks import object_sink

    targets = StreamTargets(
        out_dir=tmp_path,
        kinesis=KinesisSink(aws.client("kinesis"), "live"),
        dynamodb=DynamoDBSink(aws.client("dynamodb"), "behaviour"),
        landing=object_sink("s3://landing-live/landing", aws),
    )
    events = simulation_events(stream_config(SimulationConfig(seed=3, scale=0.005)))
    summary = run_stream(events, targets, rate=3000, stop=threading.Event(), duration_s=1.0, tick_s=0.25)

    assert summary.stopped_by == "duration" and summary.counts.events > 0
    changes = (tmp_path / "cdc" / "part-00000.jsonl").read_bytes().splitlines()
    assert Counter(data for _, data in kinesis_records(aws.client("kinesis"), "live")) == Counter(changes)
    assert len(changes) == summary.counts.cdc
    assert dynamodb_items(aws.client("dynamodb"), "behaviour") == apply_dynamodb_changes(_jsonl(tmp_path / "dynamodb"))
    objects = s3_objects(aws.client("s3"), "landing-live")
    assert len(objects) == summary.counts.landing_files
    assert sum(len(gzip.decompress(body).splitlines()) for body in objects.values()) == summary.counts.landing


def test_run_stream_delivers_everything_when_the_source_ends(tmp_path: Path) -> None:
    events = [LiveEvent("cdc", b'{"n": %d}' % i) for i in range(2_500)]
    summary = run_stream(
        iter(events), StreamTargets(out_dir=tmp_path), rate=1e9, stop=threading.Event(), max_batch=1_000
    )
    assert summary.stopped_by == "source exhausted" and summary.counts.cdc == 2_500
    assert (tmp_path / "cdc" / "part-00000.jsonl").read_bytes().splitlines() == [e.line for e in events]


def test_run_stream_rejects_a_non_positive_rate_and_needs_a_target(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rate must be > 0"):
        run_stream(iter([]), StreamTargets(out_dir=tmp_path), rate=0, stop=threading.Event())
    with pytest.raises(ValueError, match="at least one of --out"):
        StreamTargets()


def test_the_stream_emits_the_same_events_as_generate_run(tmp_path: Path) -> None:
    from generator.run import generate_local

    config = SimulationConfig(seed=11, scale=0.002, days=4)
    generate_local(config, tmp_path / "run")
    streamed: dict[str, list[bytes]] = {"cdc": [], "dynamodb": [], "landing": []}
    for event in simulation_events(config):
        streamed[event.kind].append(event.line)

    for kind in ("cdc", "dynamodb"):
        written = b"".join(p.read_bytes() for p in sorted((tmp_path / "run" / kind).glob("part-*.jsonl")))
        assert streamed[kind] == written.splitlines(), kind
    paths = (tmp_path / "run" / "landing").rglob("*.jsonl.gz")
    landing = [line for path in paths for line in gzip.decompress(path.read_bytes()).splitlines()]
    assert Counter(streamed["landing"]) == Counter(landing) and landing
