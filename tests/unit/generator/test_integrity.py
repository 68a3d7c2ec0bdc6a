"""Referential integrity on every foreign key of the contract: in the snapshot and along the streams."""

from __future__ import annotations

import pytest

from lakehouse.contract import TABLES, SourceSystem, get_table
from tests.unit.generator import readback
from tests.unit.generator.conftest import Run

FOREIGN_KEYS = [(t.name, column, target) for t in TABLES.values() for column, target in t.foreign_keys.items()]


@pytest.mark.parametrize(("table", "column", "target"), FOREIGN_KEYS)
def test_snapshot_foreign_key(nov_dec_run: Run, table: str, column: str, target: str) -> None:
    target_table, _, target_column = target.partition(".")
    keys = set(nov_dec_run.snapshot(target_table).column(target_column))
    values = [v for v in nov_dec_run.snapshot(table).column(column) if v is not None]
    assert values, f"{table}.{column} is never set: the test would prove nothing"
    missing = {v for v in values if v not in keys}
    assert not missing, f"{table}.{column} -> {target}: {len(missing)} dangling, e.g. {sorted(missing)[:5]}"


def test_change_stream_references_only_rows_that_exist_at_that_point(nov_dec_run: Run, cdc_events: list[dict]) -> None:
    """A change may only reference OLTP rows inserted earlier in the stream and not deleted since."""
    live: dict[str, set] = {t: set() for t in TABLES if get_table(t).source == SourceSystem.OLTP}
    campaigns = set(nov_dec_run.snapshot("campaigns").column("campaign_id"))
    checked = 0
    for event in cdc_events:
        table = event["source"]["table"]
        contract = get_table(table)
        image = event["after"] or event["before"]
        (pk,) = contract.primary_key
        if event["op"] == "d":
            live[table].discard(image[pk])
            continue
        for column, target in contract.foreign_keys.items():
            value = image[column]
            target_table = target.partition(".")[0]
            if value is None:
                continue
            known = campaigns if target_table == "campaigns" else live[target_table]
            assert value in known, (
                f"{table}.{column}={value} before {target_table} has it (lsn {event['source']['lsn']})"
            )
            checked += 1
        live[table].add(image[pk])
    assert checked > 1000


def test_dynamodb_items_reference_earlier_items_and_real_oltp_rows(
    nov_dec_run: Run, dynamodb_writes: list[dict]
) -> None:
    oltp_keys = {
        "customers": set(nov_dec_run.snapshot("customers").column("customer_id")),
        "products": set(nov_dec_run.snapshot("products").column("product_id")),
        "orders": set(nov_dec_run.snapshot("orders").column("order_id")),
        "campaigns": set(nov_dec_run.snapshot("campaigns").column("campaign_id")),
    }
    seen: dict[str, set] = {"web_users": set(), "web_sessions": set(), "carts": set()}
    for write in dynamodb_writes:
        if write["op"] != "put":
            continue
        table = write["item"]["entity"]["S"]
        row = readback.decode_item(table, write["item"])
        for column, target in get_table(table).foreign_keys.items():
            target_table = target.partition(".")[0]
            if row[column] is None:
                continue
            known = oltp_keys.get(target_table) or seen[target_table]
            assert row[column] in known, f"{table}.{column}={row[column]} not (yet) in {target_table}"
        if table in seen:
            (pk,) = get_table(table).primary_key
            seen[table].add(row[pk])


def test_erased_customers_are_deleted_and_never_referenced(nov_dec_run: Run, cdc_events: list[dict]) -> None:
    erased = {e["before"]["customer_id"] for e in cdc_events if e["op"] == "d"}
    assert erased, "the run should contain erasure requests"
    assert not erased & set(nov_dec_run.snapshot("customers").column("customer_id"))
    for table in ("orders", "web_sessions", "carts", "reviews", "support_tickets", "web_users"):
        assert not erased & set(nov_dec_run.snapshot(table).column("customer_id")), table


def test_every_customer_web_user_maps_back_to_the_customer(nov_dec_run: Run) -> None:
    users = nov_dec_run.snapshot("web_users").rows
    linked = [u for u in users if u["customer_id"] is not None]
    assert linked and len(linked) < len(users), "both registered and anonymous visitors"
    assert all(u["web_user_id"] == f"wu-c{u['customer_id']}" for u in linked)
    sessions = nov_dec_run.snapshot("web_sessions").rows
    user_of = {u["web_user_id"]: u["customer_id"] for u in users}
    assert all(user_of[s["web_user_id"]] == s["customer_id"] for s in sessions)
