"""`lakehouse cdc poll` and `lakehouse silver apply` against a moto server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deltalake import DeltaTable
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.emulator import Emulator

pytestmark = pytest.mark.integration
EVENTS = Path(__file__).parents[2] / "events"


def test_poll_then_apply_from_the_command_line(emulator: Emulator, tmp_path: Path) -> None:
    kinesis = emulator.aws.client("kinesis")
    kinesis.create_stream(StreamName="cdc", ShardCount=1)
    for name in ("debezium_orders_create.json", "debezium_orders_update_wrapped.json"):
        kinesis.put_record(StreamName="cdc", PartitionKey="orders:1", Data=(EVENTS / name).read_bytes())
    lake, quarantine = str(tmp_path / "lake"), str(tmp_path / "quarantine")
    common = ["--lake", lake]
    runner = CliRunner()

    polled = runner.invoke(
        app,
        ["cdc", "poll", "--source", "kinesis", *common, "--quarantine", quarantine,
         "--checkpoints", str(tmp_path / "checkpoints")],
    )  # fmt: skip
    applied = runner.invoke(app, ["silver", "apply", "--table", "orders", *common, "--json"])

    assert polled.exit_code == 0, polled.output
    assert "kinesis: 2 records in 1 invocations" in polled.output
    assert applied.exit_code == 0, applied.output
    report = json.loads(applied.output.strip().splitlines()[-1])
    assert report["table"] == "orders" and report["changes_read"] == 2
    silver = DeltaTable(f"{lake}/silver/orders").to_pyarrow_table()
    assert silver.num_rows == 1


def test_bad_arguments_name_the_fix(emulator: Emulator, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["cdc", "poll", "--source", "sqs", "--lake", "x", "--quarantine", "y"])
    assert result.exit_code != 0 and "--source kinesis" in result.output
    result = runner.invoke(app, ["silver", "apply", "--table", "reviews", "--lake", str(tmp_path)])
    assert result.exit_code != 0 and "not a CDC table" in result.output
