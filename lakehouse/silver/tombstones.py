"""Delete tombstones: which keys were deleted at which source position.

A delete removes the row from silver, and with it the position that guards the key. Without more knowledge an
older update redelivered after the delete (at-least-once transport, a replayed shard) would insert the row again.
So every applied delete is remembered in a small side table `<lake>/silver/_tombstones/<table>` (primary key,
position, source time); silver apply drops any change at or below a key's tombstone position (but the delete
itself). A re-insert has a newer position than the delete, so it passes. Tombstones older than the retention
(longer than any stream retention or replay window) are pruned by `prune`.

Write order matters: tombstones are committed BEFORE the silver merge that records progress. A crash in between
re-runs the range, re-records the same tombstones (idempotent merge) and then applies silver.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from lakehouse.contract import TableContract
from lakehouse.silver.changes import DELETE, OP, POSITION, SOURCE_TS, normalise
from lakehouse.silver.delta import key_predicate, open_or_create, with_commit_retry

RECORDED_AT = "_recorded_at"
TOMBSTONE_DIR = "_tombstones"


def tombstone_uri(lake_uri: str, table: str) -> str:
    return f"{lake_uri.rstrip('/')}/silver/{TOMBSTONE_DIR}/{table}"


def tombstone_schema(contract: TableContract) -> pa.Schema:
    key_fields = [contract.arrow_schema().field(k) for k in contract.primary_key]
    return pa.schema(
        [
            *key_fields,
            pa.field(POSITION, pa.string(), nullable=False),
            pa.field(SOURCE_TS, pa.timestamp("us", tz="UTC")),
            pa.field(RECORDED_AT, pa.timestamp("us", tz="UTC"), nullable=False),
        ]
    )


class Tombstones:
    def __init__(self, contract: TableContract, lake_uri: str, storage_options: dict[str, str] | None) -> None:
        self.contract = contract
        self.uri = tombstone_uri(lake_uri, contract.name)
        self.storage_options = storage_options

    def _table(self) -> DeltaTable:
        return open_or_create(self.uri, tombstone_schema(self.contract), self.storage_options)

    def drop_superseded(self, changes: pa.Table) -> tuple[pa.Table, int]:
        """Remove changes at or below their key's tombstone position, except the delete that made it. Returns
        (kept, dropped count)."""
        if changes.num_rows == 0 or not DeltaTable.is_deltatable(self.uri, self.storage_options):
            return changes, 0
        pk = list(self.contract.primary_key)
        known = normalise(
            DeltaTable(self.uri, storage_options=self.storage_options).to_pyarrow_table(columns=[*pk, POSITION])
        )
        if known.num_rows == 0:
            return changes, 0
        known = known.rename_columns([*pk, "_tombstone_position"])
        joined = changes.join(known, keys=pk, join_type="left outer", use_threads=True)
        tomb = joined.column("_tombstone_position")
        position = joined.column(POSITION)
        # The delete at the tombstone's own position stays: after a crash between recording tombstones and the
        # silver commit, the re-run must still apply it (deleting twice is harmless).
        its_own_delete = pc.and_(pc.equal(position, tomb), pc.equal(joined.column(OP), DELETE))
        keep = pc.or_kleene(pc.or_kleene(pc.is_null(tomb), pc.greater(position, tomb)), its_own_delete)
        kept = joined.filter(keep).drop_columns(["_tombstone_position"])
        return kept, changes.num_rows - kept.num_rows

    def record(self, latest_changes: pa.Table, max_attempts: int) -> int:
        """Remember the deletes among `latest_changes` (one row per key). Idempotent; keeps the greatest position."""
        deletes = latest_changes.filter(pc.equal(latest_changes.column(OP), DELETE))
        if deletes.num_rows == 0:
            return 0
        columns = [*self.contract.primary_key, POSITION, SOURCE_TS]
        now = pa.array([datetime.now(UTC)] * deletes.num_rows, pa.timestamp("us", tz="UTC"))
        source = deletes.select(columns).append_column(RECORDED_AT, now).cast(tombstone_schema(self.contract))
        assignments = {c: f"s.{c}" for c in source.column_names}

        def merge() -> None:
            (
                self._table()
                .merge(source, predicate=key_predicate(self.contract.primary_key), source_alias="s", target_alias="t")
                .when_matched_update(assignments, predicate=f"s.{POSITION} > t.{POSITION}")
                .when_not_matched_insert(assignments)
                .execute()
            )

        with_commit_retry(merge, max_attempts=max_attempts)
        return deletes.num_rows

    def prune(self, retention: timedelta) -> int:
        """Forget tombstones recorded longer ago than `retention`; returns how many were removed."""
        if not DeltaTable.is_deltatable(self.uri, self.storage_options):
            return 0
        cutoff = datetime.now(UTC) - retention
        dt = DeltaTable(self.uri, storage_options=self.storage_options)
        oldest = pc.min(dt.to_pyarrow_table(columns=[RECORDED_AT]).column(RECORDED_AT)).as_py()
        if oldest is None or oldest >= cutoff:
            return 0  # nothing to prune: no empty commit
        metrics = dt.delete(f"{RECORDED_AT} < '{cutoff.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}'")
        return int(metrics.get("num_deleted_rows", 0))
