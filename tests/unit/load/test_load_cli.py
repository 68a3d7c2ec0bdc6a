from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.sources.landing_files.samples import review, write_landing_file


def test_load_files_prints_the_report_as_json(tmp_path: Path) -> None:
    write_landing_file(tmp_path / "landing", "support_tickets", date(2026, 11, 1), [])
    write_landing_file(tmp_path / "landing", "reviews", date(2026, 11, 1), [review(1), review(2), review(3)])
    args = ["load", "files", "--landing", str(tmp_path / "landing"), "--lake", str(tmp_path / "lake")]
    result = CliRunner().invoke(app, [*args, "--quarantine", str(tmp_path / "q"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["rows"] == {"reviews": 3} and report["loaded"] == 3
    # support_tickets' only file is empty and product_images has none: both are created empty, in a step of its own
    assert set(report["created_empty"]) == {"support_tickets", "product_images"}
    assert set(report["seconds"]) == {"restore", "extract", "normalize", "load", "create_empty"}


def test_unknown_table_names_the_valid_ones(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["load", "files", "--landing", str(tmp_path), "--table", "orders"])
    assert result.exit_code == 2
    assert "reviews" in result.output and "orders" in result.output


def test_missing_lake_names_the_option_and_the_variable(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("LAKEHOUSE_LAKE_URI", raising=False)
    result = CliRunner().invoke(app, ["load", "files", "--landing", str(tmp_path), "--quarantine", str(tmp_path)])
    assert result.exit_code == 2
    assert "--lake" in result.output and "LAKEHOUSE_LAKE_URI" in result.output
