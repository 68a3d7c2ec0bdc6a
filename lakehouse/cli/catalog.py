"""`lakehouse catalog ...`: the Glue Data Catalog over the lake's Delta tables."""

from __future__ import annotations

import json
import os

import typer

from lakehouse.settings import LAKE_URI_ENV, LAYERS

app = typer.Typer(help="Register the lake's Delta tables in the Glue Data Catalog.", no_args_is_help=True)


@app.command()
def sync(
    lake: str = typer.Option(None, "--lake", help=f"Lake root: a folder or s3://bucket. Default: ${LAKE_URI_ENV}."),
    layer: list[str] = typer.Option(
        None, "--layer", help=f"Layer to register (repeatable): {', '.join(LAYERS)}. Default: all."
    ),
    database_prefix: str = typer.Option("lakehouse", help="Glue databases are named <prefix>_<layer>."),
    endpoint_url: str = typer.Option(
        None, "--endpoint-url", help="AWS endpoint (an emulator). Default: $AWS_ENDPOINT_URL, else AWS."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print created/updated/unchanged tables as one JSON line."),
) -> None:
    """Create or update a Glue table (Athena-native Delta) for every bronze and silver Delta table; idempotent."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from lakehouse.aws import AwsConfig
    from lakehouse.catalog.glue import sync_catalog

    lake_uri = lake or os.environ.get(LAKE_URI_ENV)
    if not lake_uri:
        raise typer.BadParameter(f"pass --lake or set ${LAKE_URI_ENV}", param_hint="--lake")
    unknown = sorted(set(layer or []) - set(LAYERS))
    if unknown:
        raise typer.BadParameter(f"{', '.join(unknown)}; use {', '.join(LAYERS)}", param_hint="--layer")
    aws = AwsConfig.from_env()
    if endpoint_url:
        aws = AwsConfig(endpoint_url=endpoint_url, region=aws.region)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), disable=as_json, transient=True) as progress:
        task = progress.add_task("listing Delta tables", total=None)
        result = sync_catalog(
            lake_uri,
            aws,
            layers=tuple(layer) if layer else LAYERS,
            database_prefix=database_prefix,
            on_table=lambda name: progress.update(task, description=f"registered {name}"),
        )
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    console = Console()
    for status, names in result.as_dict().items():
        console.print(f"{status}: {', '.join(names) if names else '-'}")
