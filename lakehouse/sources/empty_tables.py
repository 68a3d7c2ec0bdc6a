"""A dlt source that creates tables without rows, so silver holds every contract table before its first data.

It is run through the SAME pipeline (name, destination, dataset) and under the SAME source name as the real source,
so dlt itself creates the Delta table: its stored schema and state know the table, and the real source's next load
merges into it like into any table it loaded before (schema, `_dlt_*` columns and incremental state included).
A table created by hand would have to match dlt's column types and nullability exactly and would be unknown to
dlt's schema; letting dlt create it avoids both.

How: each resource yields `dlt.mark.materialize_table_schema()`, dlt's marker for "create this table from its
hints even though it has no rows"; the normalizer then adds its own columns (`_dlt_load_id`, `_dlt_id`) and the
load writes an empty Delta table with the full schema.

Why `append` here while the real resources `merge` (upsert): in dlt 1.31 the normalizer derives the columns of a
materialized table by normalizing one empty row, and for an upsert table the row id is a hash of the primary key,
which the empty row lacks (KeyError on the key column). With `append` the row id is random, the columns are the
same (`_dlt_id` text, unique, not null), and the real resource's hints (merge, upsert on the key) replace the
table's write disposition in the stored schema at its first load (tests/unit/load/test_empty_tables.py checks
that the first load into a pre-created table merges on the key and that a second run is a no-op).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from lakehouse.contract import TableContract

ColumnHints = Callable[[TableContract], dict[str, dict[str, Any]]]  # contract -> dlt `columns=` hints


def empty_tables(source_name: str, contracts: Sequence[TableContract], columns: ColumnHints) -> Any:
    """A dlt source named `source_name` with one resource per contract that creates the table, with the
    columns `columns(contract)` gives, as an empty Delta table."""
    import dlt

    def resource(contract: TableContract) -> Any:
        hints: Any = columns(contract)

        @dlt.resource(
            name=contract.name,
            primary_key=list(contract.primary_key),
            columns=hints,
            write_disposition="append",  # see the module docstring
            table_format="delta",
        )
        def materialize() -> Iterator[Any]:
            yield dlt.mark.materialize_table_schema()

        return materialize

    def tables() -> list[Any]:
        return [resource(contract) for contract in contracts]

    return dlt.source(tables, name=source_name)()
