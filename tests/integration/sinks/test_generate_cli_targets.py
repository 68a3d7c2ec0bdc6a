"""`lakehouse generate run ... --kinesis-stream --dynamodb-table --landing` and `generate replay`: a real run's
output arrives in the emulator complete (counts from the run's manifest), and a second replay only re-sends."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.emulator import Emulator
from tests.integration.sinks.readback import apply_dynamodb_changes, dynamodb_items, kinesis_records, s3_objects

pytestmark = pytest.mark.integration


def test_generate_run_pushes_its_output_into_the_emulator(emulator: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "run"
    targets = ["--kinesis-stream", "cdc", "--dynamodb-table", "user-behaviour", "--landing", "s3://landing/landing"]
    args = ["generate", "run", "--out", str(out), "--scale", "0.002", "--days", "4", "--seed", "11"]
    result = CliRunner().invoke(app, [*args, *targets, "--endpoint-url", emulator.endpoint_url, "--create-resources"])
    assert result.exit_code == 0, result.output

    manifest = json.loads((out / "manifest.json").read_text())["events"]
    cdc_total = sum(sum(ops.values()) for ops in manifest["cdc"].values())
    stored = kinesis_records(emulator.aws.client("kinesis"), "cdc")
    assert len(stored) == cdc_total
    lines = b"".join(p.read_bytes() for p in sorted((out / "cdc").glob("part-*.jsonl"))).splitlines()
    assert Counter(data for _, data in stored) == Counter(lines)
    per_table = Counter(json.loads(data)["source"]["table"] for _, data in stored)
    assert per_table == {table: sum(ops.values()) for table, ops in manifest["cdc"].items()}
    items = dynamodb_items(emulator.aws.client("dynamodb"), "user-behaviour")
    changes = [json.loads(line) for p in sorted((out / "dynamodb").glob("part-*.jsonl")) for line in p.open("rb")]
    assert len(changes) == sum(manifest["dynamodb"].values())
    assert items == apply_dynamodb_changes(changes) and items
    objects = s3_objects(emulator.aws.client("s3"), "landing")
    local = {p.relative_to(out / "landing").as_posix(): p.read_bytes() for p in (out / "landing").rglob("*.jsonl.gz")}
    assert objects == {f"landing/{key}": body for key, body in local.items()} and objects
    assert f"{cdc_total:,} change events" in result.output

    first = json.loads(lines[0])
    keys = {data: key for key, data in stored}
    assert keys[lines[0]] == f"customers:{first['after']['customer_id']}"  # partition key table:pk

    # A second push re-sends (at least once): Kinesis holds every event twice, DynamoDB and S3 end the same.
    # A poison line travels on with its own partition key (the consumers quarantine it).
    with sorted((out / "cdc").glob("part-*.jsonl"))[-1].open("ab") as handle:
        handle.write(b"this is not json\n")
    again = CliRunner().invoke(app, ["generate", "replay", str(out), *targets, "--endpoint-url", emulator.endpoint_url])
    assert again.exit_code == 0, again.output
    stored = kinesis_records(emulator.aws.client("kinesis"), "cdc")
    assert Counter(data for _, data in stored) == Counter([*lines, *lines, b"this is not json"])
    poison_keys = {key for key, data in stored if data == b"this is not json"}
    assert poison_keys == {f"unparseable:part-00000.jsonl:{len(lines) + 1}"}
    assert dynamodb_items(emulator.aws.client("dynamodb"), "user-behaviour") == items
    assert s3_objects(emulator.aws.client("s3"), "landing") == objects


def test_replay_of_a_missing_folder_names_the_fix(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "replay", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "lakehouse generate run --out DIR" in result.output


def test_stream_without_a_target_names_the_options() -> None:
    result = CliRunner().invoke(app, ["generate", "stream", "--duration", "1"])
    assert result.exit_code == 2 and "--kinesis-stream" in result.output
