"""Entity rows as pure functions of (seed, id, small state): customers, products and campaigns.

The simulation keeps a few integers per entity and rebuilds full rows from them whenever it needs a before or
after image or the final snapshot. `generate_entity` exposes the same builders to the REST API.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.columns import choose, contract_table, dates, ints, money, strings, timestamps
from generator.config import SimulationConfig
from generator.hashing import mix, pick, unit
from generator.pools import (
    ADJECTIVES,
    CATEGORIES,
    CATEGORY_PRICE,
    COUNTRIES,
    COUNTRY_WEIGHTS,
    POOL_SIZE,
    pools,
)

SEGMENTS = np.array(["new", "regular", "vip", "bargain_hunter", "dormant"])
SEGMENT_SHARE = np.array([0.15, 0.5, 0.08, 0.17, 0.10])  # of the initial customer base
SEGMENT_ORDER_WEIGHT = np.array([1.0, 2.0, 5.0, 2.0, 0.2])  # relative chance to place the next order
SEGMENT_CAMPAIGN_PROPENSITY = np.array([0.2, 0.15, 0.1, 0.6, 0.3])
CATEGORY_NAMES = np.array(list(CATEGORIES))
SUBCATEGORY_COUNT = np.array([len(v) for v in CATEGORIES.values()])
SUBCATEGORIES = np.array([[*v, *[v[0]] * (5 - len(v))] for v in CATEGORIES.values()])  # [category, 5]
CAMPAIGN_CHANNELS = np.array(["paid_search", "social", "email", "affiliate"])
EMAIL_DOMAINS = np.array(["example.com", "mail.test", "shop.example", "post.test"])
DAY_US = 86_400_000_000

# Salts keep the hash streams of different attributes independent.
_NAME, _ADDRESS, _PHONE, _DOMAIN, _PRODUCT, _PRICE, _CAMPAIGN = range(1, 8)
_START_STATE, _SIGNED_UP, _ERASURE = range(8, 11)  # the initial customer base
_LISTED = 11  # the initial catalog


def _weighted(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    cumulative = np.cumsum(weights) / np.sum(weights)
    return np.minimum(np.searchsorted(cumulative, u, side="right"), len(weights) - 1)


# the segment of a hash's top 16 bits: SEGMENT_SHARE to within 1/65536, one lookup instead of a search
_SEGMENT_BY_TOP_BITS = _weighted((np.arange(1 << 16) + 0.5) / (1 << 16), SEGMENT_SHARE).astype(np.uint8)


def customer_country_index(seed: int, ids: np.ndarray, address_version: np.ndarray) -> np.ndarray:
    return _weighted(unit(mix(seed, _ADDRESS, ids, address_version)), COUNTRY_WEIGHTS)


@lru_cache(maxsize=4)
def _email_names(seed: int) -> tuple[pa.Array, pa.Array]:
    """The name pools as they appear in e-mail addresses (lower case, letters and dots only), cleaned once per
    pool value instead of once per row."""

    def clean(names: np.ndarray) -> pa.Array:
        lower = pc.utf8_lower(pa.array(names.ravel().tolist(), pa.string()))
        return pc.replace_substring_regex(lower, r"[^a-z.]", "")

    p = pools(seed)
    return clean(p.first_names), clean(p.last_names)


def customer_rows(
    seed: int,
    ids: np.ndarray,
    segment: np.ndarray,
    address_version: np.ndarray,
    created_us: np.ndarray,
    updated_us: np.ndarray,
) -> pa.Table:
    """Full `customers` rows. Names follow the first address's country; the address follows `address_version`."""
    p = pools(seed)
    home = customer_country_index(seed, ids, np.zeros_like(ids))
    country = customer_country_index(seed, ids, address_version)
    h_name = mix(seed, _NAME, ids)
    first_index = home * POOL_SIZE + pick(h_name, POOL_SIZE)
    last_index = home * POOL_SIZE + pick(mix(h_name, 1), POOL_SIZE)
    first_a, last_a = choose(p.first_names, first_index), choose(p.last_names, last_index)
    h_addr = mix(seed, _ADDRESS, ids, address_version, 1)
    street = choose(p.streets, country * POOL_SIZE + pick(h_addr, POOL_SIZE))
    city = choose(p.cities, country * POOL_SIZE + pick(mix(h_addr, 1), POOL_SIZE))
    postcode = choose(p.postcodes, country * POOL_SIZE + pick(mix(h_addr, 2), POOL_SIZE))
    email_first, email_last = _email_names(seed)
    local_part = pc.binary_join_element_wise(
        email_first.take(pa.array(first_index)), email_last.take(pa.array(last_index)), "."
    )
    domain = choose(EMAIL_DOMAINS, pick(mix(seed, _DOMAIN, ids), len(EMAIL_DOMAINS)))
    email = pc.binary_join_element_wise(local_part, pa.array(ids).cast(pa.string()), "@", domain, "")
    h_phone = mix(seed, _PHONE, ids)
    phone_digits = pa.array((h_phone % np.uint64(9_000_000_000) + np.uint64(1_000_000_000)).astype(np.int64))
    phone = pc.binary_join_element_wise("+", phone_digits.cast(pa.string()), "")
    no_phone = unit(mix(h_phone, 1)) < 0.2
    phone = pc.if_else(pa.array(no_phone), pa.scalar(None, pa.string()), phone)
    return contract_table(
        "customers",
        {
            "customer_id": ints(ids),
            "email": email,
            "first_name": first_a,
            "last_name": last_a,
            "phone": phone,
            "segment": choose(SEGMENTS, segment),
            "street": street,
            "city": city,
            "postal_code": postcode,
            "country": choose(COUNTRIES, country),
            "created_at": timestamps(created_us),
            "updated_at": timestamps(updated_us),
        },
    )


