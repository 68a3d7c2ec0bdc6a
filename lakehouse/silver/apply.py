"""Silver apply: fold a table's bronze change log into its current state in `<lake>/silver/<table>`.

Per table, one writer (this code) does:
1. read the bronze versions committed since the last applied one, in bounded ranges (rows and versions);
2. keep the latest change per primary key by `_source_position`;
3. drop changes at or below the key's delete tombstone (see tombstones.py), record the range's deletes;
4. apply inserts, updates and deletes with one merge per key-range group of the silver table (clustering.py:
   bounds the target side of a merge; a small or unclustered table is one group, so one merge), each guarded by
   `source position > target position`, so older changes arriving late are ignored; new columns are merged into
   the schema;
5. record the range's last bronze version with the range's last merge, as a Delta app transaction
   (`CommitProperties(app_transactions=[Transaction(app_id, version)])`). delta-rs does not enforce that the
   version grows, so the writer checks: a range at or below the recorded version is never applied again.
   A crash between two merges of a range re-applies the whole range on the next run: the position guards make
   the merges already committed no-ops.
6. recluster key-range groups that grew past the budget (clustering.py), so the next range's merges stay bounded.
A conflicting concurrent commit (CommitFailedError) is retried with backoff against a fresh snapshot.
Re-running after success is a no-op: nothing is read past the recorded version.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake

from lakehouse.contract import SourceSystem, TableContract, tables_from
from lakehouse.memory import trim_malloc
from lakehouse.settings import BRONZE, SILVER, table_uri
from lakehouse.silver.changes import (
    BRONZE_ONLY_COLUMNS,
    CDF_COLUMNS,
    DELETE,
    OP,
    POSITION,
    SOURCE_TS,
    latest_per_key,
    plan_ranges,
    read_changes,
    rows_added_per_version,
)
from lakehouse.silver.clustering import KeyRange, clustering_key, even_ranges, plan_groups, split_by_range
from lakehouse.silver.delta import key_predicate, open_or_create, with_commit_retry
from lakehouse.silver.maintenance import MaintenanceReport, keep_clustered, maintain
from lakehouse.silver.tombstones import Tombstones

log = logging.getLogger(__name__)

APPLIED_AT = "_applied_at"
MERGE_BATCH_ROWS = 65_536
APP_ID_PREFIX = "lakehouse-silver-apply"


def app_id(table: str) -> str:
    """The Delta app transaction id under which silver records the last applied bronze version."""
    return f"{APP_ID_PREFIX}:{table}"


def cdc_tables() -> list[TableContract]:
    """The tables silver apply owns: those fed by change streams (dlt writes the file and API tables)."""
    return [*tables_from(SourceSystem.OLTP), *tables_from(SourceSystem.DYNAMODB)]


@dataclass(frozen=True)
class ApplyPolicy:
    max_rows_per_range: int = 1_000_000  # bounds the change side of memory: ~1M changes fit well under 1 GB
    max_target_rows_per_merge: int = 250_000  # bounds the target side: rows of silver one merge may rewrite
    max_versions_per_range: int = 1_000
    max_commit_attempts: int = 8
    compact_min_small_files: int = 16  # compact once this many files are below target_file_size / 2 (clustered
    # tables: recluster a key-range group once it holds this many files)
    target_file_size: int = 128 * 1024 * 1024
    vacuum_retention: timedelta = timedelta(days=7)
    tombstone_retention: timedelta = timedelta(days=14)  # longer than any stream retention / replay window

    @property
    def clustered_rows_per_file(self) -> int:
        """Rows per file of a clustered table's first load (and of seeded silver): half the merge budget, so a
        key-range group holds about two files and can grow before it needs reclustering."""
        return self.max_target_rows_per_merge // 2


@dataclass
class ApplyReport:
    table: str
    bronze_version: int | None = None  # latest bronze version seen
    applied_from: int | None = None  # first bronze version applied by this run
    applied_to: int | None = None  # last bronze version recorded in silver after this run
    ranges: int = 0
    merges: int = 0  # one per key-range group with changes, per range
    changes_read: int = 0
    stale_dropped: int = 0  # at or below a delete tombstone
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    tombstones_recorded: int = 0
    commit_retries: int = 0
    seconds: float = 0.0
    maintenance: MaintenanceReport = field(default_factory=MaintenanceReport)

    @property
    def noop(self) -> bool:
        return self.ranges == 0


def silver_schema(contract: TableContract) -> pa.Schema:
    """Contract columns plus lineage; columns added at the source later are merged in by the first merge."""
    lineage = [
        pa.field(POSITION, pa.string()),
        pa.field(SOURCE_TS, pa.timestamp("us", tz="UTC")),
        pa.field(APPLIED_AT, pa.timestamp("us", tz="UTC")),
    ]
    return pa.schema([*contract.arrow_schema(), *lineage])


def ensure_silver_table(
    contract: TableContract, lake_uri: str, storage_options: dict[str, str] | None = None
) -> DeltaTable:
    """The silver table of `contract`, created empty (`silver_schema`, the contract's partitioning) if missing.
    The only place silver apply creates a silver table, so an empty table and a first apply look the same."""
    return open_or_create(
        table_uri(lake_uri, SILVER, contract.name), silver_schema(contract), storage_options, contract.partition_by
    )


def apply_table(
    contract: TableContract,
    lake_uri: str,
    *,
    storage_options: dict[str, str] | None = None,
    policy: ApplyPolicy = ApplyPolicy(),
    on_range: Callable[[int, int], None] | None = None,
    until_version: int | None = None,
) -> ApplyReport:
    """Apply every bronze change of `contract`'s table not yet in silver (up to bronze version `until_version`
    if given). Safe to re-run at any point."""
    started = time.perf_counter()
    report = ApplyReport(table=contract.name)
    bronze_uri = table_uri(lake_uri, BRONZE, contract.name)
    silver_uri = table_uri(lake_uri, SILVER, contract.name)
    # Silver holds every contract table even before its first change (readers such as dbt's staging views fail on
    # a missing table), so the table is created whether or not bronze has anything yet.
    silver = ensure_silver_table(contract, lake_uri, storage_options)
    if not DeltaTable.is_deltatable(bronze_uri, storage_options):
        report.seconds = time.perf_counter() - started
        return report
    bronze = DeltaTable(bronze_uri, storage_options=storage_options)
    report.bronze_version = bronze.version()
    last = report.bronze_version if until_version is None else min(until_version, report.bronze_version)
    applied = _applied_version(silver, contract.name)
    report.applied_to = applied
    if applied is not None and applied > report.bronze_version:
        raise RuntimeError(
            f"silver {contract.name} records bronze version {applied} but bronze is only at "
            f"{report.bronze_version}: bronze was recreated. Rebuild silver: delete {silver_uri} (and its "
            f"tombstones) and run `lakehouse silver apply --table {contract.name}` again."
        )
    first = 0 if applied is None else applied + 1
    if first <= last:
        ranges = plan_ranges(
            rows_added_per_version(bronze.history()),
            first,
            last,
            max_rows=policy.max_rows_per_range,
            max_versions=policy.max_versions_per_range,
        )
        tombstones = Tombstones(contract, lake_uri, storage_options)
        key = _clustering_key(contract, silver_uri, storage_options)
        report.applied_from = first
        for start, end in ranges:
            _apply_range(contract, bronze, silver_uri, key, tombstones, start, end, storage_options, policy, report)
            report.applied_to = end
            trim_malloc()  # the range's changes and merge buffers are freed: reclustering then starts lower
            if key is not None:  # before the next range: its merges then stay within the budget
                keep_clustered(
                    silver_uri,
                    storage_options,
                    key,
                    max_group_rows=policy.max_target_rows_per_merge,
                    min_small_files=policy.compact_min_small_files,
                    max_commit_attempts=policy.max_commit_attempts,
                    report=report.maintenance,
                )
            if on_range:
                on_range(start, end)
        maintain(
            DeltaTable(silver_uri, storage_options=storage_options),
            tombstones,
            clustered=key is not None,
            min_small_files=policy.compact_min_small_files,
            target_file_size=policy.target_file_size,
            vacuum_retention=policy.vacuum_retention,
            tombstone_retention=policy.tombstone_retention,
            report=report.maintenance,
        )
    report.seconds = time.perf_counter() - started
    return report


def _arrow_schema(table: DeltaTable) -> pa.Schema:
    return pa.schema(table.schema().to_arrow())


def _clustering_key(contract: TableContract, uri: str, storage_options: dict[str, str] | None) -> str | None:
    return clustering_key(contract, _arrow_schema(DeltaTable(uri, storage_options=storage_options)))


def _applied_version(silver: DeltaTable, table: str) -> int | None:
    version = silver.transaction_version(app_id(table))
    return None if version is None else int(version)


def _apply_range(
    contract: TableContract,
    bronze: DeltaTable,
    silver_uri: str,
    key: str | None,
    tombstones: Tombstones,
    start: int,
    end: int,
    storage_options: dict[str, str] | None,
    policy: ApplyPolicy,
    report: ApplyReport,
) -> None:
    # Only the columns silver needs (the dedup key and batch ids are a large share of a bronze row).
    columns = [f.name for f in _arrow_schema(bronze) if f.name not in BRONZE_ONLY_COLUMNS]
    changes = read_changes(bronze, start, end, columns)
    report.ranges += 1
    report.changes_read += changes.num_rows
    changes = changes.drop_columns([c for c in CDF_COLUMNS if c in changes.column_names])
    latest = latest_per_key(changes, contract.primary_key)
    del changes  # bound memory: only the latest change per key stays alive during the merge
    latest, dropped = tombstones.drop_superseded(latest)
    report.stale_dropped += dropped
    # Tombstones first: a crash before the silver commit re-runs this range and records them again (idempotent).
    report.tombstones_recorded += tombstones.record(latest, policy.max_commit_attempts)
    source = _merge_source(latest)
    del latest
    parts = list(_split_by_group(source, key, silver_uri, storage_options, policy))
    for number, (key_range, rows) in enumerate(parts, 1):
        part = source if rows is None else source.take(rows)
        record = number == len(parts)  # progress goes with the range's last merge
        _merge(contract, silver_uri, storage_options, part, key, key_range, end, record, policy, report)
    if _applied_version(DeltaTable(silver_uri, storage_options=storage_options), contract.name) != end:
        # Nothing to merge, or the last merge changed no row (every change was stale) and so wrote no commit.
        _record_progress(silver_uri, contract.name, end, storage_options)


def _split_by_group(
    source: pa.Table, key: str | None, silver_uri: str, storage_options: dict[str, str] | None, policy: ApplyPolicy
) -> Iterator[tuple[KeyRange, pa.Array | None]]:
    """The source rows (indices; None = all) of each key-range group of silver that has changes."""
    if source.num_rows == 0:
        return
    if key is None:
        yield KeyRange(), None
        return
    silver = DeltaTable(silver_uri, storage_options=storage_options)
    groups = plan_groups(silver, key, policy.max_target_rows_per_merge)
    # An empty table (a first load) gets ranges of half the budget from the changes' own keys: each merge then
    # writes files of one range, so the table starts clustered instead of being sorted afterwards.
    ranges = [g.merge_range for g in groups] or even_ranges(source.column(key), policy.clustered_rows_per_file)
    yield from split_by_range(source.column(key), ranges)


def _merge(
    contract: TableContract,
    silver_uri: str,
    storage_options: dict[str, str] | None,
    source: pa.Table,
    key: str | None,
    key_range: KeyRange,
    end: int,
    record: bool,
    policy: ApplyPolicy,
    report: ApplyReport,
) -> None:
    """One merge of `source` (changes with keys in `key_range`) into silver; with `record`, the commit also
    records bronze version `end` as applied."""
    assignments = {c: f"s.{c}" for c in source.column_names if c != OP}
    newer = f"s.{POSITION} > t.{POSITION}"
    # The target side of the range lets delta-rs skip every file outside it (by the files' key statistics).
    in_range = key_range.predicate(key, "t") if key else ""
    predicate = " AND ".join(p for p in (key_predicate(contract.primary_key), in_range) if p)
    progress = [Transaction(app_id(contract.name), end)] if record else []
    attempts = 0

    def merge() -> None:
        nonlocal attempts
        attempts += 1
        silver = DeltaTable(silver_uri, storage_options=storage_options)  # a fresh snapshot on every attempt
        applied = _applied_version(silver, contract.name)
        if applied is not None and applied >= end:
            log.info("%s: bronze versions up to %d already applied (recorded %d)", contract.name, end, applied)
            return
        metrics = (
            silver.merge(
                # Streamed in modest batches: a few huge batches make the merge's working set much larger.
                source.to_reader(max_chunksize=MERGE_BATCH_ROWS),
                predicate=predicate,
                source_alias="s",
                target_alias="t",
                merge_schema=True,
                commit_properties=CommitProperties(app_transactions=progress),
            )
            .when_matched_delete(predicate=f"s.{OP} = '{DELETE}' AND {newer}")
            .when_matched_update(assignments, predicate=f"s.{OP} <> '{DELETE}' AND {newer}")
            .when_not_matched_insert(assignments, predicate=f"s.{OP} <> '{DELETE}'")
            .execute()
        )
        report.merges += 1
        report.inserted += int(metrics.get("num_target_rows_inserted", 0))
        report.updated += int(metrics.get("num_target_rows_updated", 0))
        report.deleted += int(metrics.get("num_target_rows_deleted", 0))

    with_commit_retry(merge, max_attempts=policy.max_commit_attempts)
    report.commit_retries += attempts - 1


def _record_progress(silver_uri: str, table: str, version: int, storage_options: dict[str, str] | None) -> None:
    silver = DeltaTable(silver_uri, storage_options=storage_options)
    write_deltalake(
        silver,
        pa.schema(silver.schema().to_arrow()).empty_table(),
        mode="append",
        commit_properties=CommitProperties(app_transactions=[Transaction(app_id(table), version)]),
    )


def _merge_source(latest: pa.Table) -> pa.Table:
    now = pa.array([datetime.now(UTC)], pa.timestamp("us", tz="UTC"))
    applied_at = pc.take(now, pa.array([0] * latest.num_rows, pa.int32())) if latest.num_rows else now.slice(0, 0)
    if OP not in latest.column_names:
        raise ValueError(f"bronze rows lack the {OP} column; is this a bronze change log?")
    return latest.append_column(APPLIED_AT, applied_at)
