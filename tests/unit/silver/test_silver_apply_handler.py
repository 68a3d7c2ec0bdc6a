from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from lakehouse.contract import get_table
from lakehouse.runtime.context import LocalLambdaContext
from lakehouse.settings import LAKE_URI_ENV
from tests.unit.silver.bronze_log import Change, append_changes

PRODUCTS = get_table("products")
TS = datetime(2026, 11, 1, tzinfo=UTC)


def product(pid: int) -> dict[str, object]:
    money = {"price": Decimal("1.00"), "cost": Decimal("0.50")}
    times = {"created_at": TS, "updated_at": TS}
    names = {"sku": f"S{pid}", "name": "n", "category": "c", "subcategory": None, "brand": None}
    return {"product_id": pid, **names, **money, "is_active": True, **times}


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> object:
    monkeypatch.setenv(LAKE_URI_ENV, str(tmp_path / "lake"))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    from lambdas.silver_apply import handler as module

    module.settings.cache_clear()
    return module.handler


def test_handler_applies_the_requested_table(handler: object, tmp_path: Path) -> None:
    append_changes(str(tmp_path / "lake"), PRODUCTS, [Change("c", 1, product(1)), Change("c", 2, product(2))])

    result = handler({"table": "products"}, LocalLambdaContext("silver_apply"))  # type: ignore[operator]

    [report] = result["tables"]
    assert report["table"] == "products" and report["inserted"] == 2 and not report["noop"]
    again = handler({"table": "products"}, LocalLambdaContext("silver_apply"))  # type: ignore[operator]
    assert again["tables"][0]["noop"]


def test_handler_refuses_tables_it_does_not_own(handler: object) -> None:
    with pytest.raises(ValueError, match="not a CDC table"):
        handler({"table": "reviews"}, LocalLambdaContext("silver_apply"))  # type: ignore[operator]
