"""Silver table maintenance after apply: compact small files past a threshold, then vacuum files that left the
table longer ago than the retention, and prune old delete tombstones.

Merges rewrite the files they touch, so a busy table accumulates small files; compaction runs only once
`min_small_files` files are below half the target size (cheap to check from the add actions), and vacuum runs
after a compaction (that is when most files become unreferenced), keeping time travel for the retention.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

if TYPE_CHECKING:
    from lakehouse.silver.tombstones import Tombstones


@dataclass
class MaintenanceReport:
    small_files: int = 0
    compacted_files: int = 0
    vacuumed_files: int = 0
    tombstones_pruned: int = 0


def count_small_files(table: DeltaTable, target_file_size: int) -> int:
    sizes = pa.table(table.get_add_actions(flatten=True)).column("size_bytes")
    return int(pc.sum(pc.less(sizes, target_file_size // 2)).as_py() or 0)


def maintain(
    table: DeltaTable,
    tombstones: Tombstones,
    *,
    min_small_files: int,
    target_file_size: int,
    vacuum_retention: timedelta,
    tombstone_retention: timedelta,
) -> MaintenanceReport:
    report = MaintenanceReport(small_files=count_small_files(table, target_file_size))
    if report.small_files >= min_small_files:
        metrics = table.optimize.compact(target_size=target_file_size)
        report.compacted_files = int(metrics.get("numFilesRemoved", 0))
        retention_hours = int(vacuum_retention.total_seconds() // 3600)
        # The policy decides the retention, not delta-rs' 7-day default guard.
        removed = table.vacuum(retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False)
        report.vacuumed_files = len(removed)
    report.tombstones_pruned = tombstones.prune(tombstone_retention)
    return report
