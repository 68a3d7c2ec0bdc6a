"""Silver: the current state of each CDC table, folded from its bronze change log by one writer per table.

Entry points: `apply_table(contract, lake_uri, ...)` (one table), `ensure_silver_table` (create it empty) and
`cdc_tables()` (the tables it owns).
"""

from lakehouse.silver.apply import (
    ApplyPolicy,
    ApplyReport,
    app_id,
    apply_table,
    cdc_tables,
    ensure_silver_table,
    silver_schema,
)

__all__ = [
    "ApplyPolicy",
    "ApplyReport",
    "app_id",
    "apply_table",
    "cdc_tables",
    "ensure_silver_table",
    "silver_schema",
]
