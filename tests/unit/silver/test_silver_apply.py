from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError

from lakehouse.cdc.bronze import ensure_bronze_table
from lakehouse.contract import get_table
from lakehouse.silver import ApplyPolicy, app_id, apply_table, ensure_silver_table, silver_schema
from lakehouse.silver.tombstones import tombstone_uri
from tests.unit.silver.bronze_log import EPOCH, PAIRS, THINGS, Change, append_changes, position


def thing(op: str, pos: int, thing_id: int, name: str = "x", price: str | None = None) -> Change:
    row = {"thing_id": thing_id, "name": name, "price": Decimal(price) if price else None, "updated_at": EPOCH}
    return Change(op, pos, row if op != "d" else {"thing_id": thing_id})


def silver_rows(lake: str, table: str = "things") -> dict[object, dict[str, object]]:
    rows = DeltaTable(f"{lake}/silver/{table}").to_pyarrow_table().to_pylist()
    return {r["thing_id"]: r for r in rows} if table == "things" else {(r["left_id"], r["right_id"]): r for r in rows}


def is_silver_things(table: DeltaTable) -> bool:
    """Whether `table` is the silver `things` table (not its bronze log or tombstones): for hooks on merges."""
    return table.table_uri.rstrip("/").endswith("silver/things")


@pytest.fixture
def lake(tmp_path: Path) -> str:
    return str(tmp_path / "lake")


def test_inserts_updates_and_deletes_fold_to_the_latest_state(lake: str) -> None:
    append_changes(lake, THINGS, [thing("c", 1, 1, "a", "1.50"), thing("c", 2, 2, "b"), thing("c", 3, 3, "c")])
    append_changes(lake, THINGS, [thing("u", 4, 1, "a2", "2.00"), thing("d", 5, 2), thing("u", 6, 1, "a3")])

    report = apply_table(THINGS, lake)

    rows = silver_rows(lake)
    assert sorted(rows) == [1, 3]
    assert rows[1]["name"] == "a3" and rows[1]["_source_position"] == position(6)
    assert report.changes_read == 6 and report.applied_to == 1
    assert DeltaTable(f"{lake}/silver/things").transaction_version(app_id("things")) == 1


def test_rerun_is_a_noop_and_adds_no_commit(lake: str) -> None:
    append_changes(lake, THINGS, [thing("c", 1, 1)])
    apply_table(THINGS, lake)
    version = DeltaTable(f"{lake}/silver/things").version()

    again = apply_table(THINGS, lake)

    assert again.noop and again.changes_read == 0
    assert DeltaTable(f"{lake}/silver/things").version() == version


def test_older_change_arriving_late_is_ignored(lake: str) -> None:
    append_changes(lake, THINGS, [thing("c", 1, 1, "v1"), thing("u", 5, 1, "v5")])
    apply_table(THINGS, lake)
    append_changes(lake, THINGS, [thing("u", 3, 1, "v3")])  # late: older than what silver holds
    apply_table(THINGS, lake)
    append_changes(lake, THINGS, [thing("u", 5, 1, "v5 redelivered")])  # duplicate position: not newer either
    apply_table(THINGS, lake)

    row = silver_rows(lake)[1]
    assert row["name"] == "v5" and row["_source_position"] == position(5)
    # Ranges with only stale changes still record progress: the next run reads nothing.
    assert DeltaTable(f"{lake}/silver/things").transaction_version(app_id("things")) == 2
    assert apply_table(THINGS, lake).noop


def test_older_update_after_a_delete_does_not_resurrect_and_reinsert_works(lake: str) -> None:
    append_changes(lake, THINGS, [thing("c", 1, 1, "v1"), thing("d", 4, 1)])
    apply_table(THINGS, lake)
    append_changes(lake, THINGS, [thing("u", 2, 1, "zombie")])  # redelivered older update
    report = apply_table(THINGS, lake)
    assert silver_rows(lake) == {} and report.stale_dropped == 1

    append_changes(lake, THINGS, [thing("c", 7, 1, "reborn")])
    apply_table(THINGS, lake)
    assert silver_rows(lake)[1]["name"] == "reborn"

    append_changes(lake, THINGS, [thing("u", 3, 1, "zombie again")])  # older than the delete and the re-insert
    apply_table(THINGS, lake)
    assert silver_rows(lake)[1]["name"] == "reborn"


def test_delete_arriving_before_the_insert_keeps_the_key_deleted(lake: str) -> None:
    append_changes(lake, THINGS, [thing("d", 9, 1)])
    apply_table(THINGS, lake)
    append_changes(lake, THINGS, [thing("c", 2, 1, "early insert")])
    apply_table(THINGS, lake)
    assert silver_rows(lake) == {}


