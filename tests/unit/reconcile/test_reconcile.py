from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa

from lakehouse.contract import get_table
from lakehouse.reconcile import reconcile_tables

PRODUCTS = get_table("products")
TS = datetime(2026, 11, 1, tzinfo=UTC)


def product(pid: int, price: str = "9.99", brand: str | None = "acme") -> dict[str, object]:
    return {
        "product_id": pid,
        "sku": f"SKU{pid}",
        "name": f"p{pid}",
        "category": "c",
        "subcategory": None,
        "brand": brand,
        "price": Decimal(price),
        "cost": Decimal("1.00"),
        "is_active": True,
        "created_at": TS,
        "updated_at": TS,
    }


def table(rows: list[dict[str, object]], lineage: bool = False) -> pa.Table:
    t = pa.Table.from_pylist(rows, schema=PRODUCTS.arrow_schema())
    return t.append_column("_source_position", pa.array(["1"] * t.num_rows)) if lineage else t


def test_identical_states_reconcile_with_lineage_columns_ignored() -> None:
    rows = [product(1), product(2, brand=None)]
    result = reconcile_tables(PRODUCTS, table(rows), table(rows[::-1], lineage=True))
    assert result.ok and result.matching == 2 and result.expected_rows == result.actual_rows == 2


def test_missing_extra_and_differing_rows_are_counted_per_column() -> None:
    expected = table([product(1), product(2), product(3, brand=None)])
    actual = table([product(1), product(2, price="10.00"), product(3, brand="x"), product(4)])
    result = reconcile_tables(PRODUCTS, expected, actual)
    assert (result.matching, result.missing, result.extra, result.differing) == (1, 0, 1, 2)
    assert result.differing_columns == {"price": 1, "brand": 1}
    assert sorted(result.sample_differing_keys) == [(2,), (3,)]
    assert not result.ok


def test_missing_rows_and_duplicate_keys() -> None:
    result = reconcile_tables(PRODUCTS, table([product(1), product(2)]), table([product(1), product(1)]))
    assert result.missing == 1 and result.duplicate_keys == 1 and not result.ok


def test_an_empty_actual_state_counts_every_row_missing() -> None:
    result = reconcile_tables(PRODUCTS, table([product(1), product(2)]), table([]))
    assert result.missing == 2 and result.matching == 0 and not result.ok
