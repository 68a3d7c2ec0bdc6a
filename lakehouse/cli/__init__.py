"""The `lakehouse` command. Each command group lives in its own module and imports heavy libraries lazily,
so `lakehouse --help` stays fast."""

from __future__ import annotations

import typer

from lakehouse.cli import bench, catalog, cdc, dbt, demo, generate, load, silver

app = typer.Typer(
    help="The e-commerce lakehouse: simulate the shop, ingest CDC into Delta, load batches, build marts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.add_typer(generate.app, name="generate")
app.add_typer(bench.app, name="bench")
app.add_typer(load.app, name="load")
app.add_typer(catalog.app, name="catalog")
app.add_typer(cdc.app, name="cdc")
app.add_typer(silver.app, name="silver")
app.add_typer(dbt.app, name="dbt")
app.command(name="query")(dbt.query)
app.command(name="demo")(demo.demo)


def main() -> None:
    from generator.memory import prefer_jemalloc_process_wide

    prefer_jemalloc_process_wide()  # must come before anything loads pyarrow
    app()