@dataclass(frozen=True)
class InitialCustomers:
    """The customer base a simulation starts with, ids 1..count. Each customer's starting attributes are hashes of
    (seed, id), so the simulator stores none of them: the segment (SEGMENT_SHARE), whether the customer will
    request erasure (`erasure_fraction`) and when (exponential, mean 45 days after the start), and the sign-up
    time (uniform over the 3 years before the start, at least a day before it)."""

    seed: int
    count: int
    start_us: int
    erasure_fraction: float

    def segment_and_erasable(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """From one hash (the order sampler asks for both): its top 16 bits pick the segment, its low 32 bits
        decide whether the customer will request erasure."""
        h = mix(self.seed, _START_STATE, ids)
        segment = _SEGMENT_BY_TOP_BITS[(h >> np.uint64(48)).astype(np.int64)]
        erasable = (h & np.uint64(0xFFFFFFFF)) < np.uint64(round(self.erasure_fraction * (1 << 32)))
        return segment, erasable

    def created_us(self, ids: np.ndarray) -> np.ndarray:
        return self.start_us - DAY_US - pick(mix(self.seed, _SIGNED_UP, ids), 3 * 365 * DAY_US - DAY_US)

    def erasure_us(self, ids: np.ndarray) -> np.ndarray:
        """When each customer requests erasure (meaningful for the erasable ones only)."""
        wait = -np.log1p(-unit(mix(self.seed, _ERASURE, ids))) * (45 * DAY_US)
        return self.start_us + wait.astype(np.int64)


def initial_product_created_us(seed: int, ids: np.ndarray, start_us: int) -> np.ndarray:
    """The initial catalog is recent: created 1-90 days before the start (the image backfill spans ~90 dt
    partitions); a hash of (seed, id), so it is not stored."""
    return start_us - DAY_US - pick(mix(seed, _LISTED, ids), 89 * DAY_US)


@dataclass
class ProductAttributes:
    """The immutable attributes of products, derived from (seed, id)."""

    category: np.ndarray
    subcategory: np.ndarray
    initial_price_cents: np.ndarray
    cost_cents: np.ndarray


def product_attributes(seed: int, ids: np.ndarray) -> ProductAttributes:
    h = mix(seed, _PRODUCT, ids)
    category = pick(h, len(CATEGORY_NAMES))
    subcategory = pick(mix(h, 1), 1 << 30) % SUBCATEGORY_COUNT[category]
    base = np.array([CATEGORY_PRICE[str(c)] for c in CATEGORY_NAMES])[category]
    # Log-normal around the category's typical price (Box-Muller from two hashed uniforms).
    u1, u2 = unit(mix(h, _PRICE)), unit(mix(h, _PRICE, 1))
    normal = np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2 * np.pi * u2)
    price = np.maximum(base * np.exp(0.6 * normal), 1.0)
    price_cents = (np.round(price) * 100 - 1).astype(np.int64)  # prices end in .99
    cost_cents = np.round(price_cents * (0.35 + 0.3 * unit(mix(h, 3)))).astype(np.int64)
    return ProductAttributes(category, subcategory, price_cents, cost_cents)


