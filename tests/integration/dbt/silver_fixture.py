"""A tiny, hand-checked silver lake: every contract table as a Delta table, with the lineage columns silver apply
adds. Small enough that the expected mart figures can be worked out by hand (see EXPECTED)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from lakehouse.contract import TABLES, get_table

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def ts(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=UTC)


def money(value: str) -> Decimal:
    return Decimal(value)


def _customer(cid: int, segment: str, city: str, country: str) -> dict[str, Any]:
    return {
        "customer_id": cid,
        "email": f"c{cid}@example.com",
        "first_name": "A",
        "last_name": "B",
        "phone": None,
        "segment": segment,
        "street": "Main St 1",
        "city": city,
        "postal_code": "10000",
        "country": country,
        "created_at": datetime(2026, 1, cid, tzinfo=UTC),
        "updated_at": datetime(2026, 1, cid, tzinfo=UTC),
    }


def _product(pid: int, price: str, cost: str, category: str) -> dict[str, Any]:
    return {
        "product_id": pid,
        "sku": f"SKU-{pid}",
        "name": f"Product {pid}",
        "category": category,
        "subcategory": None,
        "brand": "Acme",
        "price": money(price),
        "cost": money(cost),
        "is_active": True,
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
    }


def _order(oid: int, cid: int, status: str, total: str, day: int, campaign: int | None, cart: str | None) -> dict:
    return {
        "order_id": oid,
        "customer_id": cid,
        "status": status,
        "order_total": money(total),
        "currency": "EUR",
        "shipping_country": "DE",
        "campaign_id": campaign,
        "cart_id": cart,
        "placed_at": ts(day),
        "updated_at": ts(day, 12),
    }


def _item(iid: int, oid: int, pid: int, qty: int, price: str, discount: str, day: int) -> dict[str, Any]:
    total = Decimal(price) * qty - Decimal(discount)
    return {
        "order_item_id": iid,
        "order_id": oid,
        "product_id": pid,
        "quantity": qty,
        "unit_price": money(price),
        "discount": money(discount),
        "line_total": total,
        "created_at": ts(day),
        "updated_at": ts(day),
    }


def _payment(
    pid: int, oid: int, method: str, status: str, amount: str, attempt: int, day: int, updated_day: int | None = None
) -> dict[str, Any]:
    """A payment; a refund changes the captured payment's status to refunded (on updated_day)."""
    return {
        "payment_id": pid,
        "order_id": oid,
        "method": method,
        "status": status,
        "amount": money(amount),
        "attempt": attempt,
        "failure_reason": "insufficient_funds" if status == "failed" else None,
        "created_at": ts(day, 11),
        "updated_at": ts(updated_day or day, 11),
    }


def _session(sid: str, user: str, cid: int | None, device: str, channel: str, campaign: int | None, day: int):
    return {
        "session_id": sid,
        "web_user_id": user,
        "customer_id": cid,
        "device": device,
        "channel": channel,
        "campaign_id": campaign,
        "started_at": ts(day, 9),
        "ended_at": ts(day, 10),
        "page_views": 3,
        "updated_at": ts(day, 10),
    }


def _event(eid: str, sid: str, user: str, kind: str, product: int | None, day: int) -> dict[str, Any]:
    return {
        "event_id": eid,
        "session_id": sid,
        "web_user_id": user,
        "event_type": kind,
        "product_id": product,
        "page_url": f"/p/{product or ''}",
        "event_ts": ts(day, 9),
        "event_date": date(2026, 3, day),
    }


def _cart(cart: str, sid: str, cid: int | None, status: str, value: str, oid: int | None, day: int) -> dict:
    return {
        "cart_id": cart,
        "session_id": sid,
        "customer_id": cid,
        "status": status,
        "item_count": 1,
        "cart_value": money(value),
        "order_id": oid,
        "created_at": ts(day, 9),
        "updated_at": ts(day, 10),
    }


