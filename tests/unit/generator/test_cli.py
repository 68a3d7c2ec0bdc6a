"""`lakehouse generate run`: writes the layout and reports; bad arguments name the fix."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lakehouse.cli import app


def test_generate_run_writes_the_local_layout(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "run", "--out", str(tmp_path), "--scale", "0.002", "--days", "3"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["config"]["days"] == 3 and manifest["orders"] > 0
    assert (tmp_path / "cdc" / "part-00000.jsonl").stat().st_size > 0
    assert (tmp_path / "dynamodb" / "part-00000.jsonl").stat().st_size > 0
    assert list((tmp_path / "landing" / "product_images").glob("dt=*/part-*.jsonl.gz"))
    assert "clickstream_events" in result.output


def test_generate_run_takes_the_slice_size_and_names_its_lower_bound(tmp_path: Path) -> None:
    args = ["generate", "run", "--out", str(tmp_path), "--scale", "0.002", "--days", "2", "--orders-per-slice"]
    assert CliRunner().invoke(app, [*args, "1500"]).exit_code == 0
    assert json.loads((tmp_path / "manifest.json").read_text())["config"]["orders_per_slice"] == 1500
    result = CliRunner().invoke(app, [*args, "10"])
    assert result.exit_code == 2
    assert "orders_per_slice must be >= 1000" in result.output


def test_generate_run_rejects_a_bad_start_date(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "run", "--out", str(tmp_path), "--start-date", "2026-13-01"])
    assert result.exit_code == 2
    assert "--start-date 2026-11-01" in result.output
    assert not (tmp_path / "manifest.json").exists()
