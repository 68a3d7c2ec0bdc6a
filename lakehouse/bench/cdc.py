"""`lakehouse bench cdc`: bronze ingest figures (from lakehouse.bench.cdc_bronze) and silver apply throughput.

Silver: a bronze change log of the `orders` table gets `rows` inserts (version 0) and then `changes` changes
(version 1: updates of existing keys, new inserts, deletes, and redelivered duplicates). Silver apply runs in
fresh child processes (so `peak_rss_mb` is the measured apply's own high-water mark, not the generator's nor the
initial load's): first the initial load, then the measured apply of the changes into the `rows`-row table.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.contract import get_table
from lakehouse.envvars import temporary_environment
from lakehouse.memory import own_peak_rss_mb

TABLE = "orders"
UPDATE_SHARE, INSERT_SHARE, DELETE_SHARE = 0.70, 0.20, 0.05  # the rest: redelivered duplicates
POSITION_DIGITS = 40


def _positions(values: np.ndarray) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(values, pa.int64()), pa.string()), POSITION_DIGITS, "0")


def _money(cents: np.ndarray) -> pa.Array:
    scaled = pc.multiply(pa.array(cents, pa.int64()).cast(pa.decimal128(19, 0)), pa.scalar(Decimal("0.01")))
    return scaled.cast(pa.decimal128(12, 2))


def _choice(values: list[str], rng: np.random.Generator, n: int) -> pa.Array:
    return pc.take(pa.array(values), pa.array(rng.integers(0, len(values), n)))


def orders_changes(ids: np.ndarray, ops: np.ndarray, positions: np.ndarray, rng: np.random.Generator) -> pa.Table:
    """Bronze rows (the agreed bronze layout) for `orders` changes, built column-wise with numpy/pyarrow."""
    from lakehouse.cdc.bronze import bronze_schema

    n = len(ids)
    base_us = 1_764_000_000_000_000
    ts = pa.array(base_us + positions * 1_000, pa.timestamp("us", tz="UTC"))
    columns: dict[str, pa.Array] = {
        "order_id": pa.array(ids, pa.int64()),
        "customer_id": pa.array(rng.integers(1, 200_000, n), pa.int64()),
        "status": _choice(["placed", "paid", "shipped", "delivered", "cancelled", "returned"], rng, n),
        "order_total": _money(rng.integers(500, 50_000, n)),
        "currency": _choice(["EUR", "USD", "GBP"], rng, n),
        "shipping_country": _choice(["DE", "FR", "NL", "US", "GB", "ES"], rng, n),
        "campaign_id": pa.array(np.where(rng.random(n) < 0.3, rng.integers(1, 100, n), 0), pa.int64()),
        "cart_id": pc.binary_join_element_wise("cart-", pc.cast(pa.array(ids), pa.string()), ""),
        "placed_at": ts,
        "updated_at": ts,
        "_op": pa.array(ops, pa.string()),
        "_source_position": _positions(positions),
        "_source_ts": ts,
        "_ingested_at": ts,
        "_batch_id": pa.array(["bench"] * n, pa.string()),
        "_ingest_date": pc.cast(ts, pa.date32()),
    }
    columns["_dedup_key"] = pc.binary_join_element_wise(
        "orders:", pc.cast(columns["order_id"], pa.string()), ":", columns["_source_position"], ""
    )
    schema = bronze_schema(get_table(TABLE))
    return pa.table({f.name: columns[f.name].cast(f.type) for f in schema}, schema=schema)


def write_bench_bronze(lake: str, rows: int, changes: int, *, commit_rows: int = 10_000, seed: int = 7) -> None:
    from deltalake import write_deltalake

    from lakehouse.cdc.bronze import ensure_bronze_table
    from lakehouse.settings import BRONZE, table_uri

    rng = np.random.default_rng(seed)
    uri = table_uri(lake, BRONZE, TABLE)
    ensure_bronze_table(uri, get_table(TABLE))
    initial = orders_changes(np.arange(1, rows + 1), np.full(rows, "c"), np.arange(1, rows + 1), rng)
    write_deltalake(uri, initial, mode="append")
    del initial
    n_update, n_insert, n_delete = int(changes * UPDATE_SHARE), int(changes * INSERT_SHARE), int(changes * DELETE_SHARE)
    n_dup = changes - n_update - n_insert - n_delete
    existing = rng.permutation(np.arange(1, rows + 1))[: n_update + n_delete]
    ids = np.concatenate([existing, np.arange(rows + 1, rows + 1 + n_insert)])
    ops = np.concatenate([np.full(n_update, "u"), np.full(n_delete, "d"), np.full(n_insert, "c")])
    order = rng.permutation(len(ids))
    ids, ops = ids[order], ops[order]
    positions = np.arange(rows + 1, rows + 1 + len(ids))
    dup = rng.integers(0, len(ids), n_dup)  # redelivered: same key, same position
    ids, ops, positions = (
        np.concatenate([ids, ids[dup]]),
        np.concatenate([ops, ops[dup]]),
        np.concatenate([positions, positions[dup]]),
    )
    # Commits of `commit_rows` changes, as the Lambda consumers append them (one commit per table per batch).
    for start in range(0, len(ids), commit_rows):
        window = slice(start, start + commit_rows)
        write_deltalake(uri, orders_changes(ids[window], ops[window], positions[window], rng), mode="append")


def _apply_in_child(lake: str, max_rows_per_range: int, until_version: int | None = None) -> dict[str, Any]:
    from lakehouse.silver.apply import ApplyPolicy, apply_table

    started = time.perf_counter()
    cpu_started = _cpu_seconds()
    report = apply_table(
        get_table(TABLE), lake, policy=ApplyPolicy(max_rows_per_range=max_rows_per_range), until_version=until_version
    )
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": _cpu_seconds() - cpu_started,
        "arrow_allocator": pa.default_memory_pool().backend_name,
        "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX"),
        "changes": report.changes_read,
        "inserted": report.inserted,
        "updated": report.updated,
        "deleted": report.deleted,
        "ranges": report.ranges,
        "merges": report.merges,
        "reclustered_rows": report.maintenance.reclustered_rows,
        "peak_rss_mb": own_peak_rss_mb(),
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _in_fresh_process(*args: Any) -> dict[str, Any]:
    """Run silver apply in a new process configured like the silver_apply Lambda (PROCESS_ENVIRONMENT)."""
    from lakehouse.silver.service import PROCESS_ENVIRONMENT

    # The spawned child inherits the environment at start.
    with (
        temporary_environment(PROCESS_ENVIRONMENT),
        ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool,
    ):
        return pool.submit(_apply_in_child, *args).result()


def bench_silver(
    changes: int = 1_000_000, rows: int = 1_000_000, max_rows_per_range: int | None = None, workdir: Path | None = None
) -> dict[str, Any]:
    from lakehouse.silver.apply import ApplyPolicy

    max_rows_per_range = max_rows_per_range or ApplyPolicy().max_rows_per_range
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        lake = str(Path(tmp) / "lake")
        write_bench_bronze(lake, rows, changes)
        # Version 0 creates the bronze table, version 1 holds the initial `rows`: loaded first, not measured.
        initial = _in_fresh_process(lake, max_rows_per_range, 1)
        child = _in_fresh_process(lake, max_rows_per_range)
    return {
        "silver_changes": child["changes"],
        "silver_table_rows": rows,
        "silver_max_rows_per_range": max_rows_per_range,
        "silver_changes_per_s": round(child["changes"] / child["seconds"]),
        "silver_apply_s": round(child["seconds"], 3),
        # Less sensitive to other load on a shared machine than wall time (delta-rs uses every core it gets).
        "silver_changes_per_cpu_s": round(child["changes"] / child["cpu_seconds"]),
        "silver_process": {k: child[k] for k in ("arrow_allocator", "malloc_arena_max")},
        "silver_initial_load_s": round(initial["seconds"], 3),
        "silver_merge": {
            k: child[k] for k in ("inserted", "updated", "deleted", "ranges", "merges", "reclustered_rows")
        },
        "silver_max_target_rows_per_merge": ApplyPolicy().max_target_rows_per_merge,
        "peak_rss_mb": round(child["peak_rss_mb"], 1),
        # the initial load (1M inserts into the empty table, merged clustered): not the measured figure
        "silver_initial_load_peak_rss_mb": round(initial["peak_rss_mb"], 1),
    }


def run(
    *,
    changes: int = 1_000_000,
    rows: int = 1_000_000,
    max_rows_per_range: int | None = None,
    bronze: bool = True,
    s3: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """All CDC figures in one dict: bronze (lakehouse.bench.cdc_bronze) and silver (peak_rss_mb: silver apply's)."""
    say = progress or (lambda _message: None)
    figures: dict[str, Any] = {"benchmark": "cdc", "load_average_1m_at_start": round(os.getloadavg()[0], 2)}
    if bronze:
        from lakehouse.bench.cdc_bronze import bench_bronze

        figures |= bench_bronze(s3=s3, progress=say)
    say(f"silver: writing {rows:,} rows and {changes:,} changes to bronze")
    figures |= bench_silver(changes=changes, rows=rows, max_rows_per_range=max_rows_per_range)
    figures["targets"] = {"silver_changes_per_s": 300_000, "peak_rss_mb": 1024}
    return figures
