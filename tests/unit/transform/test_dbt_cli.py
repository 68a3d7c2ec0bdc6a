"""`lakehouse dbt` / `lakehouse query`: bad arguments name the fix before dbt starts."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from lakehouse.cli import app

runner = CliRunner()


def text(output: str) -> str:
    """The output with rich's box drawing and line wrapping removed."""
    return " ".join(output.replace("│", " ").split())


def test_unknown_target_is_rejected_with_the_choices(tmp_path: Path) -> None:
    (tmp_path / "silver").mkdir()
    result = runner.invoke(app, ["dbt", "build", "--target", "spark", "--lake", str(tmp_path)])
    assert result.exit_code != 0
    assert "use one of: duckdb, athena" in text(result.output)


def test_missing_silver_names_the_fix(tmp_path: Path) -> None:
    result = runner.invoke(app, ["dbt", "build", "--lake", str(tmp_path / "nowhere")])
    assert result.exit_code != 0
    assert "run `lakehouse demo` first" in text(result.output)


def test_query_without_marts_names_the_fix(tmp_path: Path) -> None:
    result = runner.invoke(app, ["query", "select 1", "--duckdb", str(tmp_path / "marts.duckdb")])
    assert result.exit_code != 0
    assert "lakehouse dbt build" in text(result.output)
    assert not (tmp_path / "marts.duckdb").exists()


def test_query_prints_rows_and_reports_sql_errors(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "marts.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts.marts; create table marts.marts.fct_x as select 42 as answer")
    ok = runner.invoke(app, ["query", "select answer from fct_x", "--duckdb", str(path), "--lake", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert "42" in ok.output
    bad = runner.invoke(app, ["query", "select nope from fct_x", "--duckdb", str(path), "--lake", str(tmp_path)])
    assert bad.exit_code == 1
    assert "query failed" in bad.output


def test_sources_check_passes_on_the_committed_files() -> None:
    result = runner.invoke(app, ["dbt", "sources", "--check"])
    assert result.exit_code == 0, result.output
