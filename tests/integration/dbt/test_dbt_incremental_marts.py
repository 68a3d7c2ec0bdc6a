"""The incremental dimensions and marts beyond the facts (dim_customers, dim_products, dim_customer_lifetime_value,
int_orders_attributed, the period marts), and fct_sessions: changes arriving after a run are picked up by the next
one, late ones included, and the result equals a full rebuild."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from lakehouse.transform.runner import DbtProject
from tests.integration.dbt.conftest import scalar
from tests.integration.dbt.silver_fixture import delete_from_silver, merge_into_silver, rows, ts

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt")]

# What the scheduled job runs (and the benchmark measures): every model and snapshot, incremental where configured.
HOURLY = ("build", "--resource-type", "model", "--resource-type", "snapshot")
INCREMENTAL_MARTS = (
    "dim_customers",
    "dim_customer_lifetime_value",
    "int_orders_attributed",
    "fct_campaign_attribution",
    "fct_sessions",
    # period marts: recompute the days (months) from the first one a fact loaded a row for since their last run
    "fct_daily_revenue",
    "fct_payment_failure_rates",
    "fct_average_order_value",
    "fct_cart_abandonment_funnel",
    "dim_customer_rfm",  # ranks dim_customer_lifetime_value
)


def contents(project: DbtProject, model: str) -> list[tuple[object, ...]]:
    """Every row of a model without its load stamp, in a stable order."""
    with project.connect() as con:
        columns = [c for c in con.sql(f"select * from {model} limit 0").columns if c != "loaded_at"]
        return sorted(con.sql(f"select {', '.join(columns)} from {model}").fetchall(), key=repr)


def snapshot_history(project: DbtProject, customer_id: int) -> list[tuple[object, object]]:
    """A customer's versions in snap_customers: (dbt_valid_from, dbt_valid_to), oldest first."""
    with project.connect() as con:
        return con.sql(
            f"select dbt_valid_from, dbt_valid_to from snap_customers where customer_id = {customer_id} order by 1"
        ).fetchall()


def hourly_run(project: DbtProject) -> None:
    run = project.invoke(*HOURLY)
    assert run.success, run.summary() + "".join(f"\n{n.name}: {n.message}" for n in run.failed)


