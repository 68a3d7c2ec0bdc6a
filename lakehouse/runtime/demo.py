"""Demo stages of the CDC path (after "simulate"): the simulator's change streams go into the emulator's Kinesis
stream and DynamoDB table, the local event source poller feeds them to the real consumer Lambdas (bronze), silver
apply folds bronze into current state, and silver is reconciled against the simulator's ground-truth snapshot.

Sets `ctx.results["lake_uri"]` / `["quarantine_uri"]` (a local lake under the workdir) for the later stages, and
`ctx.results["cdc"]` with the figures.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lakehouse.demo import DemoContext

KINESIS_SHARDS = 2  # more than one, so the poller's per-shard ordering and checkpoints are exercised
BATCH_SIZE = 1_000


def _paths(ctx: DemoContext) -> tuple[Path, str, str]:
    simulation = ctx.results.get("simulation", {})
    out_dir = Path(simulation.get("out_dir", ctx.workdir / "source"))
    ctx.results.setdefault("lake_uri", str(ctx.workdir / "lake"))
    ctx.results.setdefault("quarantine_uri", str(ctx.workdir / "quarantine"))
    return out_dir, ctx.results["lake_uri"], ctx.results["quarantine_uri"]


def streams_stage(ctx: DemoContext) -> list[str]:
    """Create the stream and the table on the emulator and replay the simulator's change output into them."""
    from generator.sinks.replay import replay_local_output
    from generator.sinks.resources import ensure_resources

    out_dir, _, _ = _paths(ctx)
    with ctx.emulator.activated():
        resources = ensure_resources(ctx.emulator.aws, shards=KINESIS_SHARDS)
        replay = replay_local_output(
            out_dir, ctx.emulator.aws, landing_uri=None, create_resources=False, console=ctx.console
        )
    ctx.results["cdc"] = {"replay": replay}
    return [*(f"created {item}" for item in resources.created), *replay.lines()]


def consumers_stage(ctx: DemoContext) -> list[str]:
    """Drain both streams through lambdas/cdc_kinesis and lambdas/cdc_dynamodb, in-process, into bronze."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from lakehouse.runtime.cdc import SOURCES, CdcPollSettings, handler_environment, poller_for

    _, lake, quarantine = _paths(ctx)
    settings = CdcPollSettings(checkpoint_dir=ctx.workdir / "checkpoints", batch_size=BATCH_SIZE)
    replay = ctx.results.get("cdc", {}).get("replay")
    expected = {"kinesis": getattr(replay, "cdc_records", None), "dynamodb": getattr(replay, "dynamodb_writes", None)}
    lines, stats = [], {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with (
        ctx.emulator.activated(),
        handler_environment(lake, quarantine, ctx.emulator.aws),
        Progress(*columns, console=ctx.console, transient=True) as bar,
    ):
        for name in SOURCES:
            task = bar.add_task(f"{name} -> bronze", total=expected[name])
            poller = poller_for(name, ctx.emulator.aws, settings, on_batch=partial(bar.advance, task))
            stats[name] = poller.drain()
            s = stats[name]
            lines.append(
                f"{name}: {s.records_succeeded:,} records in {s.invocations:,} invocations of "
                f"{poller.mapping.function_name} over {s.shards} shard(s); partial failures {s.partial_failures}, "
                f"handler errors {s.handler_errors}, discarded {s.discarded}"
            )
    ctx.results.setdefault("cdc", {})["poll"] = stats
    return lines


def silver_stage(ctx: DemoContext) -> list[str]:
    """Apply every CDC table, then reconcile silver with the ground truth; fails the demo on any difference."""
    from rich.table import Table

    from lakehouse.reconcile import reconcile_silver
    from lakehouse.silver import apply_table, cdc_tables

    out_dir, lake, quarantine = _paths(ctx)
    tables = cdc_tables()
    reports = {c.name: apply_table(c, lake) for c in tables}
    results = {r.table: r for r in reconcile_silver(tables, lake, out_dir / "snapshot")}
    events = ctx.results.get("simulation", {}).get("events", {})
    quarantined = quarantined_per_table(Path(quarantine))
    bronze = {contract.name: bronze_rows(lake, contract.name) for contract in tables}
    title = "CDC: source events -> bronze -> silver, reconciled with the ground truth"
    view = Table(title=title, caption="rows per table; missing / extra / differing: silver vs the snapshot")
    view.add_column("table", no_wrap=True)
    for header in ("events", "bronze", "silver", "quarantined", "match", "missing", "extra", "differing"):
        view.add_column(header, justify="right")
    for contract in tables:
        name, r = contract.name, results[contract.name]
        view.add_row(
            name, f"{events.get(name, 0):,}", f"{bronze[name]:,}", f"{r.actual_rows:,}",
            f"{quarantined.get(name, 0):,}", f"{r.matching:,}", f"{r.missing:,}", f"{r.extra:,}", f"{r.differing:,}",
            style=None if r.ok else "bold red",
        )  # fmt: skip
    ctx.console.print(view)
    ctx.results.setdefault("cdc", {}).update(silver=reports, reconciliation=results, bronze_rows=bronze)
    bad = [r for r in results.values() if not r.ok]
    seconds = sum(r.seconds for r in reports.values())
    changes = sum(r.changes_read for r in reports.values())
    lines = [f"silver apply: {changes:,} bronze changes into {len(tables)} tables in {seconds:.1f}s"]
    if bad:
        details = "; ".join(f"{r.table}: {_difference(r)}" for r in bad)
        raise RuntimeError(f"silver differs from the ground truth: {details}")
    rows = sum(r.matching for r in results.values())
    return [*lines, f"reconciliation: all {rows:,} rows of {len(tables)} tables match the ground truth, 0 differences"]


def _difference(r: Any) -> str:
    return (
        f"missing {r.missing}, extra {r.extra}, differing {r.differing} {r.differing_columns} "
        f"(e.g. keys {r.sample_differing_keys}), duplicate keys {r.duplicate_keys}"
    )


def bronze_rows(lake: str, table: str) -> int:
    from deltalake import DeltaTable

    from lakehouse.settings import BRONZE, table_uri

    uri = table_uri(lake, BRONZE, table)
    if not DeltaTable.is_deltatable(uri):
        return 0
    return sum(int(n) for n in DeltaTable(uri).get_add_actions(flatten=True).column("num_records").to_pylist())


def quarantined_per_table(root: Path) -> dict[str, int]:
    """Quarantined records per table in a local quarantine (`<root>/<source>/<table>/dt=.../<batch>.jsonl`)."""
    counts: dict[str, int] = {}
    for path in root.glob("*/*/dt=*/*.jsonl"):
        table = path.parent.parent.name
        with path.open("rb") as f:
            counts[table] = counts.get(table, 0) + sum(1 for _ in f)
    return counts
