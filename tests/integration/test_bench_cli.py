"""Every benchmark command runs at a tiny size and prints one JSON line with its headline figures.
(Figures are measured by `make bench`, not asserted here: this only keeps the commands from rotting.)"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lakehouse.cli import app

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("args", "keys"),
    [
        (
            ["generator", "--scale", "0.001", "--days", "3", "--files-days", "1"],
            {"rows_per_s", "seconds", "rows", "peak_rss_mb", "faker_row_by_row_rows_per_s"},
        ),
        (
            ["cdc", "--changes", "2000", "--rows", "2000", "--no-s3"],
            {"bronze_local_events_per_s", "commits_per_batch", "silver_changes_per_s", "peak_rss_mb"},
        ),
        (["sinks", "--scale", "0.0005", "--days", "2"], {"kinesis_records_per_s", "dynamodb_writes_per_s"}),
    ],
    ids=["generator", "cdc", "sinks"],
)
def test_benchmark_prints_one_json_line(args: list[str], keys: set[str]) -> None:
    result = CliRunner().invoke(app, ["bench", *args, "--json"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON line, got: {result.output[:500]}"
    figures = json.loads(lines[0])
    assert keys <= set(figures), f"missing {keys - set(figures)}"
    assert all(figures[k] > 0 for k in keys if isinstance(figures[k], (int, float)))
