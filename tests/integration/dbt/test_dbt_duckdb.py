"""dbt on DuckDB over silver Delta tables: the build, its tests, reconciliation, late data, unit tests, docs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from lakehouse.transform.runner import DbtProject
from tests.integration.dbt.conftest import Built, scalar
from tests.integration.dbt.silver_fixture import EXPECTED, merge_into_silver, rows, ts

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt")]


def test_build_runs_every_model_snapshot_and_data_test(built: Built) -> None:
    run = built.first_build
    counts = run.counts()
    assert run.success
    assert counts[("model", "success")] >= 35
    assert counts[("snapshot", "success")] == 2
    assert counts[("test", "pass")] >= 150
    assert not [n for n in run.nodes if n.status in ("fail", "error")]


def test_marts_hold_the_hand_checked_figures(built_project: DbtProject) -> None:
    assert scalar(built_project, "select sum(gross_revenue) from fct_monthly_revenue") == EXPECTED["gross_revenue"]
    assert scalar(built_project, "select sum(refunds) from fct_daily_revenue") == EXPECTED["refunds"]
    assert scalar(built_project, "select sum(paid_orders) from fct_monthly_revenue") == EXPECTED["paid_orders"]
    assert scalar(built_project, "select count(*) from dim_customer_lifetime_value") == EXPECTED["customers"]
    abandonment = scalar(
        built_project,
        "select sum(abandoned_carts) / (sum(abandoned_carts) + sum(converted_carts)) from fct_cart_abandonment_funnel",
    )
    assert abandonment == pytest.approx(EXPECTED["cart_abandonment_rate"])
    # Last touch: order 100 (customer 1) follows the email session s1 of campaign 1.
    assert scalar(built_project, "select attributed_revenue from fct_campaign_attribution where campaign_id = 1") == (
        Decimal("85.00")
    )
    assert scalar(built_project, "select reconciliation_status from int_payments_reconciled where order_id = 101") == (
        "balanced"
    )


def test_reconciliation_fails_when_a_mart_drifts_from_silver(built_project: DbtProject) -> None:
    with built_project.connect(read_only=False) as con:
        con.execute("update fct_orders set gross_revenue = gross_revenue + 1 where order_id = 100")
    try:
        run = built_project.invoke("test", "--select", "assert_fct_orders_revenue_matches_silver")
        assert not run.success
        assert [n.status for n in run.nodes] == ["fail"]
    finally:
        with built_project.connect(read_only=False) as con:
            con.execute("update fct_orders set gross_revenue = gross_revenue - 1 where order_id = 100")


def test_a_late_change_is_picked_up_by_the_next_incremental_run(built_project: DbtProject) -> None:
    lake = built_project.lake_uri
    by_id = {o["order_id"]: o for o in rows()["orders"]}
    # Order 104 gets paid, but the change carries a source time older than the newest order already loaded
    # (2026-03-09 12:00): late, yet inside the 3-day lookback window.
    merge_into_silver(lake, "orders", [{**by_id[104], "status": "paid", "updated_at": ts(8)}])
    merge_into_silver(
        lake,
        "payments",
        [{"payment_id": 6, "order_id": 104, "method": "card", "status": "captured", "amount": Decimal("100.00"),
          "attempt": 1, "failure_reason": None, "created_at": ts(8), "updated_at": ts(8)}],
    )  # fmt: skip
    # Order 100 changes too, but its source time is far older than the window: the incremental run misses it.
    merge_into_silver(lake, "orders", [{**by_id[100], "shipping_country": "AT", "updated_at": ts(1, 13)}])

    # Only the two facts, incrementally (the data tests ran in the module build).
    run = built_project.invoke("run", "--select", "fct_orders fct_payments")
    assert run.success, run.summary()
    assert scalar(built_project, "select gross_revenue from fct_orders where order_id = 104") == Decimal("100.00")
    assert scalar(built_project, "select count(*) from fct_payments where order_id = 104") == 1
    assert scalar(built_project, "select shipping_country from fct_orders where order_id = 100") == "DE"

    # A backfill: var lookback_since starts the window at a fixed time instead, which reaches the older change.
    backfill = built_project.invoke(
        "run", "--select", "fct_orders", "--vars", f"{{lookback_since: '{ts(1, 12).isoformat()}'}}"
    )
    assert backfill.success, backfill.summary()
    assert scalar(built_project, "select shipping_country from fct_orders where order_id = 100") == "AT"

    # Another change as old, without a backfill: only a full refresh picks it up.
    merge_into_silver(lake, "orders", [{**by_id[100], "shipping_country": "CH", "updated_at": ts(1, 14)}])
    refreshed = built_project.invoke("run", "--full-refresh", "--select", "fct_orders")
    assert refreshed.success, refreshed.summary()
    assert scalar(built_project, "select shipping_country from fct_orders where order_id = 100") == "CH"
    assert scalar(built_project, "select sum(gross_revenue) from fct_orders") == EXPECTED["gross_revenue"] + 100


def test_a_late_order_extends_the_incremental_calendar_on_the_next_run(built_project: DbtProject) -> None:
    by_id = {o["order_id"]: o for o in rows()["orders"]}
    first_day = scalar(built_project, "select min(date_day) from dim_dates")
    assert first_day == date(2026, 3, 1)
    # An order placed in February that only now reaches silver, with its last change inside the lookback window:
    # dim_dates reads only changed rows, so it must find the order through its change time.
    late = {**by_id[104], "order_id": 900, "status": "placed", "placed_at": datetime(2026, 2, 20, tzinfo=UTC),
            "updated_at": ts(8)}  # fmt: skip
    merge_into_silver(built_project.lake_uri, "orders", [late])

    run = built_project.invoke("run", "--select", "dim_dates")
    assert run.success, run.summary()
    assert scalar(built_project, "select min(date_day) from dim_dates") == date(2026, 2, 20)
    assert scalar(built_project, "select count(*) - count(distinct date_day) from dim_dates") == 0
    assert scalar(built_project, "select is_weekend from dim_dates where date_day = date '2026-02-21'") is True


def test_unchanged_views_are_kept_and_still_read_the_current_silver(built_project: DbtProject) -> None:
    run = built_project.invoke("run", "--select", "stg_shop__customers")
    assert run.success, run.summary()
    assert [n.message for n in run.nodes] == ["unchanged"]  # built by the module's build, same SQL
    customer = {**rows()["customers"][0], "segment": "regular", "updated_at": ts(9)}  # was vip
    merge_into_silver(built_project.lake_uri, "customers", [customer])
    assert scalar(built_project, "select segment from stg_shop__customers where customer_id = 1") == "regular"

    refreshed = built_project.invoke("run", "--select", "stg_shop__customers", "--full-refresh")
    assert refreshed.success, refreshed.summary()
    assert [n.message for n in refreshed.nodes] != ["unchanged"]
    assert scalar(built_project, "select segment from stg_shop__customers where customer_id = 1") == "regular"


def test_unit_tests_for_scd2_attribution_and_late_data_pass(built_project: DbtProject) -> None:
    run = built_project.invoke("test", "--resource-type", "unit_test")
    assert run.success, run.summary()
    assert {n.name for n in run.nodes} == {
        "scd2_versions_close_and_backdate_the_first_version",
        "attribution_prefers_latest_session_inside_the_window",
        "late_change_inside_the_lookback_window_is_merged",
    }


def test_docs_generate_writes_the_catalog(built_project: DbtProject) -> None:
    run = built_project.invoke("docs", "generate")
    assert run.success, run.summary()
    catalog = json.loads((built_project.target_path / "catalog.json").read_text())
    nodes = {node["metadata"]["name"] for node in catalog["nodes"].values()}
    assert {"fct_orders", "dim_customers", "fct_monthly_revenue"} <= nodes
    assert (built_project.target_path / "index.html").exists()
