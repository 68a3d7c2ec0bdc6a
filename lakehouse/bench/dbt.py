"""`lakehouse bench dbt`: a full dbt build of every model, snapshot and data test on DuckDB at a stated scale, then
the incremental build after 1% new data arrived in silver.

Silver is seeded from the simulator's ground-truth snapshot (silver equals it by design) with the newest 1% of
each table's rows (by creation time) held back; after the full build they are merged into silver by primary key and
`dbt build` runs again without --full-refresh: the incremental facts merge only rows inside the lookback window the
run after the cutoff would use, while snapshots, table marts and tests run as they would every hour.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from lakehouse.transform.runner import DbtProject, DbtRun

Progress = Callable[[str], None]
TARGET_RATIO = 0.15  # the incremental run should take at most 15% of the full build
DEFAULT_LOOKBACK_DAYS = 3  # var lookback_days in dbt/dbt_project.yml


def source_fingerprint(package_dir: Path) -> str:
    """A short hash of every Python source file under package_dir (paths and contents)."""
    digest = hashlib.sha256()
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(path.relative_to(package_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def snapshot_for(scale: float, days: int, seed: int, cache_dir: Path) -> Path:
    """The simulator's ground-truth snapshot for a config, generated once per config and simulator version into
    cache_dir. The version is the simulator's source fingerprint: a change to the simulator can change what a seed
    produces, so an older snapshot is not reused (and is removed: ~1.8 GB at scale 1)."""
    import pyarrow as pa

    import generator
    from generator.config import SimulationConfig
    from generator.simulation import Simulation
    from generator.writers.snapshot import SnapshotWriter

    config_name = f"scale-{scale}-days-{days}-seed-{seed}"
    out = cache_dir / f"{config_name}-generator-{source_fingerprint(Path(generator.__file__).parent)}"
    if (out / "snapshot" / "_complete").exists():
        return out / "snapshot"
    for stale in [cache_dir / config_name, *cache_dir.glob(f"{config_name}-generator-*")]:
        shutil.rmtree(stale, ignore_errors=True)
    out.mkdir(parents=True)
    # Only the snapshot is needed: skip JSON encoding and the change-stream files.
    simulation = Simulation(SimulationConfig(seed=seed, scale=scale, days=days), encode=False)
    writer = SnapshotWriter(out)
    try:
        for piece in simulation.run():
            for table, parts in piece.snapshot.items():
                writer.write(table, pa.concat_tables(parts))
        for table, rows in simulation.final_snapshot():
            writer.write(table, rows)
    finally:
        writer.close()
    (out / "snapshot" / "_complete").touch()
    return out / "snapshot"


def _node_seconds(run: DbtRun, resource_type: str, incremental: set[str] | None = None) -> float:
    return round(
        sum(
            n.seconds
            for n in run.nodes
            if n.resource_type == resource_type and (incremental is None or n.name in incremental)
        ),
        2,
    )


def run(
    scale: float = 1.0,  # the reference scale: ~1M orders per simulated year
    days: int = 365,
    seed: int = 42,
    new_fraction: float = 0.01,
    workdir: Path = Path(".bench/dbt"),
    progress: Progress | None = None,
) -> dict[str, Any]:
    from lakehouse.transform.seed import merge_held_back, seed_silver

    say = progress or (lambda _: None)
    say(f"simulating scale {scale}, {days} days (cached)")
    snapshot = snapshot_for(scale, days, seed, workdir / "source")
    lake, duckdb_path = workdir / "lake", workdir / "marts.duckdb"
    shutil.rmtree(lake, ignore_errors=True)
    duckdb_path.unlink(missing_ok=True)
    say("seeding silver from the snapshot")
    seeded = seed_silver(snapshot, str(lake), hold_back=new_fraction)
    project = DbtProject(lake_uri=str(lake), duckdb_path=duckdb_path, work_dir=workdir / "dbt")
    # The incremental run reprocesses what the hourly run after the cutoff would: every change since the cutoff
    # minus lookback_days. Its window is relative to each fact's newest change, and silver was seeded with the final
    # version of every kept row, so some facts already hold changes from after the cutoff (an order placed before it
    # and delivered later: fct_orders' newest change is the end of the data) and others do not (fct_sessions' is
    # ~1.5 h after it at scale 4): the window is set at that absolute start instead (var lookback_since).
    # Every invocation gets the same vars: dbt re-parses the whole project when they change, and the hourly job
    # would not change them between runs either.
    window_start = None if seeded.cutoff is None else seeded.cutoff - timedelta(days=DEFAULT_LOOKBACK_DAYS)
    window = () if window_start is None else ("--vars", f"{{lookback_since: '{window_start.isoformat()}'}}")
    project.invoke("parse", *window)  # a warm partial-parse cache for both measured runs, as in production

    models = ("--resource-type", "model", "--resource-type", "snapshot", "--quiet")
    say("full run: models and snapshots (dbt build --full-refresh)")
    full = project.invoke("build", "--full-refresh", *models, *window)
    say("data tests on the full build")
    full_tests = project.invoke("test", "--exclude-resource-type", "unit_test", "--quiet", *window)
    say(f"merging {new_fraction:.0%} new rows into silver")
    merged = merge_held_back(seeded)
    say(f"incremental run: models and snapshots (dbt build, changes since {window_start})")
    incremental = project.invoke("build", *models, *window)
    say("data tests after the incremental run")
    incremental_tests = project.invoke("test", "--exclude-resource-type", "unit_test", "--quiet", *window)
    with project.connect() as con:
        fact_orders = con.sql("select count(*) from fct_orders").fetchone()[0]
        silver_orders = con.sql("select count(*) from stg_shop__orders").fetchone()[0]

    facts = {"fct_orders", "fct_order_items", "fct_payments", "fct_inventory_movements", "fct_sessions"}
    full_facts, incremental_facts = _node_seconds(full, "model", facts), _node_seconds(incremental, "model", facts)
    full_build = full.seconds + full_tests.seconds
    incremental_build = incremental.seconds + incremental_tests.seconds
    return {
        "benchmark": "dbt",
        "engine": "duckdb",
        "scale": scale,
        "days": days,
        "silver_rows": sum(seeded.rows.values()) + merged,
        "orders": silver_orders,
        "new_rows": merged,
        "new_fraction": new_fraction,
        "lookback_days": DEFAULT_LOOKBACK_DAYS,
        "lookback_since": window_start.isoformat() if window_start else None,
        "models": sum(1 for n in full.nodes if n.resource_type == "model"),
        "data_tests": len(full_tests.nodes),
        # models + snapshots: the transformation work, full vs incremental; both are the same dbt command
        "measured": "dbt build --resource-type model --resource-type snapshot (full run: --full-refresh)",
        "full_run_s": round(full.seconds, 2),
        "incremental_run_s": round(incremental.seconds, 2),
        "incremental_ratio": _ratio(incremental.seconds, full.seconds),
        "target_ratio": TARGET_RATIO,
        "meets_target": incremental.seconds <= TARGET_RATIO * full.seconds,
        # the five incremental facts alone (dbt's per-node execution time)
        "facts_full_s": full_facts,
        "facts_incremental_s": incremental_facts,
        "facts_ratio": _ratio(incremental_facts, full_facts),
        # where the incremental run spends its time (dbt's per-node execution time, seconds)
        "incremental_top_nodes": {
            n.name: round(n.seconds, 2) for n in sorted(incremental.nodes, key=lambda n: -n.seconds)[:6]
        },
        # the incremental run outside any node: dbt's start (manifest, connection) and finish (artifacts, close)
        "incremental_outside_nodes_s": round(incremental.seconds - sum(n.seconds for n in incremental.nodes), 2),
        # with the data tests (they scan whole tables on every run)
        "full_build_s": round(full_build, 2),
        "incremental_build_s": round(incremental_build, 2),
        "build_ratio": _ratio(incremental_build, full_build),
        "tests_s": round(incremental_tests.seconds, 2),
        "all_ok": all(r.success for r in (full, full_tests, incremental, incremental_tests)),
        "facts_reconciled": fact_orders == silver_orders,
    }


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 3) if whole else None