def product_rows(
    seed: int,
    ids: np.ndarray,
    price_cents: np.ndarray,
    is_active: np.ndarray,
    created_us: np.ndarray,
    updated_us: np.ndarray,
) -> pa.Table:
    p = pools(seed)
    attrs = product_attributes(seed, ids)
    h = mix(seed, _PRODUCT, ids, 7)
    # gathered from the word lists in Arrow (`choose`): no Python string per row
    brand = choose(p.brands, pick(h, len(p.brands)))
    subcategory = choose(SUBCATEGORIES, attrs.category * SUBCATEGORIES.shape[1] + attrs.subcategory)
    name = pc.binary_join_element_wise(
        brand,
        choose(ADJECTIVES, pick(mix(h, 1), len(ADJECTIVES))),
        choose(p.nouns, pick(mix(h, 2), len(p.nouns))),
        " ",
    )
    category = choose(CATEGORY_NAMES, attrs.category)
    sku = pc.binary_join_element_wise(
        pc.utf8_upper(pc.utf8_slice_codeunits(category, 0, 3)), pa.array(ids + 100_000).cast(pa.string()), "-"
    )
    return contract_table(
        "products",
        {
            "product_id": ints(ids),
            "sku": sku,
            "name": name,
            "category": category,
            "subcategory": subcategory,
            "brand": brand,
            "price": money(price_cents),
            "cost": money(np.minimum(attrs.cost_cents, price_cents - 1)),
            "is_active": pa.array(is_active, type=pa.bool_()),
            "created_at": timestamps(created_us),
            "updated_at": timestamps(updated_us),
        },
    )


def campaign_rows(seed: int, ids: np.ndarray, first_day: int, last_day: int, as_of_us: int) -> pa.Table:
    """Campaigns starting between `first_day` and `last_day` (days since epoch); `updated_at` <= `as_of_us`."""
    h = mix(seed, _CAMPAIGN, ids)
    channel = pick(h, len(CAMPAIGN_CHANNELS))
    start = first_day + pick(mix(h, 1), max(1, last_day - first_day + 1))
    duration = 5 + pick(mix(h, 2), 26)
    budget_cents = (1_000 + pick(mix(h, 3), 49_000)) * 100
    discount = np.round(0.05 + 0.05 * pick(mix(h, 4), 5), 2)
    created_us = (start - 7) * DAY_US + pick(mix(h, 5), DAY_US)
    updated_us = np.minimum(created_us + pick(mix(h, 6), 10) * DAY_US, as_of_us)
    updated_us = np.maximum(updated_us, np.minimum(created_us, as_of_us))
    season = np.array(["Spring", "Summer", "Autumn", "Winter", "Flash", "Weekend", "Holiday", "Loyalty"])
    name = pc.binary_join_element_wise(
        strings(season[pick(mix(h, 7), len(season))]),
        strings(CAMPAIGN_CHANNELS[channel]),
        pa.array(ids).cast(pa.string()),
        " ",
    )
    return contract_table(
        "campaigns",
        {
            "campaign_id": ints(ids),
            "name": name,
            "channel": strings(CAMPAIGN_CHANNELS[channel]),
            "start_date": dates(start),
            "end_date": dates(start + duration),
            "budget": money(budget_cents),
            "discount_pct": pa.array(discount, type=pa.float64()),
            "updated_at": timestamps(updated_us),
        },
    )