def test_composite_keys(lake: str) -> None:
    def pair(op: str, pos: int, left: str, right: int, qty: int = 1) -> Change:
        return Change(op, pos, {"left_id": left, "right_id": right, "qty": qty, "updated_at": EPOCH})

    append_changes(lake, PAIRS, [pair("c", 1, "a", 1), pair("c", 2, "a", 2), pair("c", 3, "b", 1)])
    append_changes(lake, PAIRS, [pair("u", 4, "a", 1, 7), pair("d", 5, "a", 2)])
    apply_table(PAIRS, lake)
    rows = silver_rows(lake, "pairs")
    assert sorted(rows) == [("a", 1), ("b", 1)] and rows[("a", 1)]["qty"] == 7


def test_version_ranges_bound_each_merge_and_record_progress_per_range(lake: str) -> None:
    for i in range(7):
        append_changes(lake, THINGS, [thing("u" if i else "c", i + 1, 1, f"v{i}"), thing("c", 100 + i, 10 + i)])
    seen: list[tuple[int, int]] = []

    report = apply_table(
        THINGS,
        lake,
        policy=ApplyPolicy(max_rows_per_range=4, max_versions_per_range=10),
        on_range=lambda *r: seen.append(r),
    )

    assert seen == [(0, 1), (2, 3), (4, 5), (6, 6)] and report.ranges == 4
    assert silver_rows(lake)[1]["name"] == "v6" and len(silver_rows(lake)) == 8
    history = DeltaTable(f"{lake}/silver/things").history()
    merges = [h for h in history if h["operation"] == "MERGE"]
    assert len(merges) == 4


def test_new_source_column_reaches_silver(lake: str) -> None:
    append_changes(lake, THINGS, [thing("c", 1, 1, "old")])
    apply_table(THINGS, lake)
    colour = pa.field("colour", pa.string())
    new = Change("c", 2, {"thing_id": 2, "name": "new", "colour": "red", "updated_at": EPOCH})
    append_changes(lake, THINGS, [new], extra=(colour,))

    apply_table(THINGS, lake)

    rows = silver_rows(lake)
    assert rows[2]["colour"] == "red" and rows[1]["colour"] is None and rows[1]["name"] == "old"


