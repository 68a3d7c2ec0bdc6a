"""`lakehouse dbt ...` (build, test, docs, compile, sources) and `lakehouse query "SQL"`: the marts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from lakehouse.transform.runner import DbtProject, DbtRun

app = typer.Typer(
    help="Build and test the marts with dbt (DuckDB locally, Athena in AWS); profiles and paths are set for you.",
    no_args_is_help=True,
)

DEFAULT_LAKE = ".demo/lake"
DEFAULT_DUCKDB = ".demo/marts.duckdb"

TARGET = typer.Option("duckdb", "--target", "-t", help="dbt target: duckdb (local marts file) or athena (AWS).")
LAKE = typer.Option(
    None,
    "--lake",
    help=f"Lake root holding silver/<table> (folder or s3://bucket). Default: $LAKEHOUSE_LAKE_URI or {DEFAULT_LAKE}.",
)
DUCKDB = typer.Option(
    None, "--duckdb", help=f"DuckDB file the marts are written to. Default: $LAKEHOUSE_DUCKDB_PATH or {DEFAULT_DUCKDB}."
)
SELECT = typer.Option(None, "--select", "-s", help="dbt node selection, e.g. 'fct_orders+' or 'tag:finance'.")
VARS = typer.Option(None, "--vars", help="dbt vars as YAML, e.g. '{lookback_days: 7}'.")


def _project(target: str, lake: str | None, duckdb: Path | None) -> DbtProject:
    from lakehouse.aws import is_s3_uri
    from lakehouse.settings import LAKE_URI_ENV
    from lakehouse.transform.runner import DUCKDB_PATH_ENV, TARGETS, DbtProject

    if target not in TARGETS:
        raise typer.BadParameter(f"unknown target {target!r}; use one of: {', '.join(TARGETS)}", param_hint="--target")
    lake_uri = lake or os.environ.get(LAKE_URI_ENV) or DEFAULT_LAKE
    if target == "duckdb" and not is_s3_uri(lake_uri) and not (Path(lake_uri) / "silver").is_dir():
        raise typer.BadParameter(
            f"no silver tables under {lake_uri!r}/silver; run `lakehouse demo` first or pass --lake",
            param_hint="--lake",
        )
    duckdb_path = duckdb or Path(os.environ.get(DUCKDB_PATH_ENV) or DEFAULT_DUCKDB)
    return DbtProject(lake_uri=lake_uri, duckdb_path=duckdb_path, target=target)


def _args(select: str | None, vars_: str | None, *flags: str) -> list[str]:
    args = [*flags]
    if select:
        args += ["--select", select]
    if vars_:
        args += ["--vars", vars_]
    return args


def _finish(run: DbtRun) -> None:
    from rich.console import Console

    console = Console()
    console.print(("[green]" if run.success else "[red]") + run.summary())
    for node in run.failed:
        if node.status != "skipped":
            console.print(f"[red]{node.resource_type} {node.name}: {node.status}[/] {(node.message or '')[:500]}")
    if not run.success:
        raise typer.Exit(1)


@app.command()
def build(
    target: str = TARGET,
    lake: str | None = LAKE,
    duckdb: Path | None = DUCKDB,
    select: str | None = SELECT,
    vars_: str | None = VARS,
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Rebuild incremental facts from scratch."),
    unit_tests: bool = typer.Option(True, "--unit-tests/--no-unit-tests", help="Run the dbt unit tests afterwards."),
) -> None:
    """Snapshots, models and data tests in DAG order (dbt build), then the unit tests."""
    project = _project(target, lake, duckdb)
    flags = ["--full-refresh"] if full_refresh else []
    # Unit tests of incremental models need the model's table to exist, so they run after the build.
    _finish(project.invoke("build", "--exclude-resource-type", "unit_test", *_args(select, vars_, *flags)))
    if unit_tests:
        _finish(project.invoke("test", *_args(select, vars_), "--resource-type", "unit_test"))


@app.command()
def test(
    target: str = TARGET,
    lake: str | None = LAKE,
    duckdb: Path | None = DUCKDB,
    select: str | None = SELECT,
    vars_: str | None = VARS,
) -> None:
    """Data tests and unit tests against the built marts (dbt test)."""
    _finish(_project(target, lake, duckdb).invoke("test", *_args(select, vars_)))


@app.command()
def compile(
    target: str = TARGET,
    lake: str | None = LAKE,
    duckdb: Path | None = DUCKDB,
    select: str | None = SELECT,
    vars_: str | None = VARS,
) -> None:
    """Render the SQL for a target into dbt/target/compiled (Athena needs AWS or an emulator endpoint)."""
    _finish(_project(target, lake, duckdb).invoke("compile", *_args(select, vars_)))


@app.command()
def docs(
    target: str = TARGET,
    lake: str | None = LAKE,
    duckdb: Path | None = DUCKDB,
) -> None:
    """Generate the documentation site (dbt docs generate) into dbt/target; serve it with any static server."""
    project = _project(target, lake, duckdb)
    run = project.invoke("docs", "generate")
    _finish(run)
    typer.echo(f"docs: {project.target_path / 'index.html'}")


@app.command()
def sources(
    check: bool = typer.Option(False, "--check", help="Only check that the committed files match the contract."),
) -> None:
    """Write dbt/models/staging/<source>/_<source>__sources.yml from lakehouse/contract.py."""
    from lakehouse.transform.runner import DBT_PROJECT_DIR
    from lakehouse.transform.sources import stale_sources, write_sources

    if check:
        stale = stale_sources(DBT_PROJECT_DIR)
        for path in stale:
            typer.echo(f"out of date: {path} (run `lakehouse dbt sources`)", err=True)
        raise typer.Exit(1 if stale else 0)
    for path in write_sources(DBT_PROJECT_DIR):
        typer.echo(f"wrote {path}")


def query(
    sql: str = typer.Argument(..., help="SQL to run against the marts, e.g. 'select * from fct_monthly_revenue'."),
    lake: str | None = LAKE,
    duckdb: Path | None = DUCKDB,
    limit: int = typer.Option(50, min=1, help="Print at most this many rows."),
) -> None:
    """Query the marts DuckDB file (schema `marts` is on the search path; staging views read silver live)."""
    from rich.console import Console
    from rich.table import Table

    from lakehouse.settings import LAKE_URI_ENV
    from lakehouse.transform.runner import DUCKDB_PATH_ENV, DbtProject

    duckdb_path = duckdb or Path(os.environ.get(DUCKDB_PATH_ENV) or DEFAULT_DUCKDB)
    if not duckdb_path.exists():
        raise typer.BadParameter(
            f"{duckdb_path} does not exist; build the marts first (`lakehouse dbt build` or `lakehouse demo`)",
            param_hint="--duckdb",
        )
    project = DbtProject(lake_uri=lake or os.environ.get(LAKE_URI_ENV) or DEFAULT_LAKE, duckdb_path=duckdb_path)
    import duckdb as duckdb_module

    with project.connect(read_only=True) as con:
        try:
            relation = con.sql(sql)
        except duckdb_module.Error as error:
            typer.echo(f"query failed: {error}", err=True)
            raise typer.Exit(1) from None
        if relation is None:  # a statement without a result
            return
        table = Table(*relation.columns)
        rows = relation.fetchmany(limit + 1)
        for row in rows[:limit]:
            table.add_row(*("" if value is None else str(value) for value in row))
        console = Console()
        console.print(table)
        if len(rows) > limit:
            console.print(f"[dim]first {limit} rows shown (--limit)")
