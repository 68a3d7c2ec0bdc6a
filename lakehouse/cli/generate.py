"""`lakehouse generate ...`: the shop simulator (see generator/)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Simulate the shop: change streams, user behaviour, landing files, the REST API.", no_args_is_help=True
)
