"""`lakehouse bench ...`: benchmarks. Each prints one JSON line of figures (and a baseline where one is named)."""

from __future__ import annotations

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
