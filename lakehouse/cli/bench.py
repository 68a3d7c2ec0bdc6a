"""`lakehouse bench ...`: benchmarks. Each prints one JSON line of figures (and a baseline where one is named)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks; each prints one JSON line of figures.", no_args_is_help=True)
