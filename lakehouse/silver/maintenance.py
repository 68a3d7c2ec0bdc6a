"""Silver table maintenance after apply: keep clustered tables clustered, compact the others' small files past a
threshold, then vacuum files that left the table longer ago than the retention, and prune old delete tombstones.

Merges rewrite the files they touch, so a busy table accumulates small files.
- Clustered tables (clustering.py): a key-range group is rewritten sorted once it grew past twice the merge
  budget or holds `min_small_files` files; bin-packing would mix key ranges and undo the clustering.
- Other tables: compaction runs once `min_small_files` files are below half the target size (cheap to check from
  the add actions).
Vacuum runs after a rewrite (that is when most files become unreferenced), keeping time travel for the retention.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from lakehouse.silver.clustering import plan_groups, recluster
from lakehouse.silver.delta import with_commit_retry

if TYPE_CHECKING:
    from lakehouse.silver.tombstones import Tombstones


@dataclass
class MaintenanceReport:
    small_files: int = 0
    compacted_files: int = 0  # files replaced by compaction or reclustering
    reclustered_groups: int = 0
    reclustered_rows: int = 0
    vacuumed_files: int = 0
    tombstones_pruned: int = 0


def count_small_files(table: DeltaTable, target_file_size: int) -> int:
    sizes = pa.table(table.get_add_actions(flatten=True)).column("size_bytes")
    return int(pc.sum(pc.less(sizes, target_file_size // 2)).as_py() or 0)


def keep_clustered(
    uri: str,
    storage_options: dict[str, str] | None,
    key: str,
    *,
    max_group_rows: int,
    min_small_files: int,
    max_commit_attempts: int,
    report: MaintenanceReport,
) -> None:
    """Recluster the groups that grew past twice `max_group_rows` rows or hold `min_small_files` files, into files
    of half the budget (so a group packs about two of them)."""
    table = DeltaTable(uri, storage_options=storage_options)
    for group in plan_groups(table, key, max_group_rows):
        if group.span.low is None:
            return  # files without key statistics: nothing to cluster by (merges then take the table in one piece)
        if group.rows > 2 * max_group_rows or group.files >= min_small_files:
            rows = with_commit_retry(
                partial(recluster, uri, storage_options, key, group, max_group_rows // 2),
                max_attempts=max_commit_attempts,
            )
            report.reclustered_groups += 1
            report.reclustered_rows += rows
            report.compacted_files += group.files


def maintain(
    table: DeltaTable,
    tombstones: Tombstones,
    *,
    clustered: bool,
    min_small_files: int,
    target_file_size: int,
    vacuum_retention: timedelta,
    tombstone_retention: timedelta,
    report: MaintenanceReport,
) -> None:
    report.small_files = count_small_files(table, target_file_size)
    if not clustered and report.small_files >= min_small_files:
        metrics = table.optimize.compact(target_size=target_file_size)
        report.compacted_files += int(metrics.get("numFilesRemoved", 0))
    if report.compacted_files:
        retention_hours = int(vacuum_retention.total_seconds() // 3600)
        # The policy decides the retention, not delta-rs' 7-day default guard.
        removed = table.vacuum(retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False)
        report.vacuumed_files = len(removed)
    report.tombstones_pruned = tombstones.prune(tombstone_retention)
