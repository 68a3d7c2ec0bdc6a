"""The end-to-end demo: a list of stages run in order against one workdir and one emulator.

Each stage is a function `(ctx) -> list[str]` returning summary lines; later stages read what earlier ones left in
`ctx.results`. Add a stage by appending it to `STAGES`.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from lakehouse.emulator import Emulator, moto_server


@dataclass(frozen=True)
class DemoConfig:
    workdir: Path
    scale: float = 0.005
    days: int = 31
    seed: int = 42


@dataclass
class DemoContext:
    config: DemoConfig
    emulator: Emulator
    console: Console
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def workdir(self) -> Path:
        return self.config.workdir


Stage = Callable[[DemoContext], list[str]]


def _stages() -> list[tuple[str, Stage]]:
    """The stages in order. Imported here, not at module top, because the stage modules import DemoContext."""
    from generator.demo import simulate_stage
    from lakehouse.load.demo import batch_load_stage, catalog_stage
    from lakehouse.report import report_stage
    from lakehouse.runtime.demo import consumers_stage, silver_stage, streams_stage
    from lakehouse.transform.demo import marts_stage

    return [
        ("simulate", simulate_stage),  # first: every later stage reads its output
        # CDC: the change streams through the emulator, the consumer Lambdas (bronze), silver apply, reconciliation.
        ("cdc streams", streams_stage),
        ("cdc consumers -> bronze", consumers_stage),
        ("silver apply", silver_stage),
        # Batch loads, then the catalog, which registers bronze and silver as they are then.
        ("batch loads (dlt)", batch_load_stage),
        ("glue catalog", catalog_stage),
        # dbt once silver holds every table; the report draws from the marts.
        ("marts (dbt)", marts_stage),
        ("report", report_stage),
    ]


STAGES: list[tuple[str, Stage]] = _stages()


def run_demo(config: DemoConfig) -> DemoContext:
    console = Console()
    shutil.rmtree(config.workdir, ignore_errors=True)
    config.workdir.mkdir(parents=True)
    started = time.perf_counter()
    with moto_server() as emulator:
        ctx = DemoContext(config=config, emulator=emulator, console=console)
        for name, stage in STAGES:
            console.rule(f"[bold]{name}")
            t0 = time.perf_counter()
            for line in stage(ctx):
                console.print(line)
            seconds = time.perf_counter() - t0
            ctx.results.setdefault("stage_seconds", {})[name] = seconds
            console.print(f"[dim]{name}: {seconds:.1f}s")
    console.rule(f"[bold green]demo finished in {time.perf_counter() - started:.1f}s")
    return ctx
