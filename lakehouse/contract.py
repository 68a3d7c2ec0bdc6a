"""The table contract: every source table of the shop, declared once.

The simulator, the CDC decoders, the Delta writers, the Glue registration and the dbt sources all read this
module. Adding a source table means adding one `TableContract` here (and a staging model in dbt).

Column types are a small logical vocabulary (see `LOGICAL_TYPES`) mapped to Arrow by `arrow_type`.
Wire encodings per source system are documented in docs/source-formats.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pyarrow as pa


class SourceSystem(StrEnum):
    OLTP = "oltp"  # the orders database: Debezium change events on Kinesis
    DYNAMODB = "dynamodb"  # user behaviour: DynamoDB Streams
    FILES = "files"  # gzipped JSONL landing files in date partitions
    API = "api"  # the simulator's REST API, pulled in batches


MONEY = "decimal(12,2)"
LOGICAL_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    MONEY: pa.decimal128(12, 2),
}


def arrow_type(logical: str) -> pa.DataType:
    try:
        return LOGICAL_TYPES[logical]
    except KeyError:
        raise ValueError(f"unknown logical type {logical!r}; use one of {sorted(LOGICAL_TYPES)}") from None


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        arrow_type(self.type)  # fail at import time on a typo

    @property
    def arrow_type(self) -> pa.DataType:
        return arrow_type(self.type)


@dataclass(frozen=True)
class TableContract:
    name: str
    source: SourceSystem
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    description: str
    partition_by: tuple[str, ...] = ()
    # The column that orders versions of a row in business time (used for incremental loads and lookbacks).
    event_time: str = "updated_at"
    foreign_keys: dict[str, str] = field(default_factory=dict)  # column -> "table.column"

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate column names")
        for key in (*self.primary_key, *self.partition_by, self.event_time, *self.foreign_keys):
            if key not in names:
                raise ValueError(f"{self.name}: {key!r} is not a column")
        for pk in self.primary_key:
            if self.column(pk).nullable:
                raise ValueError(f"{self.name}: primary key column {pk!r} must be non-nullable")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=c.nullable) for c in self.columns])


def _c(name: str, type_: str, nullable: bool = True, description: str = "") -> Column:
    return Column(name, type_, nullable, description)


def _pk(name: str, type_: str = "int64") -> Column:
    return Column(name, type_, nullable=False)


_TABLES: tuple[TableContract, ...] = (
    # ---------------------------------------------------------------- OLTP (orders system, Debezium CDC)
    TableContract(
        name="customers",
        source=SourceSystem.OLTP,
        description="Shop customers; address and segment change over time; erasure requests delete the row.",
        columns=(
            _pk("customer_id"),
            _c("email", "string", False),
            _c("first_name", "string"),
            _c("last_name", "string"),
            _c("phone", "string"),
            _c("segment", "string", False, "new | regular | vip | bargain_hunter | dormant"),
            _c("street", "string"),
            _c("city", "string"),
            _c("postal_code", "string"),
            _c("country", "string", False, "ISO 3166-1 alpha-2"),
            _c("created_at", "timestamp", False),
            _c("updated_at", "timestamp", False),
        ),
        primary_key=("customer_id",),
    ),
    TableContract(
        name="products",
        source=SourceSystem.OLTP,
        description="The catalog; price and category change over time.",
        columns=(
            _pk("product_id"),
            _c("sku", "string", False),
            _c("name", "string", False),
            _c("category", "string", False),
            _c("subcategory", "string"),
            _c("brand", "string"),
            _c("price", MONEY, False),
            _c("cost", MONEY, False),
            _c("is_active", "bool", False),
            _c("created_at", "timestamp", False),
            _c("updated_at", "timestamp", False),
        ),
        primary_key=("product_id",),
    ),
    TableContract(
        name="inventory_movements",
        source=SourceSystem.OLTP,
        description="Stock in and out per product and warehouse (signed quantity).",
        columns=(
            _pk("movement_id"),
            _c("product_id", "int64", False),
            _c("warehouse", "string", False),
            _c("quantity", "int32", False, "positive = stock in, negative = stock out"),
            _c("reason", "string", False, "purchase_order | sale | return | adjustment"),
            _c("order_id", "int64"),
            _c("created_at", "timestamp", False),
            _c("updated_at", "timestamp", False),
        ),
        primary_key=("movement_id",),
        foreign_keys={"product_id": "products.product_id", "order_id": "orders.order_id"},
    ),
    TableContract(
        name="orders",
        source=SourceSystem.OLTP,
        description="One row per order; status moves placed -> paid -> shipped -> delivered (or cancelled/returned).",
        columns=(
            _pk("order_id"),
            _c("customer_id", "int64", False),
            _c("status", "string", False, "placed | paid | shipped | delivered | cancelled | returned"),
            _c("order_total", MONEY, False, "sum of order_items.line_total"),
            _c("currency", "string", False),
            _c("shipping_country", "string", False),
            _c("campaign_id", "int64"),
            _c("cart_id", "string"),
            _c("placed_at", "timestamp", False),
            _c("updated_at", "timestamp", False),
        ),
        primary_key=("order_id",),
        foreign_keys={"customer_id": "customers.customer_id", "campaign_id": "campaigns.campaign_id"},
    ),
    TableContract(
        name="order_items",
        source=SourceSystem.OLTP,
        description="Lines of an order; committed in the same transaction as the order.",
        columns=(
            _pk("order_item_id"),
            _c("order_id", "int64", False),
            _c("product_id", "int64", False),
            _c("quantity", "int32", False),
            _c("unit_price", MONEY, False),
            _c("discount", MONEY, False),
            _c("line_total", MONEY, False, "quantity * unit_price - discount"),
            _c("created_at", "timestamp", False),
            _c("updated_at", "timestamp", False),
        ),
        primary_key=("order_item_id",),
        foreign_keys={"order_id": "orders.order_id", "product_id": "products.product_id"},
    ),
    TableContract(
        name="payments",
        source=SourceSystem.OLTP,
        description="Payment attempts; failed attempts are retried; refunds follow returns and cancellations.",
        columns=(
            _pk("payment_id"),
            _c("order_id", "int64", False),
            _c("method", "string", False, "card | paypal | klarna | gift_card"),
            _c("status", "string", False, "authorized | captured | failed | refunded"),
            _c("amount", MONEY, False),
            _c("attempt", "int32", False),
            _c("failure_reason", "string"),
            _c("created_at", "timestamp", False),
            _c("updated_at", "timestamp", False),
        ),
        primary_key=("payment_id",),
        foreign_keys={"order_id": "orders.order_id"},
    ),
    TableContract(
        name="shipments",
        source=SourceSystem.OLTP,
        description="Created after payment; shipped and delivered later.",
        columns=(
            _pk("shipment_id"),
            _c("order_id", "int64", False),
            _c("carrier", "string", False),
            _c("tracking_number", "string", False),
            _c("status", "string", False, "label_created | shipped | delivered"),
            _c("shipped_at", "timestamp"),
            _c("delivered_at", "timestamp"),
            _c("created_at", "timestamp", False),
            _c("updated_at", "timestamp", False),
        ),
        primary_key=("shipment_id",),
        foreign_keys={"order_id": "orders.order_id"},
    ),
    TableContract(
        name="returns",
        source=SourceSystem.OLTP,
        description="Returned order items and their refunds.",
        columns=(
            _pk("return_id"),
            _c("order_id", "int64", False),
            _c("order_item_id", "int64", False),
            _c("reason", "string", False),
            _c("status", "string", False, "requested | received | refunded"),
            _c("refund_amount", MONEY, False),
            _c("created_at", "timestamp", False),
            _c("updated_at", "timestamp", False),
        ),
        primary_key=("return_id",),
        foreign_keys={"order_id": "orders.order_id", "order_item_id": "order_items.order_item_id"},
    ),
    # ---------------------------------------------------------------- DynamoDB (user behaviour)
    TableContract(
        name="web_users",
        source=SourceSystem.DYNAMODB,
        description="The cross-system id mapping: a web visitor id and, once known, the OLTP customer id.",
        columns=(
            _pk("web_user_id", "string"),
            _c("customer_id", "int64"),
            _c("first_seen_at", "timestamp", False),
            _c("updated_at", "timestamp", False),
        ),
        primary_key=("web_user_id",),
        foreign_keys={"customer_id": "customers.customer_id"},
    ),
    TableContract(
        name="web_sessions",
        source=SourceSystem.DYNAMODB,
        description="Web sessions with device, channel and campaign.",
        columns=(
            _pk("session_id", "string"),
            _c("web_user_id", "string", False),
            _c("customer_id", "int64"),
            _c("device", "string", False, "desktop | mobile | tablet"),
            _c("channel", "string", False, "direct | organic | paid_search | social | email | affiliate"),
            _c("campaign_id", "int64"),
            _c("started_at", "timestamp", False),
            _c("ended_at", "timestamp"),
            _c("page_views", "int32", False),
            _c("updated_at", "timestamp", False),
        ),
        primary_key=("session_id",),
        foreign_keys={
            "web_user_id": "web_users.web_user_id",
            "customer_id": "customers.customer_id",
            "campaign_id": "campaigns.campaign_id",
        },
    ),
    TableContract(
        name="clickstream_events",
        source=SourceSystem.DYNAMODB,
        description="Page and product views, cart actions, checkout; a fraction arrives late.",
        columns=(
            _pk("event_id", "string"),
            _c("session_id", "string", False),
            _c("web_user_id", "string", False),
            _c(
                "event_type",
                "string",
                False,
                "page_view | product_view | add_to_cart | remove_from_cart | checkout_start | purchase",
            ),
            _c("product_id", "int64"),
            _c("page_url", "string", False),
            _c("event_ts", "timestamp", False),
            _c("event_date", "date", False),
        ),
        primary_key=("event_id",),
        partition_by=("event_date",),
        event_time="event_ts",
        foreign_keys={"session_id": "web_sessions.session_id", "product_id": "products.product_id"},
    ),
    TableContract(
        name="carts",
        source=SourceSystem.DYNAMODB,
        description="Shopping carts; most are abandoned, the rest convert into an order.",
        columns=(
            _pk("cart_id", "string"),
            _c("session_id", "string", False),
            _c("customer_id", "int64"),
            _c("status", "string", False, "open | abandoned | converted"),
            _c("item_count", "int32", False),
            _c("cart_value", MONEY, False),
            _c("order_id", "int64"),
            _c("created_at", "timestamp", False),
            _c("updated_at", "timestamp", False),
        ),
        primary_key=("cart_id",),
        foreign_keys={
            "session_id": "web_sessions.session_id",
            "customer_id": "customers.customer_id",
            "order_id": "orders.order_id",
        },
    ),
    TableContract(
        name="cart_items",
        source=SourceSystem.DYNAMODB,
        description="Products in a cart.",
        columns=(
            _pk("cart_id", "string"),
            _pk("product_id"),
            _c("quantity", "int32", False),
            _c("unit_price", MONEY, False),
            _c("added_at", "timestamp", False),
            _c("updated_at", "timestamp", False),
        ),
        primary_key=("cart_id", "product_id"),
        foreign_keys={"cart_id": "carts.cart_id", "product_id": "products.product_id"},
    ),
    # ---------------------------------------------------------------- landing files
    TableContract(
        name="reviews",
        source=SourceSystem.FILES,
        description="Product reviews of delivered order items.",
        columns=(
            _pk("review_id"),
            _c("order_item_id", "int64", False),
            _c("order_id", "int64", False),
            _c("product_id", "int64", False),
            _c("customer_id", "int64", False),
            _c("rating", "int32", False, "1..5"),
            _c("title", "string"),
            _c("body", "string"),
            _c("created_at", "timestamp", False),
        ),
        primary_key=("review_id",),
        event_time="created_at",
        foreign_keys={
            "order_item_id": "order_items.order_item_id",
            "product_id": "products.product_id",
            "customer_id": "customers.customer_id",
        },
    ),
    TableContract(
        name="support_tickets",
        source=SourceSystem.FILES,
        description="Customer support tickets, optionally about an order.",
        columns=(
            _pk("ticket_id"),
            _c("customer_id", "int64", False),
            _c("order_id", "int64"),
            _c("channel", "string", False, "email | chat | phone"),
            _c("category", "string", False),
            _c("priority", "string", False, "low | normal | high | urgent"),
            _c("status", "string", False, "open | pending | resolved | closed"),
            _c("subject", "string", False),
            _c("created_at", "timestamp", False),
            _c("resolved_at", "timestamp"),
        ),
        primary_key=("ticket_id",),
        event_time="created_at",
        foreign_keys={"customer_id": "customers.customer_id", "order_id": "orders.order_id"},
    ),
    TableContract(
        name="product_images",
        source=SourceSystem.FILES,
        description="Metadata of product images uploaded to the media store.",
        columns=(
            _pk("image_id", "string"),
            _c("product_id", "int64", False),
            _c("url", "string", False),
            _c("width", "int32", False),
            _c("height", "int32", False),
            _c("format", "string", False, "jpeg | png | webp"),
            _c("size_bytes", "int64", False),
            _c("alt_text", "string"),
            _c("uploaded_at", "timestamp", False),
        ),
        primary_key=("image_id",),
        event_time="uploaded_at",
        foreign_keys={"product_id": "products.product_id"},
    ),
    # ---------------------------------------------------------------- REST API (batch pulls)
    TableContract(
        name="campaigns",
        source=SourceSystem.API,
        description="Marketing campaigns, pulled from the API with an updated_since cursor.",
        columns=(
            _pk("campaign_id"),
            _c("name", "string", False),
            _c("channel", "string", False, "paid_search | social | email | affiliate"),
            _c("start_date", "date", False),
            _c("end_date", "date", False),
            _c("budget", MONEY, False),
            _c("discount_pct", "float64", False),
            _c("updated_at", "timestamp", False),
        ),
        primary_key=("campaign_id",),
    ),
)

TABLES: dict[str, TableContract] = {t.name: t for t in _TABLES}


def get_table(name: str) -> TableContract:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; the contract declares: {', '.join(TABLES)}") from None


def tables_from(source: SourceSystem) -> list[TableContract]:
    return [t for t in _TABLES if t.source == source]


def _check_foreign_keys() -> None:
    for t in _TABLES:
        for col, target in t.foreign_keys.items():
            table, _, column = target.partition(".")
            get_table(table).column(column)
            del col


_check_foreign_keys()
