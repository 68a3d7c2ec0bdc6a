"""Reconciliation: compare a table's current state (e.g. silver) with the expected state (e.g. the simulator's
ground-truth snapshot `<out>/snapshot/<table>.parquet`, a folder of parts or one file) row by row on the primary key.

Counts per table: rows matching, missing (expected, not present), extra (present, not expected), differing
(same key, some contract column differs; with the columns that differ). Only contract columns are compared:
lineage columns (`_source_position`, `_applied_at`, ...) and extra source columns are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lakehouse.contract import TableContract
from lakehouse.settings import SILVER, table_uri

_PRESENT = "__present"


@dataclass
class Reconciliation:
    table: str
    expected_rows: int = 0
    actual_rows: int = 0
    matching: int = 0
    missing: int = 0
    extra: int = 0
    differing: int = 0
    duplicate_keys: int = 0  # keys appearing more than once in the actual state
    differing_columns: dict[str, int] = field(default_factory=dict)
    sample_differing_keys: list[tuple[object, ...]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.missing == self.extra == self.differing == self.duplicate_keys == 0


def _conform(table: pa.Table, contract: TableContract) -> pa.Table:
    schema = pa.schema([f.with_nullable(True) for f in contract.arrow_schema()])
    columns = []
    for f in schema:
        if f.name not in table.column_names:
            raise ValueError(f"{contract.name}: column {f.name!r} is missing from the table being reconciled")
        columns.append(table.column(f.name).cast(f.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _same(left: pa.ChunkedArray, right: pa.ChunkedArray) -> pa.ChunkedArray:
    """Null-aware equality: two nulls are the same value."""
    equal = pc.fill_null(pc.equal(left, right), False)
    both_null = pc.and_(pc.is_null(left), pc.is_null(right))
    return pc.or_(equal, both_null)


def reconcile_tables(contract: TableContract, expected: pa.Table, actual: pa.Table, samples: int = 5) -> Reconciliation:
    expected, actual = _conform(expected, contract), _conform(actual, contract)
    pk = list(contract.primary_key)
    result = Reconciliation(contract.name, expected_rows=expected.num_rows, actual_rows=actual.num_rows)
    distinct = actual.group_by(pk).aggregate([]).num_rows
    result.duplicate_keys = actual.num_rows - distinct
    values = [c for c in contract.column_names if c not in pk]
    left = expected.append_column(_PRESENT + "_e", pa.array([True] * expected.num_rows, pa.bool_()))
    right = actual.append_column(_PRESENT + "_a", pa.array([True] * actual.num_rows, pa.bool_()))
    right = right.rename_columns([c if c in pk or c.startswith(_PRESENT) else f"{c}__a" for c in right.column_names])
    joined = left.join(right, keys=pk, join_type="full outer", use_threads=True)
    in_expected = pc.fill_null(joined.column(_PRESENT + "_e"), False)
    in_actual = pc.fill_null(joined.column(_PRESENT + "_a"), False)
    both = joined.filter(pc.and_(in_expected, in_actual))
    result.missing = int(pc.sum(pc.and_(in_expected, pc.invert(in_actual))).as_py() or 0)
    result.extra = int(pc.sum(pc.and_(in_actual, pc.invert(in_expected))).as_py() or 0)
    row_differs = pa.chunked_array([pa.array([False] * both.num_rows, pa.bool_())])
    for name in values:
        differs = pc.invert(_same(both.column(name), both.column(f"{name}__a")))
        count = int(pc.sum(differs).as_py() or 0)
        if count:
            result.differing_columns[name] = count
            row_differs = pc.or_(row_differs, differs)
    result.differing = int(pc.sum(row_differs).as_py() or 0)
    result.matching = both.num_rows - result.differing
    if result.differing:
        keys = both.filter(row_differs).select(pk).slice(0, samples).to_pylist()
        result.sample_differing_keys = [tuple(k[c] for c in pk) for k in keys]
    return result


def reconcile_silver(
    contracts: Iterable[TableContract],
    lake_uri: str,
    snapshot_dir: Path,
    *,
    storage_options: dict[str, str] | None = None,
) -> list[Reconciliation]:
    """Silver of each table against `<snapshot_dir>/<table>.parquet`. A missing silver table counts as empty."""
    from deltalake import DeltaTable

    results = []
    for contract in contracts:
        expected = pq.read_table(snapshot_dir / f"{contract.name}.parquet")
        uri = table_uri(lake_uri, SILVER, contract.name)
        if DeltaTable.is_deltatable(uri, storage_options):
            actual = pa.table(DeltaTable(uri, storage_options=storage_options).to_pyarrow_table())
        else:
            actual = contract.arrow_schema().empty_table()
        results.append(reconcile_tables(contract, expected, actual))
    return results
