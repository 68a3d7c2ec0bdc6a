"""Table contract -> dlt column hints and write disposition.

Only primary key columns are declared non-nullable: when a value conflicts with the contract type, dlt keeps it in
a variant column (`<column>__v_<type>`) and leaves the typed column null for that row, so a non-null hint there
would turn a recoverable type conflict into a failed load.
"""

from __future__ import annotations

from typing import Any

from lakehouse.contract import MONEY, TableContract

# logical contract type -> dlt column type hints
_DLT_TYPES: dict[str, dict[str, Any]] = {
    "string": {"data_type": "text"},
    "int32": {"data_type": "bigint", "precision": 32},
    "int64": {"data_type": "bigint", "precision": 64},
    "float64": {"data_type": "double"},
    "bool": {"data_type": "bool"},
    "date": {"data_type": "date"},
    "timestamp": {"data_type": "timestamp", "timezone": True, "precision": 6},
    MONEY: {"data_type": "decimal", "precision": 12, "scale": 2},
}


def contract_columns(contract: TableContract) -> dict[str, dict[str, Any]]:
    """dlt `columns=` hints for every contract column, in contract order."""
    columns: dict[str, dict[str, Any]] = {}
    for column in contract.columns:
        is_key = column.name in contract.primary_key
        columns[column.name] = {
            "name": column.name,
            **_DLT_TYPES[column.type],
            "nullable": not is_key,
            "primary_key": is_key,
        }
        if column.description:
            columns[column.name]["description"] = column.description
    return columns


def write_disposition(contract: TableContract) -> dict[str, str]:
    """Merge (upsert on the primary key) where the entity has one, else append. Explicit, never dlt's default."""
    if contract.primary_key:
        return {"disposition": "merge", "strategy": "upsert"}
    return {"disposition": "append"}
