"""Fixtures for the CDC tests: real-shaped events from tests/events/ and a Lambda context object."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lakehouse.bench.cdc_bronze import CONSUMER_ROLE_ARN, STREAM_ARN
from lakehouse.runtime.sources import kinesis_lambda_record

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def kinesis_record(payload: bytes, sequence: int, *, shard: str = "shardId-000000000000", key: str = "k") -> dict:
    """One record of a Lambda Kinesis event, shaped as AWS delivers it."""
    record = {
        "SequenceNumber": f"{sequence:056d}",
        "PartitionKey": key,
        "Data": payload,
        "ApproximateArrivalTimestamp": 1764237600.5,
    }
    return kinesis_lambda_record(
        shard, record, stream_arn=STREAM_ARN, region="us-east-1", invoke_identity_arn=CONSUMER_ROLE_ARN
    )


def kinesis_records(payloads: list[bytes | str | None]) -> list[dict[str, Any]]:
    """Records for fuzzed payloads: bytes as data, a string as raw (non-base64) data, None as an empty record."""
    records = []
    for index, payload in enumerate(payloads):
        record = kinesis_record(payload if isinstance(payload, bytes) else b"", 10**20 + index)
        if payload is None or isinstance(payload, str):
            record["kinesis"]["data"] = "" if payload is None else payload
        records.append(record)
    return records


@dataclass
class LambdaContext:
    function_name: str = "cdc-consumer"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:cdc-consumer"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "6f1d3c9e-0000-4000-8000-000000000001"
    log_group_name: str = "/aws/lambda/cdc-consumer"
    log_stream_name: str = "2026/11/27/[$LATEST]0000"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def cdc_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A local lake and quarantine folder, set in the environment the handlers read."""
    lake, quarantine = tmp_path / "lake", tmp_path / "quarantine"
    monkeypatch.setenv("LAKEHOUSE_LAKE_URI", str(lake))
    monkeypatch.setenv("LAKEHOUSE_QUARANTINE_URI", str(quarantine))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    return lake, quarantine
