"""Orders and everything that follows them: items, payments (failures, retries, refunds), shipments, returns,
inventory movements, reviews and support tickets.

Each order's whole lifecycle is drawn when it is placed (vectorised over all orders of a slice): the time of
every stage, which stages happen, and which are committed late. Each stage is one OLTP transaction; the events
are emitted now with their future emit times and the simulation routes them to the slice they fall in. Stages
after the end of the simulation are never emitted, so the snapshot (final state) is the last emitted stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.columns import choose, contract_table, ints, money, prefixed_ids, repeat, strings, timestamps
from generator.context import DAY, HOUR, MINUTE, NEVER, SimContext
from generator.events import take_rows
from generator.hashing import mix, pick, unit
from generator.pools import COUNTRIES, REVIEW_TITLES, TICKET_CATEGORIES, pools

STAGES = (
    "place",
    "retry",
    "cancel_unpaid",
    "paid",
    "cancel_paid",
    "label",
    "shipped",
    "delivered",
    "return_requested",
    "return_received",
    "refunded",
)
STAGE_INDEX = {s: i for i, s in enumerate(STAGES)}
# Stages that change the order row: new status and the stage whose row is the `before` image.
ORDER_TRANSITIONS: dict[str, tuple[str, str | None]] = {
    "place": ("placed", None),
    "cancel_unpaid": ("cancelled", "place"),
    "paid": ("paid", "place"),
    "cancel_paid": ("cancelled", "paid"),
    "shipped": ("shipped", "paid"),
    "delivered": ("delivered", "shipped"),
    "refunded": ("returned", "delivered"),
}
# Legal order status transitions (the tests check the change stream against these).
LEGAL_ORDER_TRANSITIONS = {
    ("placed", "paid"),
    ("placed", "cancelled"),
    ("paid", "cancelled"),
    ("paid", "shipped"),
    ("shipped", "delivered"),
    ("delivered", "returned"),
}
# The status words of orders and payments: status columns with a status per row are gathered from these by code
# (in Arrow: an object array of Python strings per row held the GIL while it was converted).
STATUSES = np.array(
    ["placed", "paid", "shipped", "delivered", "cancelled", "returned", "authorized", "captured", "failed", "refunded"]
)
STATUS = {word: code for code, word in enumerate(STATUSES.tolist())}
PAYMENT_METHODS = np.array(["card", "paypal", "klarna", "gift_card"])
PAYMENT_METHOD_WEIGHTS = np.array([0.55, 0.25, 0.15, 0.05])
FAILURE_REASONS = np.array(["insufficient_funds", "card_declined", "expired_card", "3ds_failed"])
CARRIERS = np.array(["DHL", "UPS", "DPD", "GLS", "PostNL"])
WAREHOUSES = np.array(["FRA1", "AMS1", "WAW1"])
# The review titles of all ratings (1-5) in one list: rating r has _TITLE_COUNT[r] titles from _TITLE_START[r].
_TITLES = np.array([title for rating in sorted(REVIEW_TITLES) for title in REVIEW_TITLES[rating]])
_TITLE_COUNT = np.array([0, *(len(REVIEW_TITLES[rating]) for rating in sorted(REVIEW_TITLES))])
_TITLE_START = np.cumsum(_TITLE_COUNT) - _TITLE_COUNT
RETURN_REASONS = np.array(["wrong_size", "damaged", "not_as_described", "changed_mind", "late_delivery"])
TICKET_CHANNELS = np.array(["email", "chat", "phone"])
TICKET_PRIORITIES = np.array(["low", "normal", "high", "urgent"])
# tx_pos bases: the order row first, then items, payment, shipment, movements, returns.
POS_ORDER, POS_ITEM, POS_PAYMENT, POS_SHIPMENT, POS_MOVEMENT, POS_RETURN = 0, 1_000, 2_000, 3_000, 4_000, 5_000


@dataclass
class OrderBatch:
    """Orders placed in one slice (sorted by placed_us) and their items (grouped by order, in order)."""

    order_id: np.ndarray
    customer_id: np.ndarray
    campaign_id: np.ndarray  # -1 = none
    shipping_country: np.ndarray  # index into pools.COUNTRIES
    cart_id: pa.Array
    placed_us: np.ndarray
    item_order: np.ndarray  # index into the orders for every item
    product_id: np.ndarray
    quantity: np.ndarray
    unit_price_cents: np.ndarray
    discount_cents: np.ndarray

    @property
    def line_total_cents(self) -> np.ndarray:
        return self.quantity * self.unit_price_cents - self.discount_cents

    @property
    def total_cents(self) -> np.ndarray:
        return np.bincount(self.item_order, weights=self.line_total_cents, minlength=len(self.order_id)).astype(
            np.int64
        )


def _uniform(rng: np.random.Generator, low: int, high: int, n: int) -> np.ndarray:
    return rng.integers(low, high, size=n, dtype=np.int64)


def lifecycle(ctx: SimContext, placed: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Business time of every stage (NEVER if it does not happen) and its emit time (late commits, then kept in
    stage order per order so that every entity's changes stay in order)."""
    cfg, rng, n = ctx.config, ctx.rng, len(placed)
    failed = rng.random(n) < cfg.payment_failure_rate
    retry = failed & (rng.random(n) < cfg.payment_retry_rate)
    unpaid = failed & ~retry
    t_retry = placed + _uniform(rng, 2 * MINUTE, 30 * MINUTE, n)
    t_paid = np.where(retry, t_retry, placed) + _uniform(rng, MINUTE, 90 * MINUTE, n)
    cancel_paid = ~unpaid & (rng.random(n) < cfg.cancel_after_payment_rate)
    ships = ~unpaid & ~cancel_paid
    t_label = t_paid + _uniform(rng, 2 * HOUR, 24 * HOUR, n)
    t_shipped = t_label + _uniform(rng, 12 * HOUR, 48 * HOUR, n)
    t_delivered = t_shipped + _uniform(rng, DAY, 5 * DAY, n)
    returned = ships & (rng.random(n) < cfg.return_rate)
    t_requested = t_delivered + _uniform(rng, DAY, 14 * DAY, n)
    t_received = t_requested + _uniform(rng, 2 * DAY, 7 * DAY, n)
    t_refunded = t_received + _uniform(rng, DAY, 3 * DAY, n)
    t_cancel_unpaid = placed + _uniform(rng, HOUR, 6 * HOUR, n)
    t_cancel_paid = t_paid + _uniform(rng, HOUR, 20 * HOUR, n)

    def when(mask: np.ndarray, t: np.ndarray) -> np.ndarray:
        return np.where(mask, t, NEVER)

    business = {
        "place": placed.astype(np.int64),
        "retry": when(retry, t_retry),
        "cancel_unpaid": when(unpaid, t_cancel_unpaid),
        "paid": when(~unpaid, t_paid),
        "cancel_paid": when(cancel_paid, t_cancel_paid),
        "label": when(ships, t_label),
        "shipped": when(ships, t_shipped),
        "delivered": when(ships, t_delivered),
        "return_requested": when(returned, t_requested),
        "return_received": when(returned, t_received),
        "refunded": when(returned, t_refunded),
    }
    emit = {}
    last = np.zeros(n, dtype=np.int64)
    for stage in STAGES:
        t = business[stage]
        happens = t < NEVER
        late = happens & (rng.random(n) < cfg.late_fraction) & (stage != "place")
        e = np.where(late, t + _uniform(rng, 5 * MINUTE, 6 * HOUR, n), t)
        e = np.where(happens, np.maximum(e, last), NEVER)
        last = np.where(happens, e, last)
        emit[stage] = e
    return business, emit