def test_conflicting_concurrent_commit_is_retried(lake: str, monkeypatch: pytest.MonkeyPatch) -> None:
    append_changes(lake, THINGS, [thing("c", 1, 1, "a"), thing("c", 2, 2, "b")])
    apply_table(THINGS, lake)
    append_changes(lake, THINGS, [thing("u", 3, 1, "a3"), thing("u", 4, 2, "b4")])
    silver_uri = f"{lake}/silver/things"
    real_merge = DeltaTable.merge
    interfered: list[bool] = []

    def merge_after_a_concurrent_writer(self: DeltaTable, *args: object, **kwargs: object) -> object:
        if is_silver_things(self) and not interfered:
            # Another writer rewrites the files silver apply has just read: its merge must conflict.
            DeltaTable(silver_uri).update({"name": "'concurrent'"}, predicate="thing_id = 2")
            interfered.append(True)
        return real_merge(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(DeltaTable, "merge", merge_after_a_concurrent_writer)

    report = apply_table(THINGS, lake)

    assert interfered and report.commit_retries >= 1
    rows = silver_rows(lake)
    assert rows[1]["name"] == "a3" and rows[2]["name"] == "b4"
    assert DeltaTable(silver_uri).transaction_version(app_id("things")) == 1


def test_conflicts_beyond_the_attempt_budget_surface(lake: str, monkeypatch: pytest.MonkeyPatch) -> None:
    append_changes(lake, THINGS, [thing("c", 1, 1)])
    monkeypatch.setattr("lakehouse.silver.delta.time.sleep", lambda _: None)

    real_merge = DeltaTable.merge
    attempts = []

    def always_conflicting(self: DeltaTable, *args: object, **kwargs: object) -> object:
        if is_silver_things(self):
            attempts.append(1)
            raise CommitFailedError("simulated conflict")
        return real_merge(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(DeltaTable, "merge", always_conflicting)
    with pytest.raises(CommitFailedError):
        apply_table(THINGS, lake, policy=ApplyPolicy(max_commit_attempts=3))
    assert len(attempts) == 3


def test_silver_ahead_of_bronze_is_refused_with_the_fix(lake: str) -> None:
    append_changes(lake, THINGS, [thing("c", 1, 1)])
    apply_table(THINGS, lake)
    from deltalake import CommitProperties, Transaction

    empty = DeltaTable(f"{lake}/silver/things").to_pyarrow_table().slice(0, 0)
    write_deltalake(
        f"{lake}/silver/things",
        empty,
        mode="append",
        commit_properties=CommitProperties(app_transactions=[Transaction(app_id("things"), 99)]),
    )
    with pytest.raises(RuntimeError, match="bronze was recreated"):
        apply_table(THINGS, lake)


def test_small_files_of_a_clustered_table_are_reclustered_and_vacuumed(lake: str) -> None:
    policy = ApplyPolicy(max_versions_per_range=1, compact_min_small_files=4, vacuum_retention=timedelta(0))
    for i in range(5):
        append_changes(lake, THINGS, [thing("c", i + 1, i)])

    report = apply_table(THINGS, lake, policy=policy)

    # Five one-row inserts: after the fourth range the group holds four files and is rewritten as one.
    assert report.maintenance.reclustered_groups == 1 and report.maintenance.compacted_files == 4
    assert report.maintenance.vacuumed_files >= 4
    assert len(DeltaTable(f"{lake}/silver/things").file_uris()) == 2 and len(silver_rows(lake)) == 5


def test_small_files_of_a_partitioned_table_are_compacted_and_vacuumed(lake: str) -> None:
    partitioned = dataclasses.replace(THINGS, partition_by=("name",))  # partitioned: not clustered by key
    policy = ApplyPolicy(max_versions_per_range=1, compact_min_small_files=4, vacuum_retention=timedelta(0))
    for i in range(5):
        append_changes(lake, partitioned, [thing("c", i + 1, i)])

    report = apply_table(partitioned, lake, policy=policy)

    assert report.maintenance.reclustered_groups == 0
    assert report.maintenance.compacted_files >= 4 and report.maintenance.vacuumed_files >= 4
    silver = DeltaTable(f"{lake}/silver/things")
    assert len(silver.file_uris()) == 1 and len(silver_rows(lake)) == 5


def test_a_delete_whose_merge_crashed_after_its_tombstone_is_applied_on_the_rerun(
    lake: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    append_changes(lake, THINGS, [thing("c", 1, 1), thing("c", 2, 2)])
    apply_table(THINGS, lake)
    append_changes(lake, THINGS, [thing("d", 3, 1)])
    real_merge = DeltaTable.merge

    def crash_in_the_silver_merge(self: DeltaTable, *args: object, **kwargs: object) -> object:
        if is_silver_things(self):
            raise RuntimeError("simulated crash")
        return real_merge(self, *args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(DeltaTable, "merge", crash_in_the_silver_merge)
        with pytest.raises(RuntimeError):
            apply_table(THINGS, lake)
    assert DeltaTable(tombstone_uri(lake, "things")).to_pyarrow_table().num_rows == 1  # recorded before the crash

    report = apply_table(THINGS, lake)

    assert report.deleted == 1 and report.stale_dropped == 0 and sorted(silver_rows(lake)) == [2]


def test_old_tombstones_are_pruned_by_retention(lake: str) -> None:
    append_changes(lake, THINGS, [thing("c", 1, 1), thing("d", 2, 1)])
    apply_table(THINGS, lake)
    assert DeltaTable(tombstone_uri(lake, "things")).to_pyarrow_table().num_rows == 1
    append_changes(lake, THINGS, [thing("c", 3, 2)])

    report = apply_table(THINGS, lake, policy=ApplyPolicy(tombstone_retention=timedelta(0)))

    assert report.maintenance.tombstones_pruned == 1
    assert DeltaTable(tombstone_uri(lake, "things")).to_pyarrow_table().num_rows == 0


def delta_schema_json(uri: str, storage_options: dict[str, str] | None = None) -> str:
    """The Delta schema with nullability, as the log records it."""
    return DeltaTable(uri, storage_options=storage_options).schema().to_json()


def test_missing_bronze_creates_the_empty_silver_table_a_first_apply_would(lake: str, tmp_path: Path) -> None:
    report = apply_table(THINGS, lake)

    assert report.noop and report.bronze_version is None
    empty = DeltaTable(f"{lake}/silver/things")
    assert empty.to_pyarrow_table().num_rows == 0
    assert pa.schema(empty.schema().to_arrow()) == silver_schema(THINGS)
    assert empty.transaction_version(app_id("things")) is None  # no progress recorded: nothing was applied
    again = apply_table(THINGS, lake)
    assert again.noop and DeltaTable(f"{lake}/silver/things").version() == empty.version()  # no commit

    # Once changes arrive, the table is the one a first apply gives on a lake where bronze existed from the start
    # (with nullability: the first merge evolves the schema the same way in both).
    fresh = str(tmp_path / "fresh")
    for each in (lake, fresh):
        append_changes(each, THINGS, [thing("c", 1, 1)])
        apply_table(THINGS, each)
    assert delta_schema_json(f"{lake}/silver/things") == delta_schema_json(f"{fresh}/silver/things")
    assert silver_rows(lake)[1]["name"] == silver_rows(fresh)[1]["name"] == "x"


def test_first_apply_into_the_pre_created_empty_table_works_unchanged(lake: str) -> None:
    apply_table(THINGS, lake)  # no bronze yet: silver created empty
    append_changes(lake, THINGS, [thing("c", 1, 1, "a", "1.50"), thing("c", 2, 2, "b"), thing("d", 3, 2)])

    report = apply_table(THINGS, lake)

    rows = silver_rows(lake)
    assert sorted(rows) == [1] and rows[1]["name"] == "a" and rows[1]["price"] == Decimal("1.50")
    assert report.applied_from == 0 and report.applied_to == 0 and report.inserted == 1
    assert DeltaTable(f"{lake}/silver/things").transaction_version(app_id("things")) == 0


def test_partitioned_table_is_created_with_its_partitioning(lake: str) -> None:
    contract = get_table("clickstream_events")
    table = ensure_silver_table(contract, lake)
    assert table.metadata().partition_columns == list(contract.partition_by)
    assert pa.schema(table.schema().to_arrow()) == silver_schema(contract)


def test_existing_bronze_without_changes_still_creates_silver(lake: str) -> None:
    ensure_bronze_table(f"{lake}/bronze/things", THINGS)  # what a consumer does before its first append

    report = apply_table(THINGS, lake)

    assert report.bronze_version == 0 and report.changes_read == 0
    assert DeltaTable(f"{lake}/silver/things").to_pyarrow_table().num_rows == 0
    assert DeltaTable(f"{lake}/silver/things").transaction_version(app_id("things")) == 0


def test_older_delete_arriving_late_does_not_remove_a_newer_row(lake: str) -> None:
    append_changes(lake, THINGS, [thing("c", 1, 1, "v1"), thing("u", 5, 1, "v5")])
    apply_table(THINGS, lake)
    append_changes(lake, THINGS, [thing("d", 3, 1)])

    apply_table(THINGS, lake)

    assert silver_rows(lake)[1]["name"] == "v5"
    append_changes(lake, THINGS, [thing("u", 4, 1, "v4")])  # older than the row: the stale tombstone changes nothing
    apply_table(THINGS, lake)
    assert silver_rows(lake)[1]["name"] == "v5"


def test_a_range_applied_by_a_concurrent_run_is_not_merged_again(lake: str, monkeypatch: pytest.MonkeyPatch) -> None:
    append_changes(lake, THINGS, [thing("c", 1, 1, "a"), thing("c", 2, 2, "b")])
    silver_uri = f"{lake}/silver/things"
    real_merge = DeltaTable.merge
    state = {"raced": False}

    def merge_after_a_racing_run(self: DeltaTable, *args: object, **kwargs: object) -> object:
        if is_silver_things(self) and not state["raced"]:
            state["raced"] = True
            apply_table(THINGS, lake)  # another silver apply of the same table wins the race
        return real_merge(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(DeltaTable, "merge", merge_after_a_racing_run)

    report = apply_table(THINGS, lake)

    assert state["raced"] and report.commit_retries == 1 and report.inserted == 0
    merges = [h for h in DeltaTable(silver_uri).history() if h["operation"] == "MERGE"]
    assert len(merges) == 1  # the winner's; the loser saw the recorded version and stopped


def test_recorded_progress_is_honoured_after_a_conflict(lake: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The version check runs on every attempt: if the conflicting commit recorded this range as applied, the
    retry stops instead of applying it again and writing the same (or a lower) version."""
    append_changes(lake, THINGS, [thing("c", 1, 1, "a")])
    apply_table(THINGS, lake)
    append_changes(lake, THINGS, [thing("u", 2, 1, "b")])
    silver_uri = f"{lake}/silver/things"
    real_merge = DeltaTable.merge
    from deltalake import CommitProperties, Transaction

    def merge_after_another_writer_records_progress(self: DeltaTable, *args: object, **kwargs: object) -> object:
        if is_silver_things(self) and self.transaction_version(app_id("things")) == 0:
            DeltaTable(silver_uri).update(
                {"name": "'marked'"},
                predicate="thing_id = 1",
                commit_properties=CommitProperties(app_transactions=[Transaction(app_id("things"), 1)]),
            )
        return real_merge(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(DeltaTable, "merge", merge_after_another_writer_records_progress)

    report = apply_table(THINGS, lake)

    assert report.commit_retries == 1 and report.updated == 0
    assert silver_rows(lake)[1]["name"] == "marked"