def campaigns_for(config: SimulationConfig) -> pa.Table:
    """The campaigns of a simulation (served by the REST API, referenced by orders and sessions)."""
    first_day = config.start_us // DAY_US - 14
    last_day = config.end_us // DAY_US - 1
    count = max(4, (config.days + 14) // 7 * 2)
    return campaign_rows(config.seed, np.arange(1, count + 1), first_day, last_day, config.end_us)


class CampaignCalendar:
    """Which campaigns run when, and their channels (for orders and sessions)."""

    def __init__(self, campaigns: pa.Table, rng: np.random.Generator) -> None:
        self._rng = rng
        self.ids = campaigns.column("campaign_id").to_numpy()
        start = campaigns.column("start_date").cast(pa.int32()).to_numpy().astype(np.int64)
        end = campaigns.column("end_date").cast(pa.int32()).to_numpy().astype(np.int64)
        self._start_us, self._end_us = start * DAY_US, (end + 1) * DAY_US
        # lookups indexed by campaign id (ids are small integers); slot 0 stands for "no campaign"
        size = int(self.ids.max()) + 1 if len(self.ids) else 1
        self._channel = np.full(size, "direct", dtype=object)
        self._channel[self.ids] = campaigns.column("channel").to_numpy(zero_copy_only=False)
        self._channel_index = np.zeros(size, np.int64)
        self._channel_index[self.ids] = [list(CAMPAIGN_CHANNELS).index(c) for c in self._channel[self.ids]]
        self._discount = np.zeros(size)
        self._discount[self.ids] = campaigns.column("discount_pct").to_numpy()

    def active(self, ts_us: np.ndarray) -> np.ndarray:
        """A random campaign running at each timestamp, or -1 when none runs (memory O(len(ts_us)))."""
        count = np.zeros(len(ts_us), np.int32)
        for start, end in zip(self._start_us, self._end_us, strict=True):
            count += (ts_us >= start) & (ts_us < end)
        choice = (self._rng.random(len(ts_us)) * np.maximum(count, 1)).astype(np.int32)
        picked = np.full(len(ts_us), -1, np.int64)
        seen = np.zeros(len(ts_us), np.int32)
        for campaign_id, start, end in zip(self.ids, self._start_us, self._end_us, strict=True):
            running = (ts_us >= start) & (ts_us < end)
            picked[running & (seen == choice)] = campaign_id
            seen += running
        return picked

    def channel(self, campaign_ids: np.ndarray) -> np.ndarray:
        return self._channel[np.maximum(campaign_ids, 0)]

    def channel_index(self, campaign_ids: np.ndarray) -> np.ndarray:
        """Index into CAMPAIGN_CHANNELS (0 for "no campaign": callers mask those)."""
        return self._channel_index[np.maximum(campaign_ids, 0)]

    def discount_pct(self, campaign_ids: np.ndarray) -> np.ndarray:
        return self._discount[np.maximum(campaign_ids, 0)]


API_ENTITIES = ("customers", "products", "campaigns")


def generate_entity(
    entity: str, count: int, seed: int = 42, start_id: int = 1, as_of_us: int | None = None
) -> pa.Table:
    """`count` deterministic rows of `entity` (one of API_ENTITIES) with ids from `start_id`, contract-typed.

    The same (entity, count, seed, start_id, as_of_us) always gives the same rows; rows of overlapping id ranges
    agree. `as_of_us` (default: the default config's end) bounds `created_at`/`updated_at`.
    """
    if entity not in API_ENTITIES:
        raise ValueError(f"unknown entity {entity!r}; use one of {', '.join(API_ENTITIES)}")
    if count < 0:
        raise ValueError("count must be >= 0")
    as_of = SimulationConfig().end_us if as_of_us is None else as_of_us
    ids = np.arange(start_id, start_id + count, dtype=np.int64)
    created = as_of - 1 - pick(mix(seed, 99, ids), 365 * DAY_US)
    if entity == "customers":
        segment = _weighted(unit(mix(seed, 98, ids)), SEGMENT_SHARE)
        return customer_rows(seed, ids, segment, np.zeros_like(ids), created, created)
    if entity == "products":
        attrs = product_attributes(seed, ids)
        return product_rows(seed, ids, attrs.initial_price_cents, np.ones(count, bool), created, created)
    day = as_of // DAY_US
    return campaign_rows(seed, ids, day - 120, day, as_of)