class OrderRows:
    """Builds contract rows of the orders-side tables for subsets of one batch."""

    def __init__(self, ctx: SimContext, batch: OrderBatch) -> None:
        self.ctx, self.b = ctx, batch
        n = len(batch.order_id)
        self.total = batch.total_cents
        self.item_start = np.searchsorted(batch.item_order, np.arange(n))
        h = mix(ctx.seed, 11, batch.order_id)
        u = unit(h)
        self.method = np.minimum(
            np.searchsorted(np.cumsum(PAYMENT_METHOD_WEIGHTS), u, side="right"), len(PAYMENT_METHODS) - 1
        )
        self.retry_method = pick(mix(h, 1), len(PAYMENT_METHODS))
        self.failure = pick(mix(h, 2), len(FAILURE_REASONS))
        self.carrier = pick(mix(h, 3), len(CARRIERS))
        self.tracking = (mix(h, 4) % np.uint64(10**11)).astype(np.int64)
        self.warehouse = pick(mix(h, 5), len(WAREHOUSES))

    def orders(self, idx: np.ndarray, status: str | np.ndarray, updated_us: np.ndarray) -> pa.Table:
        b = self.b
        campaign = b.campaign_id[idx]
        return contract_table(
            "orders",
            {
                "order_id": ints(b.order_id[idx]),
                "customer_id": ints(b.customer_id[idx]),
                "status": _status(status, len(idx)),
                "order_total": money(self.total[idx]),
                "currency": repeat("EUR", len(idx)),
                "shipping_country": choose(COUNTRIES, b.shipping_country[idx]),
                "campaign_id": ints(campaign, null=campaign < 0),
                "cart_id": b.cart_id.take(pa.array(idx, type=pa.int64())),
                "placed_at": timestamps(b.placed_us[idx]),
                "updated_at": timestamps(updated_us),
            },
        )

    def items(self, item_idx: np.ndarray, item_ids: np.ndarray) -> pa.Table:
        b = self.b
        placed = b.placed_us[b.item_order[item_idx]]
        return contract_table(
            "order_items",
            {
                "order_item_id": ints(item_ids[item_idx]),
                "order_id": ints(b.order_id[b.item_order[item_idx]]),
                "product_id": ints(b.product_id[item_idx]),
                "quantity": ints(b.quantity[item_idx], pa.int32()),
                "unit_price": money(b.unit_price_cents[item_idx]),
                "discount": money(b.discount_cents[item_idx]),
                "line_total": money(b.line_total_cents[item_idx]),
                "created_at": timestamps(placed),
                "updated_at": timestamps(placed),
            },
        )

    def payments(
        self,
        idx: np.ndarray,
        payment_ids: np.ndarray,
        attempt: int,
        status: str | np.ndarray,
        created_us: np.ndarray,
        updated_us: np.ndarray,
    ) -> pa.Table:
        method = self.method[idx] if attempt == 1 else self.retry_method[idx]
        failed = np.full(len(idx), status == "failed") if isinstance(status, str) else status == STATUS["failed"]
        return contract_table(
            "payments",
            {
                "payment_id": ints(payment_ids),
                "order_id": ints(self.b.order_id[idx]),
                "method": choose(PAYMENT_METHODS, method),
                "status": _status(status, len(idx)),
                "amount": money(self.total[idx]),
                "attempt": ints(np.full(len(idx), attempt), pa.int32()),
                "failure_reason": choose(FAILURE_REASONS, self.failure[idx], null=~failed),
                "created_at": timestamps(created_us),
                "updated_at": timestamps(updated_us),
            },
        )

    def shipments(
        self,
        idx: np.ndarray,
        shipment_ids: np.ndarray,
        status: str | np.ndarray,
        created_us: np.ndarray,
        shipped_us: np.ndarray,
        delivered_us: np.ndarray,
        updated_us: np.ndarray,
    ) -> pa.Table:
        carrier = choose(CARRIERS, self.carrier[idx])
        tracking = pc.binary_join_element_wise(carrier, pa.array(self.tracking[idx]).cast(pa.string()), "")
        return contract_table(
            "shipments",
            {
                "shipment_id": ints(shipment_ids),
                "order_id": ints(self.b.order_id[idx]),
                "carrier": carrier,
                "tracking_number": tracking,
                "status": _status(status, len(idx)),
                "shipped_at": timestamps(np.minimum(shipped_us, NEVER - 1), null=shipped_us >= NEVER),
                "delivered_at": timestamps(np.minimum(delivered_us, NEVER - 1), null=delivered_us >= NEVER),
                "created_at": timestamps(created_us),
                "updated_at": timestamps(updated_us),
            },
        )

    def movements(
        self, item_idx: np.ndarray, movement_ids: np.ndarray, sign: int, reason: str, at_us: np.ndarray
    ) -> pa.Table:
        b = self.b
        order_idx = b.item_order[item_idx]
        return contract_table(
            "inventory_movements",
            {
                "movement_id": ints(movement_ids),
                "product_id": ints(b.product_id[item_idx]),
                "warehouse": choose(WAREHOUSES, self.warehouse[order_idx]),
                "quantity": ints(sign * b.quantity[item_idx], pa.int32()),
                "reason": repeat(reason, len(item_idx)),
                "order_id": ints(b.order_id[order_idx]),
                "created_at": timestamps(at_us),
                "updated_at": timestamps(at_us),
            },
        )

    def returns(
        self,
        item_idx: np.ndarray,
        return_ids: np.ndarray,
        item_ids: np.ndarray,
        status: str | np.ndarray,
        created_us: np.ndarray,
        updated_us: np.ndarray,
    ) -> pa.Table:
        b = self.b
        reason = choose(RETURN_REASONS, pick(mix(self.ctx.seed, 12, return_ids), len(RETURN_REASONS)))
        return contract_table(
            "returns",
            {
                "return_id": ints(return_ids),
                "order_id": ints(b.order_id[b.item_order[item_idx]]),
                "order_item_id": ints(item_ids[item_idx]),
                "reason": reason,
                "status": _status(status, len(item_idx)),
                "refund_amount": money(b.line_total_cents[item_idx]),
                "created_at": timestamps(created_us),
                "updated_at": timestamps(updated_us),
            },
        )


