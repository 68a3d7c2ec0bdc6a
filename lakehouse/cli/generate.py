"""`lakehouse generate ...`: the shop simulator (see generator/)."""

from __future__ import annotations

from pathlib import Path

import typer

from generator.config import SimulationConfig

app = typer.Typer(
    help="Simulate the shop: change streams, user behaviour, landing files, the REST API.", no_args_is_help=True
)

# serve / stream / replay live in their own module (owned by the sinks + API workstream).
from lakehouse.cli import generate_live  # noqa: E402

app.command(name="serve")(generate_live.serve)
app.command(name="stream")(generate_live.stream)
app.command(name="replay")(generate_live.replay)


@app.command()
def run(
    out: Path = typer.Option(Path("generated"), help="Output folder (its previous simulator output is replaced)."),
    scale: float = typer.Option(0.01, min=0.0001, help="1 = about one million orders per simulated year."),
    days: int = typer.Option(31, min=1, help="Simulated days from --start-date."),
    seed: int = typer.Option(42, help="Random seed; the same seed, scale and days give byte-identical output."),
    start_date: str = typer.Option("2026-11-01", help="First simulated day (YYYY-MM-DD, UTC)."),
    abandonment_rate: float = typer.Option(0.7, min=0.0, max=0.99, help="Share of carts that are abandoned."),
    late_fraction: float = typer.Option(0.02, min=0.0, max=0.99, help="Share of changes/clicks committed late."),
    orders_per_slice: int = typer.Option(
        SimulationConfig.orders_per_slice,
        help="Orders simulated at a time (>= 1000): memory against speed, whatever the scale (peak ~490 MB at 5000, "
        "~360 MB at 2500 for ~3-5% more time). Part of the config: other values give other (equally valid) data.",
    ),
    kinesis_stream: str | None = typer.Option(None, help="Then send the change events to this Kinesis stream."),
    dynamodb_table: str | None = typer.Option(None, help="Then write user behaviour to this DynamoDB table."),
    landing: str | None = typer.Option(None, help="Then upload the landing files to s3://bucket/prefix."),
    endpoint_url: str | None = typer.Option(None, help=generate_live.ENDPOINT_HELP),
    create_resources: bool = typer.Option(False, help=generate_live.CREATE_HELP),
) -> None:
    """Simulate the shop and write the change streams, landing files and ground-truth snapshot to --out
    (and, with --kinesis-stream / --dynamodb-table / --landing, push them into AWS or an emulator)."""
    from datetime import date

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from generator.report import summary_table
    from generator.run import generate_local

    try:
        config = SimulationConfig(
            seed=seed,
            scale=scale,
            days=days,
            start_date=date.fromisoformat(start_date),
            abandonment_rate=abandonment_rate,
            late_fraction=late_fraction,
            orders_per_slice=orders_per_slice,
        )
    except ValueError as error:
        raise typer.BadParameter(f"{error} (e.g. --start-date 2026-11-01)") from error
    if out.exists() and not out.is_dir():
        raise typer.BadParameter(f"{out} is a file; pass a folder to --out", param_hint="--out")
    console = Console()
    with Progress(
        TextColumn("simulating"), BarColumn(), TextColumn("{task.completed}/{task.total} days"), TimeElapsedColumn(),
        console=console, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("simulate", total=days)
        summary = generate_local(config, out, progress=lambda done, total: bar.update(task, completed=done))
    console.print(summary_table(summary))
    console.print(f"{summary.total_rows:,} rows, {summary.total_events:,} events in {summary.seconds:.1f}s")
    if kinesis_stream or dynamodb_table or landing:
        generate_live.push(out, kinesis_stream, dynamodb_table, landing, endpoint_url, create_resources)
