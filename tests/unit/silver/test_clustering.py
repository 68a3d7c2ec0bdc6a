"""Key-range clustering of silver (lakehouse/silver/clustering.py): planning groups from file statistics, splitting
changes by range, and silver apply's bounded merges and reclustering on real Delta tables."""

from __future__ import annotations

import itertools
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from lakehouse.silver import ApplyPolicy, app_id, apply_table
from lakehouse.silver.clustering import KeyRange, clustering_key, plan_groups, split_by_range
from lakehouse.silver.tombstones import tombstone_uri
from tests.unit.silver.bronze_log import EPOCH, PAIRS, THINGS, Change, append_changes
from tests.unit.silver.test_silver_apply import is_silver_things, silver_rows, thing


@pytest.fixture
def lake(tmp_path: Path) -> str:
    return str(tmp_path / "lake")


def _table_with_files(uri: str, key_ranges: list[range]) -> DeltaTable:
    for keys in key_ranges:  # one append per range: one file each
        write_deltalake(uri, pa.table({"id": pa.array(list(keys), pa.int64())}), mode="append")
    return DeltaTable(uri)


def test_overlapping_files_form_one_run_and_runs_pack_up_to_the_budget(tmp_path: Path) -> None:
    table = _table_with_files(str(tmp_path / "t"), [range(1, 11), range(5, 15), range(20, 30), range(30, 40)])

    groups = plan_groups(table, "id", max_rows=25)

    assert [(g.span.low, g.span.high, g.rows, g.files) for g in groups] == [(1, 14, 20, 2), (20, 39, 20, 2)]
    assert [g.merge_range for g in groups] == [KeyRange(None, 20), KeyRange(20, None)]


def test_a_run_larger_than_the_budget_stays_one_group(tmp_path: Path) -> None:
    table = _table_with_files(str(tmp_path / "t"), [range(0, 100), range(50, 150), range(200, 210)])

    groups = plan_groups(table, "id", max_rows=50)

    assert [(g.rows, g.files) for g in groups] == [(200, 2), (10, 1)]


