"""Demo stage "simulate": run the simulator at the demo's scale and leave its output for the later stages."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lakehouse.demo import DemoContext


def simulate_stage(ctx: DemoContext) -> list[str]:
    """Writes `<workdir>/source` and sets `ctx.results["simulation"]`:
    out_dir, cdc_dir, dynamodb_dir, landing_dir, snapshot_dir, manifest (paths), rows / events (per table counts),
    orders, and summary (the generator.run.RunSummary)."""
    from generator.config import SimulationConfig
    from generator.report import summary_table
    from generator.run import generate_local

    config = SimulationConfig(seed=ctx.config.seed, scale=ctx.config.scale, days=ctx.config.days)
    out = ctx.workdir / "source"
    summary = generate_local(config, out)
    events = (
        {table: sum(ops.values()) for table, ops in summary.cdc_events.items()}
        | summary.dynamodb_writes
        | summary.landing_records
    )
    ctx.results["simulation"] = {
        "out_dir": out,
        "cdc_dir": out / "cdc",
        "dynamodb_dir": out / "dynamodb",
        "landing_dir": out / "landing",
        "snapshot_dir": out / "snapshot",
        "manifest": out / "manifest.json",
        "rows": dict(summary.snapshot_rows),
        "events": events,
        "orders": summary.orders,
        "summary": summary,
    }
    ctx.console.print(summary_table(summary))
    return [
        f"{summary.orders:,} orders over {config.days} days from {config.start_date} (scale {config.scale}, "
        f"seed {config.seed})",
        f"{summary.total_rows:,} rows in the ground-truth snapshot, {summary.total_events:,} events "
        f"({sum(events[t] for t in summary.cdc_events):,} Debezium changes, "
        f"{sum(summary.dynamodb_writes.values()):,} DynamoDB writes, "
        f"{sum(summary.landing_records.values()):,} landing records) in {summary.seconds:.1f}s -> {out}",
    ]
