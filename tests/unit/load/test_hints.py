from __future__ import annotations

import pytest

from lakehouse.contract import LOGICAL_TYPES, TABLES, Column, SourceSystem, TableContract, get_table
from lakehouse.sources.hints import contract_columns, write_disposition


def test_every_logical_type_has_a_dlt_type() -> None:
    columns = tuple(Column(f"c_{i}", logical) for i, logical in enumerate(LOGICAL_TYPES))
    contract = TableContract(
        "t", SourceSystem.FILES, (Column("id", "int64", False), *columns), ("id",), "", event_time="id"
    )
    hints = contract_columns(contract)
    assert {h["data_type"] for h in hints.values()} == {
        "bigint",
        "text",
        "double",
        "bool",
        "date",
        "timestamp",
        "decimal",
    }


def test_contract_types_map_to_dlt_hints() -> None:
    hints = contract_columns(get_table("reviews"))
    assert list(hints) == get_table("reviews").column_names
    assert hints["review_id"] == {
        "name": "review_id",
        "data_type": "bigint",
        "precision": 64,
        "nullable": False,
        "primary_key": True,
    }
    assert hints["rating"]["precision"] == 32
    assert (hints["created_at"]["data_type"], hints["created_at"]["timezone"]) == ("timestamp", True)
    # non-key columns stay nullable so a type conflict can move a value into a variant column
    assert hints["order_item_id"]["nullable"] is True


def test_money_is_decimal_12_2() -> None:
    hints = contract_columns(get_table("campaigns"))
    assert (hints["budget"]["data_type"], hints["budget"]["precision"], hints["budget"]["scale"]) == ("decimal", 12, 2)


@pytest.mark.parametrize(
    "name", [t.name for t in TABLES.values() if t.source in (SourceSystem.FILES, SourceSystem.API)]
)
def test_batch_tables_merge_on_their_key(name: str) -> None:
    assert write_disposition(get_table(name)) == {"disposition": "merge", "strategy": "upsert"}