def rows() -> dict[str, list[dict[str, Any]]]:
    return {
        "campaigns": [
            {
                "campaign_id": 1,
                "name": "Spring mail",
                "channel": "email",
                "start_date": date(2026, 2, 1),
                "end_date": date(2026, 3, 31),
                "budget": money("1000.00"),
                "discount_pct": 0.1,
                "updated_at": T0,
            },
            {
                "campaign_id": 2,
                "name": "Social push",
                "channel": "social",
                "start_date": date(2026, 2, 1),
                "end_date": date(2026, 3, 31),
                "budget": money("500.00"),
                "discount_pct": 0.0,
                "updated_at": T0,
            },
        ],
        "customers": [
            _customer(1, "vip", "Berlin", "DE"),
            _customer(2, "regular", "Paris", "FR"),
            _customer(3, "new", "Rome", "IT"),
        ],
        "products": [_product(10, "20.00", "8.00", "toys"), _product(11, "50.00", "30.00", "garden")],
        "orders": [
            _order(100, 1, "delivered", "85.00", 1, None, "c1"),
            _order(101, 2, "paid", "50.00", 5, 2, "c2"),
            _order(102, 1, "cancelled", "20.00", 6, None, None),
            _order(103, 3, "returned", "20.00", 7, None, None),
            _order(104, 2, "placed", "100.00", 9, None, None),
        ],
        "order_items": [
            _item(1000, 100, 10, 2, "20.00", "0.00", 1),
            _item(1001, 100, 11, 1, "50.00", "5.00", 1),
            _item(1002, 101, 11, 1, "50.00", "0.00", 5),
            _item(1003, 102, 10, 1, "20.00", "0.00", 6),
            _item(1004, 103, 10, 1, "20.00", "0.00", 7),
            _item(1005, 104, 11, 2, "50.00", "0.00", 9),
        ],
        "payments": [
            _payment(1, 100, "card", "captured", "85.00", 1, 1),
            _payment(2, 101, "card", "failed", "50.00", 1, 5),
            _payment(3, 101, "paypal", "captured", "50.00", 2, 5),
            _payment(4, 103, "klarna", "refunded", "20.00", 1, 7, updated_day=8),  # returned
            _payment(5, 102, "card", "refunded", "20.00", 1, 6, updated_day=7),  # cancelled after payment
        ],
        "shipments": [
            {
                "shipment_id": 1,
                "order_id": 100,
                "carrier": "DHL",
                "tracking_number": "T1",
                "status": "delivered",
                "shipped_at": ts(2),
                "delivered_at": ts(3),
                "created_at": ts(1),
                "updated_at": ts(3),
            },
            {
                "shipment_id": 2,
                "order_id": 103,
                "carrier": "UPS",
                "tracking_number": "T2",
                "status": "delivered",
                "shipped_at": ts(7),
                "delivered_at": ts(8),
                "created_at": ts(7),
                "updated_at": ts(8),
            },
        ],
        "returns": [
            {
                "return_id": 1,
                "order_id": 103,
                "order_item_id": 1004,
                "reason": "damaged",
                "status": "refunded",
                "refund_amount": money("20.00"),
                "created_at": ts(8),
                "updated_at": ts(8),
            },
        ],
        "inventory_movements": [
            {
                "movement_id": 1,
                "product_id": 10,
                "warehouse": "BER",
                "quantity": 100,
                "reason": "purchase_order",
                "order_id": None,
                "created_at": ts(1, 1),
                "updated_at": ts(1, 1),
            },
            {
                "movement_id": 2,
                "product_id": 10,
                "warehouse": "BER",
                "quantity": -2,
                "reason": "sale",
                "order_id": 100,
                "created_at": ts(1),
                "updated_at": ts(1),
            },
            {
                "movement_id": 3,
                "product_id": 11,
                "warehouse": "BER",
                "quantity": -1,
                "reason": "sale",
                "order_id": 100,
                "created_at": ts(1),
                "updated_at": ts(1),
            },
        ],
        "web_users": [
            {"web_user_id": "u1", "customer_id": 1, "first_seen_at": T0, "updated_at": T0},
            {"web_user_id": "u2", "customer_id": 2, "first_seen_at": T0, "updated_at": T0},
            {"web_user_id": "u3", "customer_id": None, "first_seen_at": T0, "updated_at": T0},
        ],
        "web_sessions": [
            _session("s1", "u1", 1, "desktop", "email", 1, 1),
            _session("s2", "u2", 2, "mobile", "social", 2, 5),
            _session("s3", "u3", None, "tablet", "organic", None, 6),
        ],
        "clickstream_events": [
            _event("e1", "s1", "u1", "product_view", 10, 1),
            _event("e2", "s1", "u1", "add_to_cart", 10, 1),
            _event("e3", "s1", "u1", "checkout_start", None, 1),
            _event("e4", "s1", "u1", "purchase", None, 1),
            _event("e5", "s2", "u2", "add_to_cart", 11, 5),
            _event("e6", "s3", "u3", "product_view", 10, 6),
            _event("e7", "s3", "u3", "add_to_cart", 10, 6),
        ],
        "carts": [
            _cart("c1", "s1", 1, "converted", "85.00", 100, 1),
            _cart("c2", "s2", 2, "converted", "50.00", 101, 5),
            _cart("c3", "s3", None, "abandoned", "20.00", None, 6),
        ],
        "cart_items": [
            {
                "cart_id": "c1",
                "product_id": 10,
                "quantity": 2,
                "unit_price": money("20.00"),
                "added_at": ts(1, 9),
                "updated_at": ts(1, 9),
            },
            {
                "cart_id": "c2",
                "product_id": 11,
                "quantity": 1,
                "unit_price": money("50.00"),
                "added_at": ts(5, 9),
                "updated_at": ts(5, 9),
            },
            {
                "cart_id": "c3",
                "product_id": 10,
                "quantity": 1,
                "unit_price": money("20.00"),
                "added_at": ts(6, 9),
                "updated_at": ts(6, 9),
            },
        ],
        "reviews": [
            {
                "review_id": 1,
                "order_item_id": 1000,
                "order_id": 100,
                "product_id": 10,
                "customer_id": 1,
                "rating": 5,
                "title": "Great",
                "body": None,
                "created_at": ts(4),
            },
            {
                "review_id": 2,
                "order_item_id": 1001,
                "order_id": 100,
                "product_id": 11,
                "customer_id": 1,
                "rating": 3,
                "title": None,
                "body": None,
                "created_at": ts(4),
            },
        ],
        "support_tickets": [
            {
                "ticket_id": 1,
                "customer_id": 3,
                "order_id": 103,
                "channel": "email",
                "category": "returns",
                "priority": "normal",
                "status": "resolved",
                "subject": "Broken",
                "created_at": ts(8),
                "resolved_at": ts(9),
            },
        ],
        "product_images": [
            {
                "image_id": "i1",
                "product_id": 10,
                "url": "s3://media/i1.jpg",
                "width": 800,
                "height": 600,
                "format": "jpeg",
                "size_bytes": 12345,
                "alt_text": None,
                "uploaded_at": T0,
            },
        ],
    }