def _status(status: str | np.ndarray, n: int) -> pa.Array:
    """A status column: one word for all rows, or each row's code into STATUSES."""
    return repeat(status, n) if isinstance(status, str) else choose(STATUSES, status)


def _latest(stages: list[tuple[np.ndarray, Any]], default: Any, n: int) -> np.ndarray:
    """Per row, the value of the last stage whose mask is true (stages in time order)."""
    out = np.broadcast_to(np.asarray(default), (n,)).copy()
    for mask, value in stages:
        out = np.where(mask, value, out)
    return out


def simulate_orders(ctx: SimContext, batch: OrderBatch) -> None:
    """Emit every change of the batch's orders (now or in the future) and keep their final rows."""
    sink, n = ctx.sink, len(batch.order_id)
    if n == 0:
        return
    rows = OrderRows(ctx, batch)
    business, emit = lifecycle(ctx, batch.placed_us)
    included = {s: emit[s] < ctx.end_us for s in STAGES}
    order_ids = batch.order_id
    n_items = len(batch.item_order)
    item_ids = ctx.ids("order_item", n_items)
    items_of = batch.item_order

    def tx(stage: str, idx: np.ndarray) -> np.ndarray:
        return order_ids[idx] * 16 + STAGE_INDEX[stage]

    # --- orders: one change per status transition
    for stage, (status, previous) in ORDER_TRANSITIONS.items():
        idx = np.flatnonzero(included[stage])
        after = rows.orders(idx, status, business[stage][idx])
        before = None
        if previous is not None:
            before = rows.orders(idx, ORDER_TRANSITIONS[previous][0], business[previous][idx])
        op = "c" if previous is None else "u"
        sink.change("orders", op, emit[stage][idx], tx(stage, idx), POS_ORDER, business[stage][idx], before, after)
    final_status = _latest(
        [(included[s], STATUS[ORDER_TRANSITIONS[s][0]]) for s in STAGES if s in ORDER_TRANSITIONS], STATUS["placed"], n
    )
    final_updated = _latest([(included[s], business[s]) for s in STAGES if s in ORDER_TRANSITIONS], 0, n)
    ctx.keep("orders", rows.orders(np.arange(n), final_status, final_updated))

    # --- items: inserted with the order
    all_items = np.arange(n_items)
    item_rows = rows.items(all_items, item_ids)
    item_pos = POS_ITEM + all_items - rows.item_start[items_of]
    sink.change(
        "order_items", "c", emit["place"][items_of], tx("place", items_of), item_pos, business["place"][items_of],
        after=item_rows,
    )  # fmt: skip
    ctx.keep("order_items", item_rows)

    # --- payments: the first attempt commits with the order; a failed one may be retried
    all_orders = np.arange(n)
    failed_first = (business["retry"] < NEVER) | (business["cancel_unpaid"] < NEVER)
    retried = business["retry"] < NEVER
    first_ids = ctx.ids("payment", n)
    retry_ids = np.zeros(n, dtype=np.int64)
    retry_ids[retried] = ctx.ids("payment", int(retried.sum()))
    first_status = np.where(failed_first, STATUS["failed"], STATUS["authorized"])
    placed = business["place"]
    sink.change(
        "payments", "c", emit["place"], tx("place", all_orders), POS_PAYMENT, placed,
        after=rows.payments(all_orders, first_ids, 1, first_status, placed, placed),
    )  # fmt: skip
    idx = np.flatnonzero(included["retry"])
    t = business["retry"][idx]
    sink.change(
        "payments", "c", emit["retry"][idx], tx("retry", idx), POS_PAYMENT, t,
        after=rows.payments(idx, retry_ids[idx], 2, "authorized", t, t),
    )  # fmt: skip
    paying_ids = np.where(retried, retry_ids, first_ids)
    authorized_at = np.where(retried, business["retry"], placed)

    def paying_rows(idx: np.ndarray, status: str | np.ndarray, updated: np.ndarray) -> pa.Table:
        """Rows of the payment that captured the order (first attempt, or the retry)."""
        retry_part = retried[idx]
        tables = []
        for attempt, part in ((1, ~retry_part), (2, retry_part)):
            sub = idx[part]
            st = status if isinstance(status, str) else status[part]
            tables.append(rows.payments(sub, paying_ids[sub], attempt, st, authorized_at[sub], updated[part]))
        table = pa.concat_tables(tables)
        order = np.argsort(np.concatenate([np.flatnonzero(~retry_part), np.flatnonzero(retry_part)]), kind="stable")
        return take_rows(table, order)

    payment_changes = (("paid", "authorized", "captured"), ("cancel_paid", "captured", "refunded"),
                       ("refunded", "captured", "refunded"))  # fmt: skip
    for stage, old, new in payment_changes:
        idx = np.flatnonzero(included[stage])
        t = business[stage][idx]
        before_t = authorized_at[idx] if old == "authorized" else business["paid"][idx]
        sink.change(
            "payments", "u", emit[stage][idx], tx(stage, idx), POS_PAYMENT, t,
            before=paying_rows(idx, old, before_t), after=paying_rows(idx, new, t),
        )  # fmt: skip
    # Final payments: failed first attempts stay failed; the paying attempt follows the stages.
    pay_status = _latest(
        [
            (np.ones(n, bool), STATUS["authorized"]),
            (included["paid"], STATUS["captured"]),
            (included["cancel_paid"] | included["refunded"], STATUS["refunded"]),
        ],
        STATUS["authorized"],
        n,
    )
    pay_updated = _latest(
        [(included[s], business[s]) for s in ("paid", "cancel_paid", "refunded")], authorized_at, n
    ).astype(np.int64)
    failed_idx = np.flatnonzero(failed_first)
    ctx.keep(
        "payments",
        rows.payments(failed_idx, first_ids[failed_idx], 1, "failed", placed[failed_idx], placed[failed_idx]),
    )
    paying_final = np.flatnonzero(~failed_first | included["retry"])
    ctx.keep("payments", paying_rows(paying_final, pay_status[paying_final], pay_updated[paying_final]))

    # --- shipments
    ships = business["label"] < NEVER
    shipment_ids = np.zeros(n, dtype=np.int64)
    shipment_ids[ships] = ctx.ids("shipment", int(ships.sum()))
    shipment_stages = (("label", "label_created"), ("shipped", "shipped"), ("delivered", "delivered"))

    def shipment_rows(idx: np.ndarray, upto: int, status: str | np.ndarray, updated: np.ndarray) -> pa.Table:
        shipped = business["shipped"][idx] if upto >= 1 else np.full(len(idx), NEVER)
        delivered = business["delivered"][idx] if upto >= 2 else np.full(len(idx), NEVER)
        return rows.shipments(idx, shipment_ids[idx], status, business["label"][idx], shipped, delivered, updated)

    for k, (stage, status) in enumerate(shipment_stages):
        idx = np.flatnonzero(included[stage])
        t = business[stage][idx]
        before = (
            None
            if k == 0
            else shipment_rows(idx, k - 1, shipment_stages[k - 1][1], business[shipment_stages[k - 1][0]][idx])
        )
        sink.change(
            "shipments", "c" if k == 0 else "u", emit[stage][idx], tx(stage, idx), POS_SHIPMENT, t,
            before=before, after=shipment_rows(idx, k, status, t),
        )  # fmt: skip
    for k, (stage, status) in enumerate(shipment_stages):
        # final rows: the last included stage of each shipment
        later = included[shipment_stages[k + 1][0]] if k + 1 < len(shipment_stages) else np.zeros(n, bool)
        idx = np.flatnonzero(included[stage] & ~later)
        ctx.keep("shipments", shipment_rows(idx, k, status, business[stage][idx]))

    # --- inventory movements: stock leaves when shipped, comes back when a return is received
    for stage, sign, reason in (("shipped", -1, "sale"), ("return_received", 1, "return")):
        item_mask = included[stage][items_of]
        item_idx = np.flatnonzero(item_mask)
        ids = ctx.ids("movement", len(item_idx))
        t = business[stage][items_of[item_idx]]
        moves = rows.movements(item_idx, ids, sign, reason, t)
        pos = POS_MOVEMENT + item_idx - rows.item_start[items_of[item_idx]]
        sink.change(
            "inventory_movements", "c", emit[stage][items_of[item_idx]], tx(stage, items_of[item_idx]), pos, t,
            after=moves,
        )  # fmt: skip
        ctx.keep("inventory_movements", moves)

    # --- returns: every item of a returned order
    returned_items = np.flatnonzero(included["return_requested"][items_of])
    return_ids = ctx.ids("return", len(returned_items))
    return_of_item = np.full(n_items, -1, dtype=np.int64)
    return_of_item[returned_items] = np.arange(len(returned_items))
    created = business["return_requested"][items_of]
    return_stages = (("return_requested", "requested"), ("return_received", "received"), ("refunded", "refunded"))
    for k, (stage, status) in enumerate(return_stages):
        item_idx = np.flatnonzero(included[stage][items_of])
        o = items_of[item_idx]
        rid = return_ids[return_of_item[item_idx]]
        t = business[stage][o]
        before = None
        if k:
            prev_stage, prev_status = return_stages[k - 1]
            before = rows.returns(item_idx, rid, item_ids, prev_status, created[item_idx], business[prev_stage][o])
        pos = POS_RETURN + item_idx - rows.item_start[o]
        sink.change(
            "returns", "c" if k == 0 else "u", emit[stage][o], tx(stage, o), pos, t,
            before=before, after=rows.returns(item_idx, rid, item_ids, status, created[item_idx], t),
        )  # fmt: skip
        later = included[return_stages[k + 1][0]][o] if k + 1 < len(return_stages) else np.zeros(len(o), bool)
        keep = ~later
        ctx.keep("returns", rows.returns(item_idx[keep], rid[keep], item_ids, status, created[item_idx][keep], t[keep]))

    _reviews(ctx, batch, business, included, item_ids)
    _tickets(ctx, batch, business)