def test_an_empty_table_has_no_groups(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    DeltaTable.create(uri, pa.schema([pa.field("id", pa.int64())]))

    assert plan_groups(DeltaTable(uri), "id", max_rows=10) == []


def test_split_by_range_gives_each_row_to_exactly_its_range() -> None:
    keys = pa.chunked_array([["m", "a", "z"], ["k", "b"]])
    ranges = [KeyRange(None, "c"), KeyRange("c", "l"), KeyRange("l", "n"), KeyRange("n", None)]

    parts = {r: sorted(rows.to_pylist()) for r, rows in split_by_range(keys, ranges)}

    assert parts == {ranges[0]: [1, 4], ranges[1]: [3], ranges[2]: [0], ranges[3]: [2]}


def test_ranges_without_rows_are_left_out() -> None:
    parts = list(split_by_range(pa.array([5, 6]), [KeyRange(None, 3), KeyRange(3, 9), KeyRange(9, None)]))

    assert [(r, rows.to_pylist()) for r, rows in parts] == [(KeyRange(3, 9), [0, 1])]


def test_range_predicates_quote_string_keys() -> None:
    assert KeyRange("o'brien", "p").predicate("name", "t") == "t.name >= 'o''brien' AND t.name < 'p'"
    assert KeyRange(None, 7).predicate("id") == "id < 7"
    assert KeyRange().predicate("id") == ""


def test_partitioned_tables_and_other_key_types_are_not_clustered() -> None:
    schema = pa.schema([pa.field("thing_id", pa.int64()), pa.field("ts", pa.timestamp("us"))])

    assert clustering_key(THINGS, schema) == "thing_id"
    assert clustering_key(THINGS.__class__(**{**THINGS.__dict__, "partition_by": ("name",)}), schema) is None


def _budget(rows: int) -> ApplyPolicy:
    return ApplyPolicy(max_target_rows_per_merge=rows, compact_min_small_files=1_000)


def _clustered_things(lake: str, rows: int = 10_000, budget: int = 2_000) -> list[KeyRange]:
    """`rows` things applied in one range into the empty table; their groups' ranges."""
    append_changes(lake, THINGS, [thing("c", i, i, f"v{i}") for i in range(1, rows + 1)])
    report = apply_table(THINGS, lake, policy=_budget(budget))
    # A first load is merged in ranges of half the budget taken from its own keys: clustered from the start.
    assert report.merges == rows // (budget // 2) and report.maintenance.reclustered_rows == 0
    silver = DeltaTable(f"{lake}/silver/things")
    runs = plan_groups(silver, "thing_id", 1)  # a budget of one row: every run of overlapping files alone
    assert len(runs) == rows // (budget // 2) and all(run.rows == budget // 2 for run in runs)
    groups = plan_groups(silver, "thing_id", budget)
    assert len(groups) == rows // budget and all(g.rows <= budget for g in groups)
    return [g.merge_range for g in groups]


def _group_of(ranges: list[KeyRange], key: int) -> KeyRange:
    return next(r for r in ranges if (r.low is None or r.low <= key) and (r.high is None or key < r.high))


def test_a_group_grown_past_twice_the_budget_is_reclustered_into_sorted_disjoint_files(lake: str) -> None:
    _clustered_things(lake)
    append_changes(lake, THINGS, [thing("c", 20_000 + i, 10_000 + i) for i in range(1, 5_001)])  # all above max

    report = apply_table(THINGS, lake, policy=_budget(2_000))

    # An insert-only merge adds a file and rewrites none: the new keys form a run of their own, then sorted.
    assert report.merges == 1 and report.maintenance.reclustered_rows == 5_000
    actions = pa.table(DeltaTable(f"{lake}/silver/things").get_add_actions(flatten=True)).to_pydict()
    reclustered = sorted(
        (low, high) for low, high in zip(actions["min.thing_id"], actions["max.thing_id"], strict=True) if high > 9_000
    )
    assert len(reclustered) >= 5 and all(high < low for (_, high), (low, _) in itertools.pairwise(reclustered))
    assert all(g.rows <= 2_000 for g in plan_groups(DeltaTable(f"{lake}/silver/things"), "thing_id", 2_000))
    assert len(silver_rows(lake)) == 15_000


def test_changes_are_merged_per_group_and_each_merge_rewrites_only_its_group(lake: str) -> None:
    ranges = _clustered_things(lake)
    keys = (5, 5_000, 9_999)
    append_changes(lake, THINGS, [thing("u", 20_000 + k, k, f"w{k}") for k in keys] + [thing("c", 30_000, 10_001)])

    report = apply_table(THINGS, lake, policy=_budget(2_000))

    assert report.merges == len({_group_of(ranges, k) for k in (*keys, 10_001)}) == 3
    rows = silver_rows(lake)
    assert len(rows) == 10_001 and [rows[k]["name"] for k in (1, *keys, 10_001)] == ["v1", "w5", "w5000", "w9999", "x"]
    merges = [h for h in DeltaTable(f"{lake}/silver/things").history() if h["operation"] == "MERGE"][:3]
    for merge in merges:  # each rewrote at most one group's rows
        metrics = merge["operationMetrics"]
        assert metrics["num_target_rows_copied"] + metrics["num_target_rows_updated"] <= 2_000
    assert DeltaTable(f"{lake}/silver/things").transaction_version(app_id("things")) == 1


def test_a_crash_between_the_merges_of_a_range_is_repaired_by_the_next_run(
    lake: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clustered_things(lake)
    append_changes(lake, THINGS, [thing("u", 20_000, 2, "new2"), thing("d", 20_001, 5_000), thing("u", 20_002, 9_999)])
    real_merge = DeltaTable.merge
    merged: list[int] = []

    def crash_on_the_second_merge(self: DeltaTable, *args: object, **kwargs: object) -> object:
        if is_silver_things(self):
            merged.append(1)
            if len(merged) == 2:
                raise RuntimeError("simulated crash")
        return real_merge(self, *args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(DeltaTable, "merge", crash_on_the_second_merge)
        with pytest.raises(RuntimeError, match="simulated crash"):
            apply_table(THINGS, lake, policy=_budget(2_000))
    silver = DeltaTable(f"{lake}/silver/things")
    assert silver.transaction_version(app_id("things")) == 0  # the range is not recorded as applied
    assert silver_rows(lake)[2]["name"] == "new2"  # but its first merge committed

    report = apply_table(THINGS, lake, policy=_budget(2_000))

    rows = silver_rows(lake)
    assert 5_000 not in rows and rows[2]["name"] == "new2" and rows[9_999]["name"] == "x" and len(rows) == 9_999
    assert report.updated == 1 and report.deleted == 1  # the committed merge's change was not applied twice
    assert DeltaTable(f"{lake}/silver/things").transaction_version(app_id("things")) == 1
    assert DeltaTable(tombstone_uri(lake, "things")).to_pyarrow_table().num_rows == 1


def test_string_keys_of_a_composite_key_are_clustered_too(lake: str) -> None:
    def pair(op: str, pos: int, left: str, right: int, qty: int = 1) -> Change:
        return Change(op, pos, {"left_id": left, "right_id": right, "qty": qty, "updated_at": EPOCH})

    lefts = [f"cart-{i:05d}" for i in range(3_000)]
    append_changes(lake, PAIRS, [pair("c", i, left, r) for i, left in enumerate(lefts) for r in (1, 2)])
    apply_table(PAIRS, lake, policy=_budget(2_000))
    append_changes(lake, PAIRS, [pair("u", 9_000, "cart-00003", 2, 7), pair("d", 9_001, "cart-02999", 1)])

    report = apply_table(PAIRS, lake, policy=_budget(2_000))

    rows = silver_rows(lake, "pairs")
    assert report.merges == 2 and len(rows) == 5_999
    assert rows[("cart-00003", 2)]["qty"] == 7 and ("cart-02999", 1) not in rows
