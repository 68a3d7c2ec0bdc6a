"""`lakehouse cdc ...`: run the CDC consumers locally (the event source poller feeding the real handlers)."""

from __future__ import annotations

from pathlib import Path

import typer

from lakehouse.settings import DEFAULT_DYNAMODB_TABLE, DEFAULT_KINESIS_STREAM, LAKE_URI_ENV, QUARANTINE_URI_ENV

app = typer.Typer(help="CDC consumers: poll Kinesis / DynamoDB Streams into bronze locally.", no_args_is_help=True)


@app.command()
def poll(
    source: list[str] = typer.Option(
        ["kinesis", "dynamodb"], "--source", help="Event source(s) to poll: kinesis, dynamodb (repeatable)."
    ),
    lake: str = typer.Option(..., envvar=LAKE_URI_ENV, help="Lake root: a folder or s3://bucket."),
    quarantine: str = typer.Option(
        ..., envvar=QUARANTINE_URI_ENV, help="Quarantine root: a folder or s3://bucket/prefix."
    ),
    checkpoints: Path = typer.Option(Path(".lakehouse/checkpoints"), help="Folder of the poller's JSON checkpoints."),
    stream: str = typer.Option(DEFAULT_KINESIS_STREAM, help="Kinesis stream name."),
    table: str = typer.Option(DEFAULT_DYNAMODB_TABLE, help="DynamoDB table whose stream is polled."),
    batch_size: int = typer.Option(1000, min=1, max=10_000, help="Records per invocation (Lambda BatchSize)."),
    window: float = typer.Option(
        0.0, min=0, max=300, help="Batching window in seconds (MaximumBatchingWindowInSeconds)."
    ),
    max_retries: int = typer.Option(10, min=-1, help="Retries of a failing record before discarding (-1: forever)."),
    follow: bool = typer.Option(False, help="Keep polling for new records instead of stopping when drained."),
    endpoint_url: str = typer.Option(None, envvar="AWS_ENDPOINT_URL", help="AWS endpoint (moto / LocalStack)."),
) -> None:
    """Poll the streams and invoke the real Lambda handlers in-process, as the event source mappings do."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn

    from lakehouse.aws import AwsConfig
    from lakehouse.runtime.cdc import SOURCES, CdcPollSettings, handler_environment, poller_for

    unknown = [s for s in source if s not in SOURCES]
    if unknown:
        raise typer.BadParameter(f"unknown source(s) {unknown}; use --source kinesis and/or --source dynamodb")
    aws = AwsConfig(endpoint_url=endpoint_url, region=AwsConfig.from_env().region)
    settings = CdcPollSettings(
        checkpoint_dir=checkpoints,
        stream=stream,
        table=table,
        batch_size=batch_size,
        batching_window_s=window,
        max_retry_attempts=max_retries,
    )
    console = Console()
    with handler_environment(lake, quarantine, aws), Progress(SpinnerColumn(), TextColumn("{task.description}")) as bar:
        for name in source:
            task = bar.add_task(f"{name}: 0 records", total=None)
            delivered = 0

            def advance(records: int, task: TaskID = task, name: str = name) -> None:
                nonlocal delivered
                delivered += records
                bar.update(task, description=f"{name}: {delivered:,} records delivered")

            poller = poller_for(name, aws, settings, on_batch=advance)
            stats = poller.follow() if follow else poller.drain()
            console.print(
                f"{name}: {stats.records_succeeded:,} records in {stats.invocations:,} invocations over "
                f"{stats.shards} shard(s); partial failures {stats.partial_failures}, handler errors "
                f"{stats.handler_errors}, discarded {stats.discarded}"
            )