def _reviews(
    ctx: SimContext,
    batch: OrderBatch,
    business: dict[str, np.ndarray],
    included: dict[str, np.ndarray],
    item_ids: np.ndarray,
) -> None:
    """Reviews of delivered order items, written to the landing files when they are created."""
    rng, items_of = ctx.rng, batch.item_order
    n_items = len(items_of)
    wants = rng.random(n_items) < ctx.config.review_rate
    created = business["delivered"][items_of] + _uniform(rng, DAY, 20 * DAY, n_items)
    noise = rng.normal(0, 1.0, n_items)
    idx = np.flatnonzero(wants & included["delivered"][items_of] & (created < ctx.end_us))
    if not len(idx):
        return
    quality = 3.0 + 1.6 * (unit(mix(ctx.seed, 13, batch.product_id[idx])) - 0.3)
    rating = np.clip(np.round(quality + noise[idx]), 1, 5).astype(np.int32)
    review_ids = ctx.ids("review", len(idx))
    h = mix(ctx.seed, 14, review_ids)
    title_choice = (h % np.uint64(7)).astype(np.int64) % _TITLE_COUNT[rating]  # the rating's k-th title
    sentences = pools(ctx.seed).sentences
    body_missing = unit(mix(h, 1)) < 0.3
    rows = contract_table(
        "reviews",
        {
            "review_id": ints(review_ids),
            "order_item_id": ints(item_ids[idx]),
            "order_id": ints(batch.order_id[items_of[idx]]),
            "product_id": ints(batch.product_id[idx]),
            "customer_id": ints(batch.customer_id[items_of[idx]]),
            "rating": ints(rating, pa.int32()),
            "title": choose(_TITLES, _TITLE_START[rating] + title_choice),
            "body": choose(sentences, pick(mix(h, 2), len(sentences)), null=body_missing),
            "created_at": timestamps(created[idx]),
        },
    )
    ctx.sink.landing_record("reviews", rows, created[idx], created[idx])
    ctx.keep("reviews", rows)


