"""`lakehouse generate serve | stream | replay`: the simulator's REST API, live traffic, and pushing a local run
into AWS or an emulator. Registered on the `generate` group in lakehouse/cli/generate.py."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from lakehouse.aws import AwsConfig
from lakehouse.settings import DEFAULT_DYNAMODB_TABLE, DEFAULT_KINESIS_STREAM

if TYPE_CHECKING:
    from generator.stream import StreamCounts

ENDPOINT_HELP = "AWS endpoint URL (moto, LocalStack); default: $AWS_ENDPOINT_URL, else real AWS."
CREATE_HELP = "Create the stream, table and landing bucket when missing (emulators; in AWS the CDK does)."


def _aws(endpoint_url: str | None, region: str | None) -> AwsConfig:
    import dataclasses

    aws = AwsConfig.from_env()
    if endpoint_url:
        aws = dataclasses.replace(aws, endpoint_url=endpoint_url)
    if region:
        aws = dataclasses.replace(aws, region=region)
    return aws


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0 for every interface)."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    seed: int = typer.Option(42, help="Random seed; the same seed serves the same rows."),
    scale: float = typer.Option(0.01, min=0.0001, help="Simulator scale (1 = ~1M orders per simulated year)."),
    days: int = typer.Option(31, min=1, help="Simulated days (the campaigns cover them)."),
) -> None:
    """Serve the shop's REST API (FastAPI + uvicorn) until Ctrl-C. OpenAPI docs at /docs."""
    from generator.api import serve as serve_api
    from generator.config import SimulationConfig

    typer.echo(f"shop API on http://{host}:{port}  (docs: http://{host}:{port}/docs)", err=True)
    serve_api(SimulationConfig(seed=seed, scale=scale, days=days), host=host, port=port)


def stream(
    rate: float = typer.Option(100.0, min=0.001, help="Events per second (change events + DynamoDB writes + records)."),
    out: Path | None = typer.Option(None, help="Append JSONL to this folder (the `generate run` layout)."),
    kinesis_stream: str | None = typer.Option(None, help="Send change events to this Kinesis stream."),
    dynamodb_table: str | None = typer.Option(None, help="Write user behaviour to this DynamoDB table."),
    landing: str | None = typer.Option(
        None, help="Landing files to s3://bucket/prefix or a folder (default with --out: OUT/landing)."
    ),
    duration: float | None = typer.Option(None, min=0.1, help="Stop after this many seconds (default: until Ctrl-C)."),
    landing_every: float = typer.Option(60.0, min=0.1, help="Seconds between landing-file flushes."),
    seed: int = typer.Option(42, help="Random seed; the same seed streams the same events."),
    scale: float = typer.Option(0.01, min=0.0001, help="Simulator scale (1 = ~1M orders per simulated year)."),
    endpoint_url: str | None = typer.Option(None, help=ENDPOINT_HELP),
    region: str | None = typer.Option(None, help="AWS region; default: $AWS_REGION or us-east-1."),
    create_resources: bool = typer.Option(False, help=CREATE_HELP),
) -> None:
    """Emit live shop traffic at about RATE events/s until Ctrl-C (or --duration). Ctrl-C finishes the current
    batch, writes buffered landing files and closes every file; a second Ctrl-C aborts."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from generator.config import SimulationConfig
    from generator.sinks import DynamoDBSink, KinesisSink, ensure_resources, object_sink
    from generator.sinks.objects import split_s3_uri
    from generator.stream import StreamTargets, run_stream, simulation_events, stop_on_signals, stream_config
    from lakehouse.aws import is_s3_uri

    if out is None and not (kinesis_stream or dynamodb_table or landing):
        raise typer.BadParameter("give at least one of --out, --kinesis-stream, --dynamodb-table, --landing")
    aws = _aws(endpoint_url, region)
    if create_resources:
        buckets = [split_s3_uri(landing)[0]] if landing and is_s3_uri(landing) else []
        ensure_resources(aws, stream=kinesis_stream, table=dynamodb_table, buckets=buckets)
    targets = StreamTargets(
        out_dir=out,
        kinesis=KinesisSink(aws.client("kinesis"), kinesis_stream) if kinesis_stream else None,
        dynamodb=DynamoDBSink(aws.client("dynamodb"), dynamodb_table) if dynamodb_table else None,
        landing=object_sink(landing, aws) if landing else None,
    )
    console = Console(stderr=True)
    events = simulation_events(stream_config(SimulationConfig(seed=seed, scale=scale)))
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("starting the simulation ...", total=None)

        def on_first_signal() -> None:
            progress.update(task, description="stopping: finishing the current batch (Ctrl-C again to abort)")

        def on_tick(counts: StreamCounts) -> None:
            progress.update(
                task,
                description=f"{counts.events:,} events ({counts.cdc:,} cdc, {counts.dynamodb:,} dynamodb, "
                f"{counts.landing:,} landing) - Ctrl-C to stop",
            )

        with stop_on_signals(on_first_signal) as stop:
            summary = run_stream(
                events,
                targets,
                rate=rate,
                stop=stop,
                duration_s=duration,
                landing_every_s=landing_every,
                on_tick=on_tick,
            )
    for line in summary.lines():
        typer.echo(line)


def replay(
    source: Path = typer.Argument(..., help="A folder written by `lakehouse generate run --out`."),
    kinesis_stream: str | None = typer.Option(DEFAULT_KINESIS_STREAM, help="Kinesis stream for cdc/ ('' skips)."),
    dynamodb_table: str | None = typer.Option(DEFAULT_DYNAMODB_TABLE, help="DynamoDB table for dynamodb/ ('' skips)."),
    landing: str | None = typer.Option(None, help="s3://bucket/prefix or a folder for landing/ (default: skip)."),
    endpoint_url: str | None = typer.Option(None, help=ENDPOINT_HELP),
    region: str | None = typer.Option(None, help="AWS region; default: $AWS_REGION or us-east-1."),
    create_resources: bool = typer.Option(False, help=CREATE_HELP),
    shards: int = typer.Option(1, min=1, help="Shards of the Kinesis stream when it is created."),
) -> None:
    """Push a local simulator output into Kinesis, DynamoDB and S3, streaming, with retries (nothing dropped)."""
    if not source.is_dir():
        raise typer.BadParameter(f"{source} is not a folder; write one with `lakehouse generate run --out DIR`")
    push(source, kinesis_stream, dynamodb_table, landing, endpoint_url, create_resources, region=region, shards=shards)


def push(
    source: Path,
    kinesis_stream: str | None,
    dynamodb_table: str | None,
    landing: str | None,
    endpoint_url: str | None,
    create_resources: bool,
    *,
    region: str | None = None,
    shards: int = 1,
) -> None:
    """Replay a local output into the given targets (empty or None skips one) and print what went where."""
    from generator.sinks import replay_local_output

    summary = replay_local_output(
        source,
        _aws(endpoint_url, region),
        stream=kinesis_stream or None,
        table=dynamodb_table or None,
        landing_uri=landing or None,
        create_resources=create_resources,
        shards=shards,
    )
    for line in summary.lines():
        typer.echo(line)
