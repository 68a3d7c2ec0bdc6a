"""`lakehouse bench ...`: benchmarks. Each prints one JSON line of figures (and a baseline where one is named)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Benchmarks; each prints one JSON line of figures.", no_args_is_help=True)


@app.command(name="load")
def load(
    files: int = typer.Option(20, min=1, help="Landing files of `reviews` to load."),
    rows_per_file: int = typer.Option(2_000, min=1, help="Records per landing file."),
    s3: bool = typer.Option(True, "--s3/--no-s3", help="Also measure S3 -> S3 on a moto server process."),
    profile: bool = typer.Option(False, help="Add the top functions by own time (cProfile) of the local dlt run."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line (no progress)."),
) -> None:
    """dlt landing files -> Delta (local folder and emulated S3) beside a pyarrow.json + write_deltalake baseline."""
    import json

    from rich.console import Console

    from lakehouse.bench.load import run

    with Console(stderr=True, quiet=as_json).status(f"loading {files} files x {rows_per_file} rows"):
        figures = run(files, rows_per_file, s3=s3, profile=profile)
    typer.echo(json.dumps(figures))


@app.command(name="cdc")
def cdc(
    changes: int = typer.Option(1_000_000, min=1, help="Silver: changes applied in the measured run."),
    rows: int = typer.Option(1_000_000, min=1, help="Silver: rows in the table before the measured run."),
    max_rows: int = typer.Option(None, min=1, help="Silver: bronze rows per merge (default: ApplyPolicy's)."),
    bronze: bool = typer.Option(True, "--bronze/--no-bronze", help="Include the bronze ingest figures."),
    s3: bool = typer.Option(True, "--s3/--no-s3", help="Bronze: also measure on S3 on a moto server process."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line (no progress)."),
) -> None:
    """CDC: bronze events/s (10,000-record batches, local folder and emulated S3) and silver apply changes/s
    (`changes` changes into a `rows`-row table, in a fresh process for peak_rss_mb)."""
    import json

    from rich.console import Console

    from lakehouse.bench.cdc import run

    console = Console(stderr=True, quiet=as_json)
    with console.status("benchmarking CDC") as status:
        figures = run(
            changes=changes, rows=rows, max_rows_per_range=max_rows, bronze=bronze, s3=s3, progress=status.update
        )
    typer.echo(json.dumps(figures))


@app.command(name="generator")
def generator(
    scale: float = typer.Option(1.0, min=0.0001, help="Simulator scale (1 = ~1M orders per simulated year)."),
    days: int = typer.Option(365, min=1, help="Simulated days for the generation-to-Arrow figures."),
    seed: int = typer.Option(42, help="Random seed."),
    files_days: int = typer.Option(
        31, min=0, help="Days for the end-to-end run that also encodes JSON and writes files (0 = --days)."
    ),
    no_files: bool = typer.Option(False, "--no-files", help="Skip the end-to-end (JSON + files) phase."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line (no progress)."),
) -> None:
    """Simulator rows/s (to Arrow, and end to end with JSON + files), peak RSS, and a row-by-row Faker baseline."""
    import json

    from rich.console import Console
    from rich.progress import Progress, TaskID

    from lakehouse.bench.generator import run

    with Progress(console=Console(stderr=True, quiet=as_json), transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(f"{phase}: simulated days", total=total)
            bar.update(tasks[phase], completed=done)

        figures = run(scale, days, seed=seed, files_days=None if no_files else files_days, progress=progress)
    typer.echo(json.dumps(figures))


@app.command(name="dbt")
def dbt(
    scale: float = typer.Option(
        1.0, min=0.0001, help="Simulator scale of the silver data (1 = ~1M orders/year, the reference scale)."
    ),
    days: int = typer.Option(
        365, min=1, help="Simulated days; a year keeps the 3-day lookback window near the 1% of new data."
    ),
    seed: int = typer.Option(42, help="Random seed."),
    new_fraction: float = typer.Option(0.01, min=0.0001, max=0.5, help="Share of newest rows arriving later."),
    workdir: Path = typer.Option(Path(".bench/dbt"), help="Folder for the snapshot cache, silver and the marts."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line (no progress)."),
) -> None:
    """dbt on DuckDB: full build seconds at a stated scale, then the incremental build after 1% new data."""
    import json

    from rich.console import Console

    from lakehouse.bench.dbt import run

    with Console(stderr=True, quiet=as_json).status("benchmarking dbt") as status:
        figures = run(scale, days, seed, new_fraction, workdir, progress=status.update)
    typer.echo(json.dumps(figures))


@app.command(name="sinks")
def sinks(
    scale: float = typer.Option(0.002, min=0.0001, help="Simulator scale of the replayed output."),
    days: int = typer.Option(7, min=1, help="Simulated days."),
    seed: int = typer.Option(42, help="Random seed."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line (no progress)."),
) -> None:
    """AWS sinks on a moto server: Kinesis records/s, DynamoDB writes/s, landing files/s, the client side alone,
    and a one-PutRecord-per-record baseline."""
    import json

    from rich.console import Console

    from lakehouse.bench.sinks import run

    with Console(stderr=True, quiet=as_json).status("benchmarking the sinks") as status:
        figures = run(scale, days, seed, progress=status.update)
    typer.echo(json.dumps(figures))
