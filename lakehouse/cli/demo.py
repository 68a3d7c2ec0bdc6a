"""`lakehouse demo`: the whole pipeline on one machine (see lakehouse/demo.py for the stages)."""

from __future__ import annotations

from pathlib import Path

import typer


def demo(
    workdir: Path = typer.Option(Path(".demo"), help="Folder for the demo's data; wiped at the start."),
    scale: float = typer.Option(
        0.005, min=0.0001, help="Simulator scale (1 = ~1M orders per simulated year); 0.005 keeps the demo near 2 min."
    ),
    days: int = typer.Option(31, min=1, help="Simulated days."),
    seed: int = typer.Option(42, help="Random seed; the same seed gives the same data."),
) -> None:
    """Run every stage end to end and print what happened."""
    from lakehouse.demo import DemoConfig, run_demo

    run_demo(DemoConfig(workdir=workdir, scale=scale, days=days, seed=seed))