def _tickets(ctx: SimContext, batch: OrderBatch, business: dict[str, np.ndarray]) -> None:
    """Support tickets: a record when opened and another when resolved (same ticket_id, later state)."""
    rng, n = ctx.rng, len(batch.order_id)
    wants = rng.random(n) < ctx.config.ticket_rate
    created = business["place"] + _uniform(rng, HOUR, 10 * DAY, n)
    resolved = created + _uniform(rng, HOUR, 5 * DAY, n)
    idx = np.flatnonzero(wants & (created < ctx.end_us))
    if not len(idx):
        return
    ticket_ids = ctx.ids("ticket", len(idx))
    h = mix(ctx.seed, 15, ticket_ids)
    category = TICKET_CATEGORIES[pick(h, len(TICKET_CATEGORIES))]
    general = unit(mix(h, 1)) < 0.15  # not about a specific order
    subject = pc.binary_join_element_wise(
        strings(np.char.capitalize(category.astype(str)).astype(object)),
        pc.if_else(pa.array(general), "general question", prefixed_ids("order ", batch.order_id[idx])),
        ": ",
    )
    closed_status = np.where(unit(mix(h, 2)) < 0.5, "resolved", "closed").astype(object)

    def table(status: np.ndarray, resolved_at: np.ndarray | None) -> pa.Table:
        k = len(idx)
        return contract_table(
            "support_tickets",
            {
                "ticket_id": ints(ticket_ids),
                "customer_id": ints(batch.customer_id[idx]),
                "order_id": ints(batch.order_id[idx], null=general),
                "channel": strings(TICKET_CHANNELS[pick(mix(h, 3), 3)]),
                "category": strings(category),
                "priority": strings(TICKET_PRIORITIES[pick(mix(h, 4), 4)]),
                "status": strings(status),
                "subject": subject,
                "created_at": timestamps(created[idx]),
                "resolved_at": timestamps(
                    np.zeros(k, np.int64) if resolved_at is None else resolved_at,
                    null=np.ones(k, bool) if resolved_at is None else None,
                ),
            },
        )

    opened = table(np.full(len(idx), "open", dtype=object), None)
    ctx.sink.landing_record("support_tickets", opened, created[idx], created[idx])
    done = resolved[idx] < ctx.end_us
    closed = table(closed_status, resolved[idx])
    ctx.sink.landing_record("support_tickets", take_rows(closed, done), resolved[idx][done], created[idx][done])
    final = pc.if_else(pa.array(done), closed.column("status"), opened.column("status"))
    final_table = closed.set_column(closed.schema.get_field_index("status"), "status", final)
    final_table = final_table.set_column(
        final_table.schema.get_field_index("resolved_at"),
        "resolved_at",
        pc.if_else(pa.array(done), closed.column("resolved_at"), opened.column("resolved_at")),
    )
    ctx.keep("support_tickets", final_table.cast(closed.schema))
