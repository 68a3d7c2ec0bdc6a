"""User behaviour (the DynamoDB source): web users, sessions, carts (converted or abandoned), cart items and
clickstream events, consistent with the orders of the same slice.

Every order comes from a converted cart in a session of the customer's web user; abandoned carts and browse-only
sessions come from known customers or anonymous visitors. Items are added and sometimes removed (a DynamoDB
delete); a fraction of click events is written late.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.columns import choose, contract_table, dates, ints, money, prefixed_ids, repeat, timestamps
from generator.context import DAY, HOUR, MINUTE, SimContext
from generator.entities import CAMPAIGN_CHANNELS, CampaignCalendar
from generator.events import Lazy, take_rows

DEVICES = np.array(["desktop", "mobile", "tablet"])
DEVICE_WEIGHTS = np.array([0.42, 0.48, 0.10])
ORGANIC_CHANNELS = np.array(["direct", "organic", "paid_search", "social", "email", "affiliate"])
ORGANIC_CHANNEL_WEIGHTS = np.array([0.3, 0.35, 0.1, 0.15, 0.05, 0.05])
PAGES = np.array(["/", "/search", "/deals", "/account", "/category/electronics", "/category/home",
                  "/category/fashion", "/category/sports", "/category/beauty", "/category/toys"])  # fmt: skip
URLS = np.array([*PAGES, "/cart", "/checkout", "/checkout/confirmation"])
EVENT_TYPES = np.array(["page_view", "product_view", "add_to_cart", "remove_from_cart", "checkout_start", "purchase"])
PAGE_VIEW, PRODUCT_VIEW, ADD_TO_CART, REMOVE_FROM_CART, CHECKOUT_START, PURCHASE = range(len(EVENT_TYPES))
# fixed page (index into URLS) per event type; -1 = a random browsing page
EVENT_PAGE = np.array([-1, -1, len(PAGES), len(PAGES), len(PAGES) + 1, len(PAGES) + 2])
CAMPAIGN_TO_CHANNEL = np.array([list(ORGANIC_CHANNELS).index(c) for c in CAMPAIGN_CHANNELS])
CART_STATUSES = np.array(["open", "converted", "abandoned"])
REMOVED_ITEM_RATE = 0.2


def customer_web_user_ids(customer_ids: np.ndarray) -> pa.Array:
    """The cross-system id mapping: a registered customer's web user id."""
    return prefixed_ids("wu-c", customer_ids)


def web_user_rows(ids: pa.Array, customer_id: np.ndarray | None, first_seen_us: np.ndarray) -> pa.Table:
    n = len(ids)
    cid = np.zeros(n, np.int64) if customer_id is None else customer_id
    return contract_table(
        "web_users",
        {
            "web_user_id": ids,
            "customer_id": ints(cid, null=np.ones(n, bool) if customer_id is None else None),
            "first_seen_at": timestamps(first_seen_us),
            "updated_at": timestamps(first_seen_us),
        },
    )


@dataclass
class CartSpec:
    """Carts that convert into this slice's orders (one per order, in order)."""

    cart_numbers: np.ndarray
    placed_us: np.ndarray
    customer_id: np.ndarray
    campaign_id: np.ndarray  # -1 = none
    order_id: np.ndarray
    item_cart: np.ndarray  # index of the cart per item
    item_product: np.ndarray
    item_quantity: np.ndarray
    item_price_cents: np.ndarray
    removed_product: np.ndarray  # a product not in the cart, used if an item is removed


