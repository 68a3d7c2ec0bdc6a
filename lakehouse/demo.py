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
from generator.demo import simulate_stage  # noqa: E402  (first: every later stage reads its output)

STAGES: list[tuple[str, Stage]] = [("simulate", simulate_stage)]

# CDC: the change streams through the emulator, the consumer Lambdas (bronze), silver apply and reconciliation.
from lakehouse.runtime.demo import consumers_stage, silver_stage, streams_stage  # noqa: E402

STAGES += [("cdc streams", streams_stage), ("cdc consumers -> bronze", consumers_stage), ("silver apply", silver_stage)]

# Batch loads and the catalog run after the CDC stages: the catalog registers bronze and silver as they are then.
from lakehouse.load.demo import batch_load_stage, catalog_stage  # noqa: E402

STAGES += [("batch loads (dlt)", batch_load_stage), ("glue catalog", catalog_stage)]

# dbt builds the marts once silver holds every table (after the CDC and batch-load stages).
from lakehouse.transform.demo import marts_stage  # noqa: E402

STAGES += [("marts (dbt)", marts_stage)]


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
            console.print(f"[dim]{name}: {time.perf_counter() - t0:.1f}s")
    console.rule(f"[bold green]demo finished in {time.perf_counter() - started:.1f}s")
    return ctx
