"""Fixtures for the CDC tests: real-shaped events from tests/events/ and a Lambda context object."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def kinesis_record(payload: bytes, sequence: int, *, shard: str = "shardId-000000000000", key: str = "k") -> dict:
    """One record of a Lambda Kinesis event, shaped as AWS delivers it."""
    sequence_number = f"{sequence:056d}"
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": key,
            "sequenceNumber": sequence_number,
            "data": base64.b64encode(payload).decode(),
            "approximateArrivalTimestamp": 1764237600.5,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard}:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/cdc-kinesis-consumer",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/cdc",
    }


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
