from __future__ import annotations

import pyarrow as pa

from lakehouse.silver.changes import latest_per_key, normalise, plan_ranges, rows_added_per_version


def test_plan_ranges_respects_row_and_version_budgets() -> None:
    rows = {0: 3, 1: 3, 2: 10, 3: 1, 4: 1, 5: 1}
    assert plan_ranges(rows, 0, 5, max_rows=6, max_versions=10) == [(0, 1), (2, 2), (3, 5)]
    assert plan_ranges(rows, 3, 5, max_rows=100, max_versions=2) == [(3, 4), (5, 5)]
    assert plan_ranges(rows, 6, 5, max_rows=100, max_versions=2) == []
    assert plan_ranges({}, 0, 2, max_rows=1, max_versions=100) == [(0, 2)]  # unknown sizes: versions bound it


def test_rows_added_per_version_reads_delta_rs_metrics() -> None:
    history = [
        {"version": 2, "operation": "WRITE", "operationMetrics": {"num_added_rows": 7}},
        {"version": 1, "operation": "OPTIMIZE", "operationMetrics": {"numFilesAdded": 1}},
        {"version": 0, "operation": "CREATE TABLE"},
    ]
    assert rows_added_per_version(history) == {2: 7}


def test_latest_per_key_keeps_the_greatest_position_per_key() -> None:
    changes = pa.table(
        {
            "k1": ["a", "a", "b", "a", "b", "a"],
            "k2": [1, 1, 1, 2, 1, 1],
            "_source_position": ["03", "05", "01", "02", "01", "04"],
            "v": ["x", "latest", "dup", "only", "dup", "y"],
        }
    )
    latest = latest_per_key(changes, ("k1", "k2")).to_pylist()
    assert sorted((r["k1"], r["k2"], r["v"]) for r in latest) == [("a", 1, "latest"), ("a", 2, "only"), ("b", 1, "dup")]
    assert latest_per_key(changes.slice(0, 0), ("k1",)).num_rows == 0


def test_normalise_turns_view_types_into_plain_types() -> None:
    viewed = pa.table({"s": pa.array(["a"], pa.string_view()), "n": [1]})
    assert normalise(viewed).schema == pa.schema([("s", pa.string()), ("n", pa.int64())])
