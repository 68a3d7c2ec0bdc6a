"""`lakehouse load ...`: batch loads with dlt (landing files, the shop API) into <lake>/silver as Delta tables."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from lakehouse.aws import is_s3_uri
from lakehouse.settings import API_URL_ENV, LAKE_URI_ENV, LANDING_URI_ENV, QUARANTINE_URI_ENV

if TYPE_CHECKING:
    from lakehouse.load.pipeline import LoadTarget
    from lakehouse.load.report import LoadReport

app = typer.Typer(help="Batch loads with dlt into the lake's silver layer (Delta, merge on key).", no_args_is_help=True)

LAKE_OPTION = typer.Option(
    None, "--lake", help=f"Lake root: a folder or s3://bucket[/prefix]. Default: ${LAKE_URI_ENV}."
)
QUARANTINE_OPTION = typer.Option(
    None, "--quarantine", help=f"Quarantine root for bad input. Default: ${QUARANTINE_URI_ENV}."
)
ENDPOINT_OPTION = typer.Option(
    None, "--endpoint-url", help="AWS endpoint (an emulator or LocalStack). Default: $AWS_ENDPOINT_URL, else AWS."
)
JSON_OPTION = typer.Option(False, "--json", help="Print the run report as one JSON line instead of a summary.")


def _required(value: str | None, env: str, option: str) -> str:
    value = value or os.environ.get(env)
    if not value:
        raise typer.BadParameter(f"pass {option} or set ${env}", param_hint=option)
    return value


def _check_names(given: list[str] | None, allowed: list[str], option: str) -> None:
    unknown = sorted(set(given or []) - set(allowed))
    if unknown:
        raise typer.BadParameter(f"unknown {', '.join(unknown)}; use one of {', '.join(allowed)}", param_hint=option)


def _target(lake: str | None, quarantine: str | None, endpoint_url: str | None) -> LoadTarget:
    from lakehouse.aws import AwsConfig
    from lakehouse.load.pipeline import LoadTarget

    aws = AwsConfig.from_env()
    if endpoint_url:
        aws = AwsConfig(endpoint_url=endpoint_url, region=aws.region)
    return LoadTarget(
        lake_uri=_required(lake, LAKE_URI_ENV, "--lake"),
        quarantine_uri=_required(quarantine, QUARANTINE_URI_ENV, "--quarantine"),
        aws=aws,
    )


def _print(report: LoadReport, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{report.pipeline} -> {report.destination}")
    for column in ("table", "rows loaded", "files read", "quarantined"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for name in sorted(set(report.rows) | set(report.files) | set(report.quarantined)):
        table.add_row(
            name, str(report.rows.get(name, 0)), str(report.files.get(name, "")), str(report.quarantined.get(name, 0))
        )
    console = Console()
    console.print(table)
    console.print(report.summary())
    console.print("step seconds: " + ", ".join(f"{k}={v:.2f}" for k, v in report.seconds.items()))


@app.command()
def files(
    landing: str = typer.Option(
        None, "--landing", help=f"Landing root (folder or s3://bucket/landing). Default: ${LANDING_URI_ENV}."
    ),
    table: list[str] = typer.Option(
        None, "--table", help="Landing table to load (repeatable). Default: every landing-file table of the contract."
    ),
    lake: str = LAKE_OPTION,
    quarantine: str = QUARANTINE_OPTION,
    endpoint_url: str = ENDPOINT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Load new gzipped JSONL landing files (<landing>/<table>/dt=YYYY-MM-DD/*.jsonl.gz) into silver."""
    from lakehouse.load.pipeline import load_files
    from lakehouse.sources.landing_files import landing_tables

    _check_names(table, landing_tables(), "--table")
    landing_uri = _required(landing, LANDING_URI_ENV, "--landing")
    if not is_s3_uri(landing_uri) and not Path(landing_uri).is_dir():
        raise typer.BadParameter(f"{landing_uri} is not a folder; pass the landing root", param_hint="--landing")
    target = _target(lake, quarantine, endpoint_url)
    with _progress(as_json) as progress, _step_errors():
        report = load_files(landing_uri, target, tables=table or None, on_step=progress.step, on_file=progress.file)
    _print(report, as_json)


@app.command()
def api(
    api_url: str = typer.Option(None, "--api-url", help=f"Base URL of the shop's REST API. Default: ${API_URL_ENV}."),
    entity: list[str] = typer.Option(
        None, "--entity", help="API entity to pull (repeatable). Default: every API table of the contract."
    ),
    page_size: int = typer.Option(500, min=1, max=10_000, help="Records per page (the API's `limit`)."),
    lake: str = LAKE_OPTION,
    quarantine: str = QUARANTINE_OPTION,
    endpoint_url: str = ENDPOINT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Pull records updated since the last run from the shop's REST API into silver."""
    from lakehouse.load.pipeline import load_api
    from lakehouse.sources.shop_api import api_entities

    _check_names(entity, api_entities(), "--entity")
    url = _required(api_url, API_URL_ENV, "--api-url")
    target = _target(lake, quarantine, endpoint_url)
    with _progress(as_json) as progress, _step_errors():
        report = load_api(url, target, entities=entity or None, on_step=progress.step, page_size=page_size)
    _print(report, as_json)


@contextmanager
def _step_errors() -> Iterator[None]:
    """A failed dlt step as one clear line (the step, the cause) and exit code 1; the run is safe to repeat."""
    from dlt.pipeline.exceptions import PipelineStepFailed

    try:
        yield
    except PipelineStepFailed as exc:
        cause = exc.__cause__ or exc.exception
        typer.echo(f"error: dlt step {exc.step} failed: {type(cause).__name__}: {cause}", err=True)
        typer.echo("nothing was committed for this run; fix the cause and run the command again", err=True)
        raise typer.Exit(1) from None


class _StepProgress:
    """A rich progress line: the dlt step running and the landing files read so far."""

    def __init__(self, enabled: bool) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), disable=not enabled, transient=True
        )
        self._task = self._progress.add_task("starting", total=None)
        self._files = 0
        self._step = "starting"

    def __enter__(self) -> _StepProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def step(self, name: str) -> None:
        self._step = name
        self._update()

    def file(self, table: str, file_url: str) -> None:
        self._files += 1
        self._update()

    def _update(self) -> None:
        files = f" ({self._files} files read)" if self._files else ""
        self._progress.update(self._task, description=f"{self._step}{files}")


def _progress(as_json: bool) -> _StepProgress:
    return _StepProgress(enabled=not as_json)
