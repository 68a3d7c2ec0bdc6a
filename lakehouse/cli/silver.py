"""`lakehouse silver ...`: fold bronze change logs into silver (current state)."""

from __future__ import annotations

import typer

from lakehouse.settings import LAKE_URI_ENV

app = typer.Typer(help="Silver: apply bronze changes to the current-state tables.", no_args_is_help=True)


@app.command()
def apply(
    table: list[str] = typer.Option([], "--table", help="CDC table(s) to apply (repeatable); default: all of them."),
    lake: str = typer.Option(..., envvar=LAKE_URI_ENV, help="Lake root: a folder or s3://bucket."),
    max_rows: int = typer.Option(1_000_000, min=1, help="Most bronze rows read per merge (bounds memory)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON line per table instead of a table."),
) -> None:
    """Apply every bronze change not yet in silver, table by table. Safe to re-run: a no-op when up to date."""
    import json
    from dataclasses import asdict

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from lakehouse.aws import AwsConfig
    from lakehouse.contract import get_table
    from lakehouse.silver.apply import ApplyPolicy, apply_table
    from lakehouse.silver.service import SilverSettings, tables_of_request

    try:
        names = tables_of_request({"tables": table} if table else {})
    except (KeyError, ValueError) as error:
        raise typer.BadParameter(str(error).strip("'\""), param_hint="--table") from None
    settings = SilverSettings(lake_uri=lake, aws=AwsConfig.from_env())
    policy = ApplyPolicy(max_rows_per_range=max_rows)
    reports = []
    with Progress(transient=True, disable=as_json) as bar:
        task = bar.add_task("silver apply", total=len(names))
        for name in names:
            bar.update(task, description=f"silver apply: {name}")
            reports.append(
                apply_table(get_table(name), lake, storage_options=settings.storage_options(), policy=policy)
            )
            bar.advance(task)
    if as_json:
        for report in reports:
            print(json.dumps(asdict(report), default=str))
        return
    view = Table("table", "bronze versions", "changes", "inserted", "updated", "deleted", "stale", "retries", "s")
    for r in reports:
        versions = "no bronze yet" if r.bronze_version is None else "up to date" if r.noop else ""
        versions = versions or f"{r.applied_from}..{r.applied_to}"
        view.add_row(
            r.table, versions, f"{r.changes_read:,}", f"{r.inserted:,}", f"{r.updated:,}", f"{r.deleted:,}",
            f"{r.stale_dropped:,}", str(r.commit_retries), f"{r.seconds:.2f}",
        )  # fmt: skip
    Console().print(view)