def _weighted_choice(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """Indices drawn with the given weights."""
    return rng.choice(len(weights), size=n, p=weights / weights.sum())


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups with `counts` members: the group of each member and its position in the group."""
    group = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return group, np.arange(len(group)) - starts[group]


def _session_time_order(session: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """The stable order by (session, ts): one argsort of a packed key (about 3x faster than lexsort) when the
    session index and the time offset fit into 63 bits together, which they do for any slice."""
    if not len(ts):
        return np.zeros(0, np.int64)
    offset = ts - ts.min()
    time_bits = max(int(offset.max()).bit_length(), 1)
    if time_bits + max(int(session.max()).bit_length(), 1) > 63:
        return np.lexsort((ts, session))
    return np.argsort((session.astype(np.int64) << time_bits) | offset, kind="stable")


def simulate_behaviour(
    ctx: SimContext,
    window: tuple[int, int],
    converted: CartSpec,
    sample_customers: Callable[[int], np.ndarray],
    sample_products: Callable[[int, int], tuple[np.ndarray, np.ndarray]],
    price_at: Callable[[np.ndarray, np.ndarray], np.ndarray],
    campaigns: CampaignCalendar,
) -> None:
    """`sample_products(n_carts, k)` gives k distinct products per cart ([n_carts, k]) and their prices;
    `price_at(product_ids, ts)` the prices in effect at those times."""
    cfg, rng = ctx.config, ctx.rng
    t0, t1 = window
    n_conv = len(converted.order_id)
    a = cfg.abandonment_rate
    n_aband = int(rng.poisson(n_conv * a / (1 - a))) if n_conv else int(rng.poisson(max(1.0, (t1 - t0) / DAY)))
    n_browse = int(rng.poisson(max(n_conv, 1) * cfg.browse_sessions_per_order))
    n_other = n_aband + n_browse

    # ---- session starts: converted ones before their order; the others around order times (seasonality)
    conv_start = converted.placed_us - rng.integers(5 * MINUTE, 45 * MINUTE, n_conv)
    if n_conv:
        anchor = converted.placed_us[rng.integers(0, n_conv, n_other)]
        other_start = np.clip(anchor + rng.integers(-3 * HOUR, 3 * HOUR, n_other), t0, t1 - 1)
    else:
        other_start = rng.integers(t0, t1, n_other)
    aband_start, browse_start = other_start[:n_aband], other_start[n_aband:]
    logged_in_other = rng.random(n_other) < np.where(np.arange(n_other) < n_aband, 0.5, 0.4)
    other_customer = np.where(logged_in_other, sample_customers(n_other), -1)

    start = np.concatenate([conv_start, aband_start, browse_start])
    customer = np.concatenate([converted.customer_id, other_customer])
    n_sessions = len(start)
    session_numbers = ctx.ids("session", n_sessions)
    session_ids = prefixed_ids("sess-", session_numbers)

    # ---- web users: registered customers have theirs already; each anonymous session is a new visitor
    anonymous = customer < 0
    anon_numbers = ctx.ids("anonymous_user", int(anonymous.sum()))
    anon_of_session = np.zeros(n_sessions, np.int64)
    anon_of_session[anonymous] = anon_numbers
    web_user_arr = pc.if_else(
        pa.array(anonymous), prefixed_ids("wu-a", anon_of_session), customer_web_user_ids(np.maximum(customer, 0))
    )
    anon_rows = web_user_rows(web_user_arr.filter(pa.array(anonymous)), None, start[anonymous])
    ctx.sink.dynamodb_put("web_users", anon_rows, start[anonymous])
    ctx.keep("web_users", anon_rows)

    # ---- carts and their items
    n_aband_items = 1 + rng.binomial(3, 0.35, n_aband)
    aband_products, _ = sample_products(n_aband, 5)  # the 5th is the removal candidate
    cart_numbers = np.concatenate([converted.cart_numbers, ctx.ids("cart", n_aband)])
    n_carts = len(cart_numbers)
    cart_session = np.concatenate([np.arange(n_conv), n_conv + np.arange(n_aband)])
    cart_ids = prefixed_ids("cart-", cart_numbers)

    aband_item_cart, aband_pos = _expand(n_aband_items)
    item_cart = np.concatenate([converted.item_cart, n_conv + aband_item_cart])
    item_product = np.concatenate([converted.item_product, aband_products[aband_item_cart, aband_pos]])
    item_qty = np.concatenate([converted.item_quantity, 1 + rng.binomial(1, 0.3, len(aband_item_cart))])
    items_per_cart = np.bincount(item_cart, minlength=n_carts)
    item_pos = np.arange(len(item_cart)) - (np.cumsum(items_per_cart) - items_per_cart)[item_cart]

    # session ends: converted a few minutes after the purchase; others after 1-40 minutes
    end = np.concatenate(
        [
            converted.placed_us + rng.integers(MINUTE, 5 * MINUTE, n_conv),
            other_start + rng.integers(MINUTE, 40 * MINUTE, n_other),
        ]
    )
    cart_start = start[cart_session] + (end[cart_session] - start[cart_session]) // 5
    cart_done = np.concatenate([converted.placed_us, end[n_conv : n_conv + n_aband] + HOUR])  # converted/abandoned
    # activity span of a cart: converted carts end at checkout, abandoned ones at the session end
    span_end = np.concatenate([converted.placed_us, end[n_conv : n_conv + n_aband]])
    span = span_end - cart_start
    item_added = cart_start[item_cart] + span[item_cart] * (item_pos + 1) // (items_per_cart[item_cart] + 2)
    aband_items = len(converted.item_cart)
    aband_price = price_at(item_product[aband_items:], item_added[aband_items:])
    item_price = np.concatenate([converted.item_price_cents, aband_price])

    removed = rng.random(n_carts) < REMOVED_ITEM_RATE
    removed_product = np.concatenate([converted.removed_product, aband_products[:, 4]])
    removed_cart = np.flatnonzero(removed)
    removed_added = cart_start[removed_cart] + span[removed_cart] // (4 * (items_per_cart[removed_cart] + 2))
    removed_at = cart_start[removed_cart] + span[removed_cart] // (2 * (items_per_cart[removed_cart] + 2))
    removed_price = price_at(removed_product[removed_cart], removed_added)

    cart_value = np.bincount(item_cart, weights=item_qty * item_price, minlength=n_carts).astype(np.int64)
    use_campaign = rng.random(n_other) < 0.2
    campaign = np.concatenate([converted.campaign_id, np.where(use_campaign, campaigns.active(other_start), -1)])
    organic = _weighted_choice(rng, ORGANIC_CHANNEL_WEIGHTS, n_sessions)
    channel = np.where(campaign >= 0, CAMPAIGN_TO_CHANNEL[campaigns.channel_index(campaign)], organic)
    device = _weighted_choice(rng, DEVICE_WEIGHTS, n_sessions)

    # ---- clickstream: page and product views, cart actions, checkout
    page_views = 1 + rng.poisson(2.0, n_sessions)
    product_views = rng.poisson(1.5, n_sessions)
    pv_session, _ = _expand(page_views)
    prv_session, _ = _expand(product_views)
    viewed_products, _ = sample_products(len(prv_session), 1)
    view_ts = start[pv_session] + (rng.random(len(pv_session)) * (end - start)[pv_session]).astype(np.int64)
    prv_ts = start[prv_session] + (rng.random(len(prv_session)) * (end - start)[prv_session]).astype(np.int64)
    checkout_ts = converted.placed_us - span[:n_conv] // (2 * (items_per_cart[:n_conv] + 2))
    ev_session = np.concatenate(
        [pv_session, prv_session, cart_session[item_cart], cart_session[removed_cart], cart_session[removed_cart],
         np.arange(n_conv), np.arange(n_conv)]
    )  # fmt: skip
    ev_type = np.repeat(
        np.array([PAGE_VIEW, PRODUCT_VIEW, ADD_TO_CART, ADD_TO_CART, REMOVE_FROM_CART, CHECKOUT_START, PURCHASE]),
        [len(pv_session), len(prv_session), len(item_cart), len(removed_cart), len(removed_cart), n_conv, n_conv],
    )
    ev_product = np.concatenate(
        [np.full(len(pv_session), -1), viewed_products[:, 0], item_product, removed_product[removed_cart],
         removed_product[removed_cart], np.full(2 * n_conv, -1)]
    )  # fmt: skip
    ev_ts = np.concatenate(
        [view_ts, prv_ts, item_added, removed_added, removed_at, checkout_ts, converted.placed_us]
    ).astype(np.int64)
    order = _session_time_order(ev_session, ev_ts)
    ev_session, ev_type, ev_product, ev_ts = ev_session[order], ev_type[order], ev_product[order], ev_ts[order]
    n_events = len(ev_ts)
    event_numbers = ctx.ids("event", n_events)
    # browsing pages at random; cart and checkout events on their fixed pages; product views on the product page
    url_code = np.where(EVENT_PAGE[ev_type] >= 0, EVENT_PAGE[ev_type], rng.integers(0, len(PAGES), n_events))

    def click_rows() -> pa.Table:
        session_take = pa.array(ev_session, type=pa.int64())
        # one gather from the fixed pages followed by the product views' pages (formatted for those rows only)
        views = np.flatnonzero(ev_type == PRODUCT_VIEW)
        pages = pa.concat_arrays([choose(URLS, np.arange(len(URLS))), prefixed_ids("/product/", ev_product[views])])
        page_index = url_code.astype(np.int64)
        page_index[views] = len(URLS) + np.arange(len(views))
        page_url = pages.take(pa.array(page_index))
        return contract_table(
            "clickstream_events",
            {
                "event_id": prefixed_ids("evt-", event_numbers),
                "session_id": session_ids.take(session_take),
                "web_user_id": web_user_arr.take(session_take),
                "event_type": choose(EVENT_TYPES, ev_type),
                "product_id": ints(ev_product, null=ev_product < 0),
                "page_url": page_url,
                "event_ts": timestamps(ev_ts),
                "event_date": dates(ev_ts // DAY),
            },
        )

    # the rows of large tables are built in the router thread (events.Lazy); all numbers are drawn by now
    clicks = Lazy(n_events, click_rows)
    late = rng.random(n_events) < cfg.late_fraction
    click_emit = np.where(late, ev_ts + rng.integers(MINUTE, 3 * HOUR, n_events), ev_ts)

    # ---- sessions: a put when they start, another when they end
    def session_rows(ended: bool) -> pa.Table:
        return contract_table(
            "web_sessions",
            {
                "session_id": session_ids,
                "web_user_id": web_user_arr,
                "customer_id": ints(customer, null=customer < 0),
                "device": choose(DEVICES, device),
                "channel": choose(ORGANIC_CHANNELS, channel),
                "campaign_id": ints(campaign, null=campaign < 0),
                "started_at": timestamps(start),
                "ended_at": timestamps(end, null=None if ended else np.ones(n_sessions, bool)),
                "page_views": ints(page_views + product_views if ended else np.zeros(n_sessions), pa.int32()),
                "updated_at": timestamps(end if ended else start),
            },
        )

    def cart_rows(final: bool) -> pa.Table:
        status = choose(CART_STATUSES, np.where(np.arange(n_carts) < n_conv, 1, 2))
        order_id = np.concatenate([converted.order_id, np.full(n_aband, -1)])
        return contract_table(
            "carts",
            {
                "cart_id": cart_ids,
                "session_id": session_ids.take(pa.array(cart_session, type=pa.int64())),
                "customer_id": ints(customer[cart_session], null=customer[cart_session] < 0),
                "status": status if final else repeat("open", n_carts),
                "item_count": ints(items_per_cart if final else np.zeros(n_carts), pa.int32()),
                "cart_value": money(cart_value if final else np.zeros(n_carts, np.int64)),
                "order_id": ints(order_id, null=(order_id < 0) | (not final)),
                "created_at": timestamps(cart_start),
                "updated_at": timestamps(cart_done if final else cart_start),
            },
        )

    def cart_item_rows(
        cart: np.ndarray, product: np.ndarray, qty: np.ndarray, price: np.ndarray, added: np.ndarray
    ) -> pa.Table:
        return contract_table(
            "cart_items",
            {
                "cart_id": cart_ids.take(pa.array(cart, type=pa.int64())),
                "product_id": ints(product),
                "quantity": ints(qty, pa.int32()),
                "unit_price": money(price),
                "added_at": timestamps(added),
                "updated_at": timestamps(added),
            },
        )

    def keep(table: str, rows: Lazy, mask: np.ndarray) -> None:
        ctx.keep(table, lambda: take_rows(rows.get(), mask))

    sink, end_us = ctx.sink, ctx.end_us
    opened, closed = Lazy(n_sessions, lambda: session_rows(False)), Lazy(n_sessions, lambda: session_rows(True))
    sink.dynamodb_put("web_sessions", opened, start)
    sink.dynamodb_put("web_sessions", closed, end)
    keep("web_sessions", opened, end >= end_us)
    keep("web_sessions", closed, end < end_us)
    cart_open, cart_final = Lazy(n_carts, lambda: cart_rows(False)), Lazy(n_carts, lambda: cart_rows(True))
    sink.dynamodb_put("carts", cart_open, cart_start)
    items = Lazy(len(item_cart), lambda: cart_item_rows(item_cart, item_product, item_qty, item_price, item_added))
    sink.dynamodb_put("cart_items", items, item_added)
    removed_items = Lazy(
        len(removed_cart),
        lambda: cart_item_rows(
            removed_cart,
            removed_product[removed_cart],
            np.ones(len(removed_cart), np.int64),
            removed_price,
            removed_added,
        ),
    )
    sink.dynamodb_put("cart_items", removed_items, removed_added)
    sink.dynamodb_delete("cart_items", removed_items, removed_at)
    sink.dynamodb_put("clickstream_events", clicks, click_emit)
    sink.dynamodb_put("carts", cart_final, cart_done)
    keep("carts", cart_open, (cart_start < end_us) & (cart_done >= end_us))
    keep("carts", cart_final, cart_done < end_us)
    keep("cart_items", items, item_added < end_us)
    keep("cart_items", removed_items, (removed_added < end_us) & (removed_at >= end_us))
    keep("clickstream_events", clicks, click_emit < end_us)