def test_changes_after_a_run_reach_the_incremental_marts_and_match_a_full_rebuild(built_project: DbtProject) -> None:
    lake = built_project.lake_uri
    data = rows()
    customers = {c["customer_id"]: c for c in data["customers"]}
    orders = {o["order_id"]: o for o in data["orders"]}

    # A new customer; customer 3 erased; a new paid order of customer 1 (40.00); a campaign session of customer 2
    # the day before order 104, which becomes that order's last touch although the order itself did not change.
    new_customer = {**customers[3], "customer_id": 4, "city": "Oslo", "created_at": ts(9), "updated_at": ts(9)}
    new_order = {**orders[100], "order_id": 105, "status": "paid", "order_total": Decimal("40.00"), "cart_id": None}
    new_order |= {"placed_at": ts(9, 11), "updated_at": ts(9, 13)}
    new_item = {**data["order_items"][0], "order_item_id": 1006, "order_id": 105, "created_at": ts(9, 11)}
    new_payment = {**data["payments"][0], "payment_id": 7, "order_id": 105, "amount": Decimal("40.00")}
    session = {**data["web_sessions"][1], "session_id": "s4", "campaign_id": 1, "started_at": ts(8, 9)}
    merge_into_silver(lake, "customers", [new_customer])
    delete_from_silver(lake, "customers", "customer_id = 3")
    merge_into_silver(lake, "orders", [new_order])
    merge_into_silver(lake, "order_items", [{**new_item, "updated_at": ts(9, 11)}])
    merge_into_silver(lake, "payments", [{**new_payment, "created_at": ts(9, 11), "updated_at": ts(9, 11)}])
    merge_into_silver(lake, "web_sessions", [{**session, "ended_at": ts(8, 10), "updated_at": ts(8, 10)}])
    # The new session's event and abandoned cart, and a late event of session s2 (started on day 5): fct_sessions
    # rolls s2 up again from all its events, including the one in an older clickstream partition.
    event = data["clickstream_events"][4]  # e5, s2's add_to_cart on day 5
    new_event = {**event, "event_id": "e8", "session_id": "s4", "event_ts": ts(8, 9), "event_date": ts(8).date()}
    late_event = {**event, "event_id": "e9", "event_type": "checkout_start", "event_ts": ts(8, 9)}
    merge_into_silver(lake, "clickstream_events", [new_event, {**late_event, "event_date": ts(8).date()}])
    cart = {**data["carts"][2], "cart_id": "c4", "session_id": "s4", "customer_id": 2, "created_at": ts(8, 9)}
    merge_into_silver(lake, "carts", [{**cart, "updated_at": ts(8, 10)}])
    hourly_run(built_project)
    assert scalar(built_project, "select events from fct_sessions where session_id = 's2'") == 2
    assert scalar(built_project, "select abandoned_carts from fct_sessions where session_id = 's4'") == 1

    # The snapshot (its DuckDB staging table is the project's, macros/snapshots.sql): a new customer's first
    # version, an erased customer's version closed.
    assert snapshot_history(built_project, 4) == [(ts(9), None)]
    [(_, erased_at)] = snapshot_history(built_project, 3)
    assert erased_at is not None
    assert scalar(built_project, "select segment from dim_customers where customer_id = 4 and is_current") == "new"
    assert scalar(built_project, "select is_deleted from dim_customers where customer_id = 3") is True
    assert scalar(built_project, "select count(*) from dim_customer_lifetime_value where customer_id = 3") == 0
    assert scalar(built_project, "select paid_orders from dim_customer_lifetime_value where customer_id = 4") == 0
    assert scalar(built_project, "select lifetime_value from dim_customer_lifetime_value where customer_id = 1") == (
        Decimal("125.00")  # order 100 (85.00) and the new order 105 (40.00)
    )
    attribution = "select attributed_campaign_id, touch_session_id from int_orders_attributed where order_id = 104"
    with built_project.connect() as con:
        assert con.sql(attribution).fetchone() == (1, "s4")
    day_9 = f"date_day = date '{ts(9).date()}'"
    assert scalar(built_project, f"select gross_revenue from fct_daily_revenue where {day_9}") == Decimal("40.00")
    assert (
        scalar(
            built_project,
            f"select sessions from fct_cart_abandonment_funnel where session_date = date '{ts(8).date()}'",
        )
        == 1
    )

    # A late change: customer 2's segment changed at 2026-01-02 12:00, two months before the dimension's newest
    # version (customer 4, 2026-03-09), far outside any lookback window. The snapshot records it as a version; the
    # dimension finds it by comparing versions, and the lifetime value follows the dimension's load stamp.
    late = {**customers[2], "segment": "vip", "updated_at": datetime(2026, 1, 2, 12, tzinfo=UTC)}
    merge_into_silver(lake, "customers", [late])
    hourly_run(built_project)
    assert scalar(built_project, "select count(*) from dim_customers where customer_id = 2") == 2
    changed_at = datetime(2026, 1, 2, 12, tzinfo=UTC)
    assert snapshot_history(built_project, 2) == [(datetime(2026, 1, 2, tzinfo=UTC), changed_at), (changed_at, None)]
    assert scalar(built_project, "select count(*) - count(distinct dbt_scd_id) from snap_customers") == 0
    assert scalar(built_project, "select segment from dim_customer_lifetime_value where customer_id = 2") == "vip"

    checks = built_project.invoke(
        "test", "--select", *INCREMENTAL_MARTS, "assert_customer_lifetime_value_matches_fct_orders",
        "assert_row_counts_match_silver", "--exclude-resource-type", "unit_test",
    )  # fmt: skip
    assert checks.success, checks.summary() + "".join(f"\n{n.name}: {n.message}" for n in checks.failed)

    incremental = {model: contents(built_project, model) for model in INCREMENTAL_MARTS}
    rebuilt = built_project.invoke("run", "--full-refresh", "--select", *INCREMENTAL_MARTS)
    assert rebuilt.success, rebuilt.summary()
    assert {model: contents(built_project, model) for model in INCREMENTAL_MARTS} == incremental


def test_reconciliation_catches_a_customer_the_lifetime_value_missed(built_project: DbtProject) -> None:
    with built_project.connect(read_only=False) as con:
        con.execute("update dim_customer_lifetime_value set lifetime_value = lifetime_value + 1 where customer_id = 1")
    try:
        run = built_project.invoke("test", "--select", "assert_customer_lifetime_value_matches_fct_orders")
        assert [n.status for n in run.nodes] == ["fail"]
    finally:
        with built_project.connect(read_only=False) as con:
            con.execute(
                "update dim_customer_lifetime_value set lifetime_value = lifetime_value - 1 where customer_id = 1"
            )


def test_the_customer_history_holds_no_personal_data(built_project: DbtProject) -> None:
    with built_project.connect() as con:
        columns = set(con.sql("select * from snap_customers limit 0").columns)
    assert {"segment", "city", "country", "dbt_valid_from"} <= columns
    assert not columns & {"email", "first_name", "last_name", "phone", "street"}


def test_a_lifetime_value_table_built_before_load_stamps_is_recomputed_once(built_project: DbtProject) -> None:
    # As left by an earlier version of the project: the table exists, without loaded_at.
    with built_project.connect(read_only=False) as con:
        con.execute("alter table dim_customer_lifetime_value drop column loaded_at")
    run = built_project.invoke("run", "--select", "dim_customer_lifetime_value")
    assert run.success, run.summary()
    assert scalar(built_project, "select count(*) from dim_customer_lifetime_value where loaded_at is null") == 0
    checks = built_project.invoke("test", "--select", "assert_customer_lifetime_value_matches_fct_orders")
    assert checks.success, checks.summary()