# Figures the marts must produce from rows(), worked out by hand.
EXPECTED = {
    "gross_revenue": Decimal("155.00"),  # paid orders 100 (85), 101 (50), 103 (20, later returned)
    "refunds": Decimal("20.00"),  # of paid orders: 103's return (102's refund undoes a cancelled order)
    "paid_orders": 3,
    "orders": 5,
    "customers": 3,
    "cart_abandonment_rate": 1 / 3,  # c3 abandoned; c1, c2 converted
}


def silver_table(name: str, table_rows: list[dict[str, Any]], applied_at: datetime = T0) -> pa.Table:
    """Rows of one contract table as silver holds them (contract columns + lineage columns)."""
    contract = get_table(name)
    table = pa.Table.from_pylist(table_rows, schema=contract.arrow_schema())
    n = table.num_rows
    tz = pa.timestamp("us", tz="UTC")
    event_times = table.column(contract.event_time).cast(tz)
    return (
        table.append_column("_source_position", pa.array([f"{i + 1:040d}" for i in range(n)], pa.string()))
        .append_column("_source_ts", event_times)
        .append_column("_applied_at", pa.array([applied_at] * n, tz))
    )


def write_silver(lake: str, data: dict[str, list[dict[str, Any]]] | None = None) -> None:
    from deltalake import write_deltalake

    data = data or rows()
    for name in TABLES:
        write_deltalake(f"{lake}/silver/{name}", silver_table(name, data[name]), mode="overwrite")


def merge_into_silver(lake: str, name: str, changed: list[dict[str, Any]]) -> None:
    """Apply changed rows to a silver table by primary key, as silver apply does."""
    from deltalake import DeltaTable

    contract = get_table(name)
    predicate = " and ".join(f"t.{k} = s.{k}" for k in contract.primary_key)
    (
        DeltaTable(f"{lake}/silver/{name}")
        .merge(silver_table(name, changed, applied_at=datetime.now(UTC)), predicate, source_alias="s", target_alias="t")
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute()
    )


def delete_from_silver(lake: str, name: str, predicate: str) -> None:
    """Delete rows from a silver table (e.g. an erasure request), as silver apply does for a CDC delete."""
    from deltalake import DeltaTable

    DeltaTable(f"{lake}/silver/{name}").delete(predicate)
