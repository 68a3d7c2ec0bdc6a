"""Run a simulation and write the local output layout of docs/source-formats.md:

<out>/cdc/part-*.jsonl                                  Debezium change events, LSN order
<out>/dynamodb/part-*.jsonl                             DynamoDB write requests, write order
<out>/landing/<table>/dt=YYYY-MM-DD/part-*.jsonl.gz     reviews, support tickets, image metadata
<out>/snapshot/<table>.parquet/part-NNNNN.parquet       final state of every contract table (a folder of parts)
<out>/manifest.json                                     config and counts (no timings: output is deterministic)
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from generator.config import SimulationConfig
from generator.encoding import Encoder
from generator.simulation import Simulation
from generator.writers.cdc import CdcWriter
from generator.writers.dynamodb import DynamoDBWriter
from generator.writers.landing import LandingWriter
from generator.writers.snapshot import SnapshotWriter
from lakehouse.contract import TABLES

OUTPUT_PARTS = ("cdc", "dynamodb", "landing", "snapshot", "manifest.json")
Progress = Callable[[int, int], None]  # (simulated days done, total days)


@dataclass
class RunSummary:
    out_dir: Path
    config: SimulationConfig
    orders: int
    snapshot_rows: dict[str, int]
    cdc_events: dict[str, dict[str, int]]  # table -> op -> events
    dynamodb_writes: dict[str, int]  # table -> write requests
    landing_records: dict[str, int]  # table -> records
    files: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.snapshot_rows.values())

    @property
    def total_events(self) -> int:
        cdc = sum(sum(ops.values()) for ops in self.cdc_events.values())
        return cdc + sum(self.dynamodb_writes.values()) + sum(self.landing_records.values())

    def manifest(self) -> dict[str, Any]:
        return {
            "format_version": 1,
            "config": self.config.to_dict(),
            "orders": self.orders,
            "rows": {"total": self.total_rows, "by_table": self.snapshot_rows},
            "events": {
                "total": self.total_events,
                "cdc": self.cdc_events,
                "dynamodb": self.dynamodb_writes,
                "landing": self.landing_records,
            },
            "files": self.files,
        }


def _clear(out_dir: Path) -> None:
    """Remove a previous run's output (only the simulator's own parts), so a re-run starts clean."""
    for part in OUTPUT_PARTS:
        path = out_dir / part
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def generate_local(config: SimulationConfig, out_dir: Path | str, progress: Progress | None = None) -> RunSummary:
    """Simulate `config` and write the local output layout to `out_dir` (previous output there is replaced)."""
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clear(out)
    # One DuckDB connection per thread: the simulation's router thread encodes the Debezium and landing JSON with
    # `encoder`, the DynamoDB writer (on this thread) the write requests with `dynamodb_encoder`.
    encoder, dynamodb_encoder = Encoder(), Encoder()
    simulation = Simulation(config, encoder)
    cdc, dynamodb, landing, snapshot = (
        CdcWriter(out),
        DynamoDBWriter(out, dynamodb_encoder),
        LandingWriter(out),
        SnapshotWriter(out),
    )
    orders, days_done = 0, 0
    slices = simulation.run()
    try:
        for piece in slices:
            orders += piece.orders
            days_done = (piece.window[1] - config.start_us) // 86_400_000_000
            # this loop holds the only reference to the slice's output (Simulation.run keeps none): each table
            # is freed as soon as it is written, and the DynamoDB requests, whose encoding is the writer's
            # largest working set, go last, next to nothing else of the slice
            events, writes, records, final = piece.cdc, piece.dynamodb, piece.landing, piece.snapshot
            del piece
            cdc.write(events)
            del events
            landing.write(records)
            del records
            for table in list(final):
                snapshot.write(table, pa.concat_tables(final.pop(table)))
            dynamodb.write(writes)
            del writes
            if progress:
                progress(days_done, config.days)
        for table, rows in simulation.final_snapshot():
            snapshot.write(table, rows)
    finally:
        # First stop the router thread (it encodes with `encoder`): closing the encoder under a running encode
        # corrupted the heap when a run was interrupted.
        slices.close()
        cdc.close()
        dynamodb.close()
        snapshot.close()
        encoder.close()
        dynamodb_encoder.close()
    cdc_events: dict[str, dict[str, int]] = {}
    for (table, op), n in sorted(cdc.counts.items()):
        cdc_events.setdefault(table, {})[op] = n
    summary = RunSummary(
        out_dir=out,
        config=config,
        orders=orders,
        snapshot_rows={name: snapshot.counts[name] for name in TABLES},
        cdc_events=cdc_events,
        dynamodb_writes=dict(sorted(dynamodb.counts.items())),
        landing_records=dict(sorted(landing.counts.items())),
        files={
            "cdc": [str(Path(f).relative_to(out)) for f in cdc.files.files],
            "dynamodb": [str(Path(f).relative_to(out)) for f in dynamodb.files.files],
        },
    )
    (out / "manifest.json").write_text(json.dumps(summary.manifest(), indent=2, sort_keys=True) + "\n")
    summary.seconds = time.perf_counter() - started
    return summary
