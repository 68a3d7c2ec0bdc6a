"""Human-readable summaries of a run (CLI and demo)."""

from __future__ import annotations

from rich.table import Table

from generator.run import RunSummary
from lakehouse.contract import TABLES


def summary_table(summary: RunSummary) -> Table:
    """Per table: source system, final rows (snapshot) and events emitted (change events / writes / records)."""
    table = Table(title=f"simulated {summary.config.days} days at scale {summary.config.scale} -> {summary.out_dir}")
    for column, justify in (("table", "left"), ("source", "left"), ("rows", "right"), ("events", "right"),
                            ("ops", "left")):  # fmt: skip
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for name, contract in TABLES.items():
        ops = summary.cdc_events.get(name, {})
        events = sum(ops.values()) or summary.dynamodb_writes.get(name, 0) or summary.landing_records.get(name, 0)
        table.add_row(
            name,
            contract.source.value,
            f"{summary.snapshot_rows.get(name, 0):,}",
            f"{events:,}",
            " ".join(f"{op}={n:,}" for op, n in sorted(ops.items())),
        )
    table.add_row("total", "", f"{summary.total_rows:,}", f"{summary.total_events:,}", "", style="bold")
    return table
