"""The simulation loop: time is cut into slices of about `orders_per_slice` orders at any scale (quiet days
grouped, days cut where a slice is full); each slice generates the customers, catalog changes, orders and
behaviour that start in it, and receives the events of earlier slices that fall into it (later order stages,
session ends, late events), which wait on disk meanwhile. Memory holds about two slices of events (one simulated,
one routed) plus a few integers per customer and product, so it does not grow with the simulated time or the
scale.

Everything random comes from one `np.random.default_rng(seed)`, drawn in a fixed order by the simulation thread;
the router thread builds, encodes and routes what it recorded (see `Simulation.run`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from array import array
from collections import defaultdict, deque
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from itertools import chain, pairwise
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.behaviour import CartSpec, customer_web_user_ids, simulate_behaviour, web_user_rows
from generator.columns import choose, contract_table, ints, prefixed_ids, timestamps
from generator.config import MIN_PRODUCTS, SIGNUPS_PER_YEAR_PER_SCALE, SimulationConfig
from generator.context import DAY, MINUTE, SimContext
from generator.encoding import Encoder
from generator.entities import (
    SEGMENT_CAMPAIGN_PROPENSITY,
    SEGMENT_ORDER_WEIGHT,
    CampaignCalendar,
    InitialCustomers,
    campaigns_for,
    customer_country_index,
    customer_rows,
    initial_product_created_us,
    product_attributes,
    product_rows,
)
from generator.events import Build, EventSink, built, with_table_names
from generator.memory import (
    DECAY_MS_ROWS_ONLY,
    DECAY_MS_WITH_JSON,
    TRIM_EVERY_ROWS_ONLY,
    TRIM_EVERY_WITH_JSON,
    use_jemalloc_pool,
)
from generator.orders import WAREHOUSES, OrderBatch, simulate_orders
from generator.seasonality import day_time_at_share, day_weights, expected_orders_per_day, times_in_day, times_in_part
from lakehouse.memory import trim_malloc

SNAPSHOT_TX = -1  # the initial snapshot (op r) is one transaction
IMAGE_FORMATS = np.array(["jpeg", "png", "webp"])
RESTOCK_REASONS = np.array(["purchase_order", "adjustment"])
MAX_ORDER_WEIGHT = float(SEGMENT_ORDER_WEIGHT.max())
ENTITY_CHUNK = 50_000  # customers per piece of the initial snapshot (about a slice's memory)
PRODUCT_CHUNK = 20_000  # products per piece (with their 1-4 image records each)
CDC_ORDER = [("emit_us", "ascending"), ("tx_key", "ascending"), ("tx_pos", "ascending")]
EMIT_ORDER = [("emit_us", "ascending"), ("seq", "ascending")]  # customers/products rows built at a time
LANDING_ORDER = [("table", "ascending"), ("day", "ascending"), *EMIT_ORDER]  # the landing writer's partitions
SINK_ORDERS = (CDC_ORDER, EMIT_ORDER, LANDING_ORDER)  # the sort keys of the cdc, dynamodb and landing events


@dataclass(frozen=True)
class Segment:
    """Orders of one day, or of part of a day, [t0, t1), that fall into one slice."""

    day: int  # offset from the start date
    t0: int
    t1: int
    orders: int

    @property
    def whole_day(self) -> bool:
        return self.t1 - self.t0 == DAY


@dataclass(frozen=True)
class Slice:
    """A time window [t0, t1) holding about `orders_per_slice` orders: whole quiet days, and parts of days cut
    where the running order count reaches the limit."""

    index: int
    t0: int
    t1: int
    segments: tuple[Segment, ...]

    @property
    def first_day(self) -> int:
        return self.segments[0].day

    @property
    def days(self) -> float:
        return (self.t1 - self.t0) / DAY

    @property
    def orders(self) -> int:
        return sum(segment.orders for segment in self.segments)


@dataclass
class SliceOutput:
    """What one slice emits (each table sorted in emit order) and the final rows it settled."""

    index: int
    window: tuple[int, int]
    cdc: pa.Table
    dynamodb: pa.Table
    landing: pa.Table
    snapshot: dict[str, list[pa.Table]]
    orders: int


def _append(current: np.ndarray, more: np.ndarray) -> np.ndarray:
    return (
        np.concatenate([current, more.astype(current.dtype, copy=False)])
        if len(current)
        else more.astype(current.dtype)
    )


def id_chunks(first: int, stop: int, size: int = ENTITY_CHUNK) -> Iterator[np.ndarray]:
    """Ids first..stop-1 in pieces of `size` (entity state is read and emitted a piece at a time)."""
    for start in range(first, stop, size):
        yield np.arange(start, min(start + size, stop), dtype=np.int64)


def _find(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where `ids` are (or would be inserted) in `sorted_ids`, and which of them are there."""
    position = np.searchsorted(sorted_ids, ids)
    found = position < len(sorted_ids)
    found[found] = sorted_ids[position[found]] == ids[found]
    return position, found


def _upsert(table: dict[str, np.ndarray], values: dict[str, np.ndarray]) -> None:
    """Sparse columns keyed by the ascending `table["id"]`: the rows of `values["id"]` (distinct, ascending) are
    overwritten where present and inserted otherwise."""
    position, found = _find(table["id"], values["id"])
    for name, column in table.items():
        column[position[found]] = values[name][found]
        table[name] = np.insert(column, position[~found], values[name][~found])


class _Growable:
    """Columns preallocated for the expected number of entities (so their size is set once, from the config,
    instead of growing slice by slice); grown by half only if a run exceeds it. Pages not yet written are not
    resident (zeroed allocations)."""

    def __init__(self, dtypes: dict[str, type], capacity: int) -> None:
        self.n = 0
        self.buffers: dict[str, np.ndarray] = {name: np.zeros(capacity, dtype) for name, dtype in dtypes.items()}

    def extend(self, k: int, columns: dict[str, np.ndarray | int | bool]) -> None:
        """`k` more rows; columns not given stay zero."""
        capacity = len(next(iter(self.buffers.values())))
        if self.n + k > capacity:
            capacity = max(self.n + k, capacity + capacity // 2)
            for name, old in self.buffers.items():
                grown = np.zeros(capacity, old.dtype)
                grown[: self.n] = old[: self.n]
                self.buffers[name] = grown
        for name, values in columns.items():
            self.buffers[name][self.n : self.n + k] = values
        self.n += k

    def view(self, name: str) -> np.ndarray:
        """The first n values (in-place updates write through)."""
        return self.buffers[name][: self.n]


SEGMENT_BITS = 0b111  # a customer's state byte: segment (0-4) ...
ERASABLE = 0b1000  # ... will request erasure (never changes, orders or browses) ...
ERASED = 0b10000  # ... has been erased ...
CHANGED = 0b100000  # ... has changed since sign-up (address version and updated time in _Customers._changed)
# chance weight to be drawn for an order, by state byte: one lookup instead of segment weight and erasable flag
ORDER_WEIGHT_BY_STATE = np.array(
    [
        0.0 if state & ERASABLE or state & SEGMENT_BITS >= len(SEGMENT_ORDER_WEIGHT)
        else float(SEGMENT_ORDER_WEIGHT[state & SEGMENT_BITS])
        for state in range(2 * CHANGED)
    ]
)  # fmt: skip


class _Customers:
    """One byte per customer (the state: segment and flags, preallocated); everything else is either a hash of
    (seed, id) or stored only where it deviates from one:
    - the initial base's starting attributes are hashes (entities.InitialCustomers); their state bytes are filled
      from them once (the order sampler reads ~3 candidates' states per order: a lookup is ~5x cheaper than
      hashing them again), the created times are hashed whenever needed;
    - sign-ups during the run (ids after the initial base): the created time, preallocated;
    - customers who changed (~3% a month): sorted ids with their address version and last change time;
    - the ids and erasure times of the ~1% who will request erasure (ids ascending).
    Full rows are rebuilt by entities.customer_rows."""

    def __init__(self, config: SimulationConfig, signup_capacity: int) -> None:
        self.initial = InitialCustomers(config.seed, config.initial_customers, config.start_us, config.erasure_fraction)
        self._state = _Growable({"state": np.uint8}, self.initial.count + signup_capacity)
        self._signup_created = _Growable({"created_us": np.int64}, signup_capacity)
        self._changed: dict[str, np.ndarray] = {
            "id": np.zeros(0, np.int64),  # ascending
            "address_version": np.zeros(0, np.uint16),
            "at": np.zeros(0, np.int64),  # the last change
        }
        self._state.extend(self.initial.count, {})
        state = self._state.view("state")
        erasable_ids = []
        for ids in id_chunks(1, self.initial.count + 1):  # in pieces: no temporaries sized by the base
            segment, erasable = self.initial.segment_and_erasable(ids)
            state[ids - 1] = segment | np.where(erasable, np.uint8(ERASABLE), np.uint8(0))
            erasable_ids.append(ids[erasable])
        self.erasable_ids = np.concatenate(erasable_ids) if erasable_ids else np.zeros(0, np.int64)
        self.erase_at = self.initial.erasure_us(self.erasable_ids)  # aligned with erasable_ids

    def __len__(self) -> int:
        return self._state.n

    def _states(self, ids: np.ndarray) -> np.ndarray:
        return self._state.view("state")[ids - 1]

    def _changed_or(self, ids: np.ndarray, column: str, unchanged: np.ndarray) -> np.ndarray:
        """`unchanged` with the values of the customers who changed replaced from the changed map."""
        which = np.flatnonzero(self._states(ids) & CHANGED)
        unchanged[which] = self._changed[column][np.searchsorted(self._changed["id"], ids[which])]
        return unchanged

    def segment(self, ids: np.ndarray) -> np.ndarray:
        return (self._states(ids) & SEGMENT_BITS).astype(np.int64)

    def erasable(self, ids: np.ndarray) -> np.ndarray:
        return (self._states(ids) & ERASABLE) != 0

    def order_weight(self, ids: np.ndarray) -> np.ndarray:
        return ORDER_WEIGHT_BY_STATE[self._states(ids)]

    def address_version(self, ids: np.ndarray) -> np.ndarray:
        return self._changed_or(ids, "address_version", np.zeros(len(ids), np.int64))

    def created_us(self, ids: np.ndarray) -> np.ndarray:
        """Hashed for the initial base, stored for the sign-ups (hashing all and overwriting the sign-ups' is
        cheaper than splitting the ids)."""
        created = self.initial.created_us(ids)
        signup = np.flatnonzero(ids > self.initial.count)
        created[signup] = self._signup_created.view("created_us")[ids[signup] - self.initial.count - 1]
        return created

    def updated_us(self, ids: np.ndarray) -> np.ndarray:
        return self._changed_or(ids, "at", self.created_us(ids))

    def alive(self, ids: np.ndarray) -> np.ndarray:
        """Those of `ids` who have not been erased."""
        return ids[(self._states(ids) & ERASED) == 0]

    def add(self, created: np.ndarray, erasable: np.ndarray, erase_at: np.ndarray) -> np.ndarray:
        """Sign-ups, of segment 0 ("new"); `erase_at` counts where `erasable`."""
        first = len(self) + 1
        ids = np.arange(first, first + len(created), dtype=np.int64)
        self._state.extend(len(ids), {"state": np.where(erasable, ERASABLE, 0).astype(np.uint8)})
        self._signup_created.extend(len(ids), {"created_us": created})
        self.erasable_ids = _append(self.erasable_ids, ids[erasable])
        self.erase_at = _append(self.erase_at, erase_at[erasable])
        return ids

    def change(self, ids: np.ndarray, address_change: np.ndarray, segment: np.ndarray, when: np.ndarray) -> None:
        """Address and/or segment changes of distinct customers `ids` (ascending) at `when`."""
        version = self.address_version(ids) + address_change
        if len(version) and int(version.max()) > np.iinfo(np.uint16).max:
            raise OverflowError("a customer's address version exceeds 65535 changes")
        state = self._state.view("state")
        state[ids - 1] = (state[ids - 1] & ~np.uint8(SEGMENT_BITS)) | segment.astype(np.uint8) | np.uint8(CHANGED)
        _upsert(self._changed, {"id": ids, "address_version": version, "at": when})

    def erase(self, ids: np.ndarray) -> None:
        self._state.view("state")[ids - 1] |= np.uint8(ERASED)

    def leaving(self, t0: int, t1: int) -> np.ndarray:
        """Ids (ascending) of the customers whose erasure request falls into [t0, t1)."""
        ids = self.erasable_ids[(self.erase_at >= t0) & (self.erase_at < t1)]
        return ids[(self._states(ids) & ERASED) == 0]

    def erasure_time(self, ids: np.ndarray) -> np.ndarray:
        return self.erase_at[np.searchsorted(self.erasable_ids, ids)]

    def alive_rows(self, seed: int, ids: np.ndarray) -> pa.Table:
        return self.rows(seed, self.alive(ids))

    def rows(self, seed: int, ids: np.ndarray) -> pa.Table:
        created = self.created_us(ids)
        updated = self._changed_or(ids, "at", created.copy())
        return customer_rows(seed, ids, self.segment(ids), self.address_version(ids), created, updated)


class _Products:
    """Per product the current price, whether it is for sale and its popularity (13 bytes, preallocated like the
    customers). The created time is a hash of (seed, id) for the initial catalog and stored for products added
    during the run; the updated time is stored only for products that changed (~5% a month, sorted ids)."""

    def __init__(self, config: SimulationConfig, capacity: int) -> None:
        self._seed, self._start_us, self._initial = config.seed, config.start_us, config.initial_products
        self._columns = _Growable({"price_cents": np.int64, "is_active": np.bool_, "popularity": np.float32}, capacity)
        self._added_created = _Growable({"created_us": np.int64}, capacity - self._initial)
        self._updated: dict[str, np.ndarray] = {"id": np.zeros(0, np.int64), "at": np.zeros(0, np.int64)}

    # views of the first len(self) values: in-place updates write through
    price_cents = property(lambda self: self._columns.view("price_cents"))
    is_active = property(lambda self: self._columns.view("is_active"))
    popularity = property(lambda self: self._columns.view("popularity"))

    def __len__(self) -> int:
        return self._columns.n

    def add(self, price: np.ndarray, created: np.ndarray, popularity: np.ndarray) -> np.ndarray:
        """Products in creation order: the initial catalog first (`created` as initial_created_us gives it)."""
        first = len(self) + 1
        ids = np.arange(first, first + len(price), dtype=np.int64)
        self._columns.extend(len(ids), {"price_cents": price, "is_active": True, "popularity": popularity})
        added = ids > self._initial
        self._added_created.extend(int(added.sum()), {"created_us": created[added]})
        return ids

    def initial_created_us(self, ids: np.ndarray) -> np.ndarray:
        return initial_product_created_us(self._seed, ids, self._start_us)

    def created_us(self, ids: np.ndarray) -> np.ndarray:
        created = self.initial_created_us(ids)
        added = np.flatnonzero(ids > self._initial)
        created[added] = self._added_created.view("created_us")[ids[added] - self._initial - 1]
        return created

    def set_updated(self, ids: np.ndarray, when: np.ndarray) -> None:
        """Changes of distinct products `ids` (ascending) at `when`."""
        _upsert(self._updated, {"id": ids, "at": when})

    def updated_us(self, ids: np.ndarray, created: np.ndarray) -> np.ndarray:
        updated = created.copy()
        position, found = _find(self._updated["id"], ids)
        updated[found] = self._updated["at"][position[found]]
        return updated

    def rows(self, seed: int, ids: np.ndarray) -> pa.Table:
        i, created = ids - 1, self.created_us(ids)
        return product_rows(seed, ids, self.price_cents[i], self.is_active[i], created, self.updated_us(ids, created))


def _expected_signups(config: SimulationConfig, year_weight: float) -> float:
    """Sign-ups over the whole run, as the slices draw them (Poisson means in proportion to their day weights)."""
    run_weight = float(day_weights(config.start_date, config.days, config).sum())
    return SIGNUPS_PER_YEAR_PER_SCALE * config.scale * run_weight / year_weight


def _capacity(initial: int, expected_more: float) -> int:
    """Room for the initial entities and the expected additions (Poisson counts) plus five standard deviations."""
    return initial + int(expected_more + 5 * expected_more**0.5) + 64


def plan_slices(config: SimulationConfig, rng: np.random.Generator) -> list[Slice]:
    """Daily order counts (Poisson around the seasonal expectation), cut into slices of `orders_per_slice`
    orders whatever the scale: a day is cut at the times where the running count is expected to reach the limit
    (following the hour-of-day profile), and its orders are shared between the parts (a multinomial draw). The
    order times themselves are drawn when a slice is simulated, so the plan holds a few numbers per slice."""
    counts = rng.poisson(expected_orders_per_day(config))
    limit = config.orders_per_slice
    slices: list[Slice] = []
    segments: list[Segment] = []
    filled = 0

    def close() -> None:
        nonlocal segments, filled
        if segments:
            slices.append(Slice(len(slices), segments[0].t0, segments[-1].t1, tuple(segments)))
        segments, filled = [], 0

    for day, count in enumerate(int(c) for c in counts):
        start = config.start_us + day * DAY
        if filled >= limit:  # the drawn share of a cut day's last part can exceed the limit
            close()
        if filled + count <= limit:
            segments.append(Segment(day, start, start + DAY, count))
            filled += count
            continue
        # shares of the day's orders at which a slice is full: after (limit - filled), then every `limit`
        shares = np.arange(limit - filled, count, limit) / count
        cuts = [start, *(start + int(offset) for offset in day_time_at_share(shares)), start + DAY]
        parts = rng.multinomial(count, np.diff(np.r_[0.0, shares, 1.0]))
        for k, (t0, t1) in enumerate(pairwise(cuts)):
            if t1 > t0:
                segments.append(Segment(day, t0, t1, int(parts[k])))
                filled += int(parts[k])
            if k < len(shares):
                close()
    close()
    return slices


def _read_at(path: str, offset: int, size: int) -> bytes:
    """`size` bytes of a file from `offset`: one open and positioned read (no Arrow file object and seek per run)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, size, offset)
    finally:
        os.close(fd)


def _sort_order(table: pa.Table, keys: list[tuple[str, str]]) -> np.ndarray:
    """Row order by `keys`, ascending, stable. For the sinks sorted by emit time first (`CDC_ORDER`, `EMIT_ORDER`):
    by (emit time, row number), then the few runs of equal times whose rows are not in the order of the other keys
    (two transactions in the same microsecond) are sorted again; Arrow's multi-key sort is ~3x slower."""
    n = table.num_rows
    if n > 1 and keys[0][0] == "emit_us" and all(order == "ascending" for _, order in keys):
        emit = table.column("emit_us").to_numpy()
        order = _emit_then_row_order(emit)
        if order is not None:
            _sort_equal_runs(order, emit[order], [table.column(key).to_numpy() for key, _ in keys[1:]])
            return order
    return pc.sort_indices(table.select([key for key, _ in keys]), sort_keys=keys).to_numpy()


def _emit_then_row_order(emit: np.ndarray) -> np.ndarray | None:
    """Row numbers by (emit time, row number); None if the two do not fit one int64.

    Both are packed into one int64 and sorted by value (unique keys, so any sort is stable), in two steps that take
    half the time of one `np.sort` (numpy sorts int64 at ~40 ns per element on these machines): a stable radix
    argsort of the top 16 bits of the time, then timsort, which merges the short disorders left in near-linear
    time."""
    n = len(emit)
    row_bits = n.bit_length()
    offset = emit - emit.min()
    time_bits = int(offset.max()).bit_length()
    if time_bits + row_bits > 63:
        return None
    packed = (offset << row_bits) | np.arange(n, dtype=np.int64)
    buckets = (offset >> max(time_bits - 16, 0)).astype(np.uint16)
    packed = packed[np.argsort(buckets, kind="stable")]
    packed.sort(kind="stable")
    return packed & ((1 << row_bits) - 1)


def _sort_equal_runs(order: np.ndarray, sorted_first: np.ndarray, then_by: list[np.ndarray]) -> None:
    """Re-sorts, in place, the runs of `order` with equal `sorted_first` whose rows are out of order by the columns
    `then_by` (compared lexicographically; full ties stay in row order)."""
    if then_by and (then_by[0][1:] > then_by[0][:-1]).all():
        return  # rows already in the order of the next column (the DynamoDB and landing sinks' `seq`)
    pairs = np.flatnonzero(sorted_first[1:] == sorted_first[:-1])
    first, second = order[pairs], order[pairs + 1]
    out_of_order, decided = np.zeros(len(pairs), bool), np.zeros(len(pairs), bool)
    for values in then_by:
        a, b = values[first], values[second]
        out_of_order |= ~decided & (b < a)
        decided |= b != a
    if not out_of_order.any():
        return
    run = np.cumsum(np.r_[True, sorted_first[1:] != sorted_first[:-1]])  # run number of each position
    positions = np.flatnonzero(np.isin(run, run[pairs[out_of_order]]))  # the runs to sort again (contiguous)
    rows = order[positions]
    order[positions] = rows[np.lexsort((rows, *[values[rows] for values in reversed(then_by)], run[positions]))]


class Simulation:
    """Iterate `run()` for the slices' outputs; then `final_snapshot()` for the entity tables."""

    def __init__(self, config: SimulationConfig, encoder: Encoder | None = None, encode: bool = True) -> None:
        """`encode=False` builds every row but skips JSON encoding (event line/image columns are null)."""
        use_jemalloc_pool(DECAY_MS_WITH_JSON if encode else DECAY_MS_ROWS_ONLY)
        self._trim_every = TRIM_EVERY_WITH_JSON if encode else TRIM_EVERY_ROWS_ONLY
        self._routing_steps = 0  # counted by the router thread
        self.config = config
        self.encoder = encoder or (Encoder() if encode else None)  # no DuckDB connection without JSON
        rng = np.random.default_rng(config.seed)
        self.ctx = SimContext(config=config, rng=rng, sink=EventSink(self.encoder))
        sink = self.ctx.sink
        self._sink_schemas = (sink.cdc.schema, sink.dynamodb.schema, sink.landing.schema)
        self.slices = plan_slices(config, rng)
        self._year_weight = float(day_weights(config.start_date, 365, config).sum())
        self.customers = _Customers(config, _capacity(0, _expected_signups(config, self._year_weight)))
        self.products = _Products(
            config, _capacity(config.initial_products, config.initial_products * 0.15 * config.days / 365)
        )
        self.campaigns = campaigns_for(config)
        self.calendar = CampaignCalendar(self.campaigns, rng)
        self._known_products = 0  # products created before the current slice (ids 1..n): for sale in it
        self._for_sale: tuple[np.ndarray, np.ndarray] | None = None  # active product ids, cumulative popularity
        empty = np.zeros(0, np.int64)
        self._price_changes: tuple[np.ndarray, np.ndarray, np.ndarray] = (empty, empty, empty)
        # per sink (cdc, dynamodb, landing): target slice -> (spill file, offset, message sizes) of the
        # events waiting for that slice
        # per sink (cdc, dynamodb, landing): target slice -> (spill file number, offset, size) of each serialized
        # record batch waiting for that slice, flat in an int64 array (~30k runs wait at scale 4: as tuples they
        # took ~2.5 MB)
        self._pending_batches: list[dict[int, array[int]]] = [defaultdict(lambda: array("q")) for _ in range(3)]
        self._spill_readers: dict[int, int] = {}  # spill file number -> targets that have not read their part yet
        self._spill_dir: Path | None = None
        self._spilled = 0
        self._slice_starts = np.array([s.t0 for s in self.slices], dtype=np.int64)

    @property
    def expected_orders(self) -> int:
        return sum(s.orders for s in self.slices)

    def window(self, s: Slice) -> tuple[int, int]:
        return s.t0, s.t1

    # ------------------------------------------------------------------ the loop
    def run(self) -> Generator[SliceOutput, None, None]:
        """Slice outputs in order. The events a slice generated are routed (sorted, spilled) in a worker thread
        while the next slice is simulated: Arrow and numpy release the GIL for that work, so it overlaps on a
        second core. Only the worker touches the pending events, and it routes the slices in order, so the
        output is the same as routing inline."""
        self._spill_dir = Path(tempfile.mkdtemp(prefix="generator-pending-"))
        router = ThreadPoolExecutor(max_workers=1, thread_name_prefix="generator-route")
        # at most two: the slice being routed and the one routed before it, handed out while the next is simulated
        routing: deque[Future[SliceOutput]] = deque()
        try:
            for s in self.slices:
                window = self.window(s)
                if s.index == 0:
                    for _ in self._initial_state():
                        routing.append(router.submit(self._route, s, window, 0, *self._detach()))
                        if len(routing) > 1:
                            # popped, not kept: the consumer holds the only reference to the output, so it can
                            # free each table as soon as it is written
                            yield routing.popleft().result()
                n_orders = self._simulate_slice(s, window)
                routing.append(router.submit(self._route, s, window, n_orders, *self._detach()))
                if len(routing) > 1:
                    yield routing.popleft().result()
                    pa.default_memory_pool().release_unused()  # give the freed slice's buffers back to the OS
            while routing:
                yield routing.popleft().result()
        finally:
            for future in routing:
                future.cancel()
            router.shutdown(wait=True)
            shutil.rmtree(self._spill_dir, ignore_errors=True)

    def _detach(self) -> tuple[tuple[list[pa.Table | Build], ...], dict[str, list[pa.Table | Build]]]:
        """The events and final rows generated since the last call, handed over to the router."""
        sink = self.ctx.sink
        events = tuple(batches.detach() for batches in (sink.cdc, sink.dynamodb, sink.landing))
        snapshot = dict(self.ctx.snapshot)
        self.ctx.snapshot.clear()
        return events, snapshot

    def _spill(self, sink: int, groups: list[tuple[int, pa.Table]]) -> None:
        """Events for later slices wait on disk (one file of Arrow IPC messages per routing step and sink, one
        contiguous run per target slice), so memory does not grow with scale x lookahead. A target reads its run
        with one positioned read: at scale 4 a slice collects its events from ~150 earlier steps, and opening an
        IPC file (parsing its footer) per step and target made the router slower than the simulation."""
        number = self._spilled
        self._spilled += 1
        offset = 0
        with open(self._spill_path(number), "wb") as file:
            for target, table in groups:
                for record_batch in table.to_batches():
                    message = record_batch.serialize()
                    file.write(message)
                    self._pending_batches[sink][target].extend((number, offset, message.size))
                    offset += message.size
        self._spill_readers[number] = len(groups)

    def _unspill(self, sink: int, target: int) -> list[pa.RecordBatch]:
        schema = self._sink_schemas[sink]
        pending = np.frombuffer(self._pending_batches[sink].pop(target, array("q")), np.int64).reshape(-1, 3)
        batches = []
        # in spill order, one contiguous run of messages per spill file: cut where the file number changes
        starts = np.flatnonzero(np.diff(pending[:, 0], prepend=-1)).tolist()
        for start, stop in pairwise([*starts, len(pending)]):
            messages = pending[start:stop]
            number, first = int(messages[0, 0]), int(messages[0, 1])
            path = self._spill_path(number)
            run = pa.py_buffer(_read_at(path, first, int(messages[-1, 1] + messages[-1, 2]) - first))
            for offset, size in messages[:, 1:].tolist():
                batches.append(pa.ipc.read_record_batch(run.slice(offset - first, size), schema))
            self._spill_readers[number] -= 1
            if self._spill_readers[number] == 0:
                del self._spill_readers[number]
                os.unlink(path)
        return batches

    def _spill_path(self, number: int) -> str:
        """A str, not a Path: at scale 4 a month takes ~90k of these, and pathlib's parsing was ~30 us each."""
        assert self._spill_dir is not None
        return f"{self._spill_dir}/{number:08d}.arrow"

    def _tx_keys(self, n: int) -> np.ndarray:
        return -1 - self.ctx.ids("tx", n)

    def _initial_state(self) -> Iterator[None]:
        """The database as Debezium's initial snapshot sees it (op r): customers and the catalog. Emitted in
        chunks (the caller routes each) so that memory does not grow with the size of the customer base."""
        cfg, ctx = self.config, self.ctx
        start = cfg.start_us
        c = self.customers
        for ids in id_chunks(1, c.initial.count + 1):  # attributes hashed from (seed, id): nothing drawn
            rows = c.rows(ctx.seed, ids)
            ctx.sink.change("customers", "r", start, np.full(len(ids), SNAPSHOT_TX), ids - 1, start, after=rows)
            keep = ~c.erasable(ids)
            self._web_users_for(ids[keep], c.created_us(ids[keep]), start)
            yield None

        m = cfg.initial_products
        for ids in id_chunks(1, m + 1, PRODUCT_CHUNK):
            self._add_products(len(ids), self.products.initial_created_us(ids), "r", m)
            yield None

    def _web_users_for(self, customer_ids: np.ndarray, first_seen: np.ndarray, emit: np.ndarray | int) -> None:
        rows = web_user_rows(customer_web_user_ids(customer_ids), customer_ids, first_seen)
        self.ctx.sink.dynamodb_put("web_users", rows, np.broadcast_to(np.asarray(emit, np.int64), (len(customer_ids),)))
        self.ctx.keep("web_users", rows)

    def _add_products(self, m: int, created: np.ndarray, op: str, batch: int | None = None) -> None:
        """`m` new products; `batch` = the size of the whole batch they are part of (the popularity ranks)."""
        ctx, rng = self.ctx, self.ctx.rng
        start_id = len(self.products) + 1
        attrs = product_attributes(ctx.seed, np.arange(start_id, start_id + m))
        popularity = 1.0 / (1.0 + rng.integers(0, max(batch or m, 1), m)) ** 0.8
        ids = self.products.add(attrs.initial_price_cents, created, popularity)
        rows = self.products.rows(ctx.seed, ids)
        if op == "r":
            emit: np.ndarray = np.full(m, self.config.start_us)
            position = 1_000_000 + ids - 1  # after the customers in the snapshot transaction
            ctx.sink.change("products", "r", emit, np.full(m, SNAPSHOT_TX), position, emit, after=rows)
        else:
            emit = created
            ctx.sink.change("products", "c", emit, self._tx_keys(m), 0, created, after=rows)
        self._product_images(ids, rows.column("name"), created, emit)

    def _product_images(self, ids: np.ndarray, names: pa.ChunkedArray, created: np.ndarray, emit: np.ndarray) -> None:
        rng = self.ctx.rng
        per_product = 1 + rng.binomial(3, 0.4, len(ids))
        owner = np.repeat(np.arange(len(ids)), per_product)
        k = len(owner)
        image_ids = prefixed_ids("img-", self.ctx.ids("image", k))
        fmt = choose(IMAGE_FORMATS, rng.choice(3, k, p=[0.6, 0.1, 0.3]))
        side = np.array([800, 1200, 1600, 2048])[rng.integers(0, 4, k)]
        uploaded = created[owner] + (np.arange(k) - (np.cumsum(per_product) - per_product)[owner]) * MINUTE
        product_id = ids[owner]
        url = pc.binary_join_element_wise(
            prefixed_ids("https://media.example.com/products/", product_id), image_ids, fmt, "/"
        )
        url = pc.replace_substring_regex(url, r"/(jpeg|png|webp)$", r".\1")
        rows = contract_table(
            "product_images",
            {
                "image_id": image_ids,
                "product_id": ints(product_id),
                "url": url,
                "width": ints(side, pa.int32()),
                "height": ints(side * np.array([1.0, 0.75, 1.25])[rng.integers(0, 3, k)], pa.int32()),
                "format": fmt,
                "size_bytes": ints(side * side // 8 + rng.integers(0, 200_000, k)),
                "alt_text": pc.if_else(
                    pa.array(rng.random(k) < 0.1), pa.scalar(None, pa.string()), names.take(pa.array(owner))
                ),
                "uploaded_at": timestamps(uploaded),
            },
        )
        self.ctx.sink.landing_record("product_images", rows, np.maximum(uploaded, emit[owner]), uploaded)
        self.ctx.keep("product_images", rows)

    # ------------------------------------------------------------------ one slice
    def _simulate_slice(self, s: Slice, window: tuple[int, int]) -> int:
        t0, t1 = window
        self._known_products = len(self.products)  # products are added in creation order, slice by slice
        cfg, ctx, rng = self.config, self.ctx, self.ctx.rng
        days = s.days
        weights = day_weights(cfg.start_date + timedelta(days=s.first_day), s.segments[-1].day - s.first_day + 1, cfg)
        slice_weight = sum(float(weights[g.day - s.first_day]) * (g.t1 - g.t0) / DAY for g in s.segments)

        # customers: sign-ups, changes (address, segment), erasure requests
        n_signups = int(rng.poisson(SIGNUPS_PER_YEAR_PER_SCALE * cfg.scale * slice_weight / self._year_weight))
        created = np.sort(rng.integers(t0, t1, n_signups))
        erasable = rng.random(n_signups) < cfg.erasure_fraction
        erase_at = created + rng.exponential(45 * DAY, n_signups).astype(np.int64)
        known = len(self.customers)  # created before this slice: they may change, order and browse in it
        ids = self.customers.add(created, erasable, erase_at)
        ctx.sink.change(
            "customers", "c", created, self._tx_keys(n_signups), 0, created, after=self.customers.rows(ctx.seed, ids)
        )
        self._web_users_for(ids[~erasable], created[~erasable], created[~erasable])

        c = self.customers
        # customers who will request erasure never change, order or browse (~1%: drawn and dropped)
        n_eligible = known - int(np.searchsorted(c.erasable_ids, known, side="right"))
        n_updates = int(rng.poisson(n_eligible * 0.03 * days / 30))
        picks = rng.integers(1, known + 1, n_updates) if known else np.zeros(0, np.int64)
        upd = np.unique(picks[~c.erasable(picks)])
        when = rng.integers(t0, t1, len(upd))
        address_change = rng.random(len(upd)) < 0.5
        segment_before = c.segment(upd)
        new_segment = (segment_before + 1 + rng.integers(0, 4, len(upd))) % 5
        before = c.rows(ctx.seed, upd)
        c.change(upd, address_change, np.where(address_change, segment_before, new_segment), when)
        ctx.sink.change(
            "customers", "u", when, self._tx_keys(len(upd)), 0, when, before=before, after=c.rows(ctx.seed, upd)
        )

        leaving = c.leaving(t0, t1)
        erase_t = c.erasure_time(leaving)
        ctx.sink.change(
            "customers", "d", erase_t, self._tx_keys(len(leaving)), 0, erase_t, before=c.rows(ctx.seed, leaving)
        )
        c.erase(leaving)

        # catalog: new products, price changes, a few products retired
        self._catalog_changes(s, window, slice_weight)

        # orders (from eligible customers, weighted by segment) and their carts/sessions
        placed = np.concatenate(
            [
                times_in_day(rng, g.t0, g.orders)
                if g.whole_day
                else times_in_part(rng, g.t0 - g.t0 % DAY, g.t0, g.t1, g.orders)
                for g in s.segments
            ]
            or [np.zeros(0, np.int64)]
        ).astype(np.int64)
        n = len(placed)

        def sample_customers(k: int) -> np.ndarray:
            if not n_eligible:
                raise RuntimeError("no customers to place orders; increase --scale")
            return self._sample_customers(k, known)

        customer = sample_customers(n)
        segment = c.segment(customer)
        wants_campaign = rng.random(n) < SEGMENT_CAMPAIGN_PROPENSITY[segment]
        campaign = np.where(wants_campaign, self.calendar.active(placed), -1)
        n_items = 1 + rng.binomial(4, np.where(segment == 2, 0.4, 0.22))
        products, _ = self._sample_products(n, 6)
        item_order = np.repeat(np.arange(n), n_items)
        item_pos = np.arange(len(item_order)) - (np.cumsum(n_items) - n_items)[item_order]
        product_id = products[item_order, item_pos]
        unit_price = self.price_at(product_id, placed[item_order])
        quantity = 1 + rng.binomial(2, 0.2, len(item_order))
        discount = np.round(quantity * unit_price * self.calendar.discount_pct(campaign)[item_order]).astype(np.int64)
        country = customer_country_index(ctx.seed, customer, c.address_version(customer))
        order_ids = ctx.ids("order", n)
        cart_numbers = ctx.ids("cart", n)
        batch = OrderBatch(
            order_id=order_ids,
            customer_id=customer,
            campaign_id=campaign,
            shipping_country=country,
            cart_id=prefixed_ids("cart-", cart_numbers),
            placed_us=placed,
            item_order=item_order,
            product_id=product_id,
            quantity=quantity,
            unit_price_cents=unit_price,
            discount_cents=discount,
        )
        simulate_orders(ctx, batch)
        converted = CartSpec(
            cart_numbers=cart_numbers,
            placed_us=placed,
            customer_id=customer,
            campaign_id=campaign,
            order_id=order_ids,
            item_cart=item_order,
            item_product=product_id,
            item_quantity=quantity,
            item_price_cents=unit_price,
            removed_product=products[np.arange(n), n_items],
        )
        simulate_behaviour(
            ctx,
            window,
            converted,
            sample_customers,
            self._sample_products,
            self.price_at,
            self.calendar,
        )
        self._restocks(window, len(item_order))
        return n

    def _sample_customers(self, k: int, known: int) -> np.ndarray:
        """`k` customers among the first `known`, with chances proportional to their segment's order weight
        (0 for those who will request erasure): rejection sampling, so the cost is O(k), not O(customers)."""
        rng, c = self.ctx.rng, self.customers
        chosen: list[np.ndarray] = []
        missing = k
        while missing > 0:
            candidates = rng.integers(1, known + 1, 3 * missing + 16)  # ~40% are accepted
            weight = c.order_weight(candidates)
            accepted = candidates[rng.random(len(candidates)) * MAX_ORDER_WEIGHT < weight][:missing]
            chosen.append(accepted)
            missing -= len(accepted)
        return np.concatenate(chosen) if chosen else np.zeros(0, np.int64)

    def price_at(self, product_ids: np.ndarray, ts_us: np.ndarray) -> np.ndarray:
        """Prices in effect at `ts_us` (within the current slice): a price changed later in the slice still has
        its old value."""
        prices = self.products.price_cents[product_ids - 1].copy()
        changed, when, old = self._price_changes
        if len(changed) and len(product_ids):
            pos = np.minimum(np.searchsorted(changed, product_ids), len(changed) - 1)
            earlier = (changed[pos] == product_ids) & (ts_us < when[pos])
            prices[earlier] = old[pos[earlier]]
        return prices

    def _sample_products(self, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """k distinct active products per row ([n, k] ids and current prices), by popularity."""
        rng, p = self.ctx.rng, self.products
        if self._for_sale is None:  # once per slice, after its catalog changes
            # products added during this slice are not for sale before their insert is committed
            active = np.flatnonzero(p.is_active[: self._known_products])
            self._for_sale = active, np.cumsum(p.popularity[active], dtype=np.float64)
        active, cumulative = self._for_sale
        base = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right").clip(0, len(active) - 1)
        # distinct offsets: steps of 1..19, at most 5 steps < MIN_PRODUCTS active products
        steps = np.concatenate([np.zeros((n, 1), np.int64), rng.integers(1, 20, (n, k - 1))], axis=1)
        position = (base[:, None] + np.cumsum(steps, axis=1)) % len(active)
        ids = active[position] + 1
        return ids, p.price_cents[ids - 1]

    def _catalog_changes(self, s: Slice, window: tuple[int, int], slice_weight: float) -> None:
        cfg, ctx, rng, p = self.config, self.ctx, self.ctx.rng, self.products
        t0, t1 = window
        n_new = int(rng.poisson(cfg.initial_products * 0.15 * s.days / 365))
        existing = len(p)  # all created before this slice (this slice's new products come below)
        n_changes = int(rng.poisson(existing * 0.05 * s.days / 30))
        changed = np.unique(1 + rng.integers(0, existing, n_changes))
        when = rng.integers(t0, t1, len(changed))
        before = p.rows(ctx.seed, changed)
        self._price_changes = (changed, when, p.price_cents[changed - 1].copy())
        factor = rng.uniform(0.85, 1.15, len(changed))
        p.price_cents[changed - 1] = np.maximum(np.round(p.price_cents[changed - 1] * factor / 100) * 100 - 1, 99)
        retire = (rng.random(len(changed)) < 0.02) & (p.is_active.sum() > MIN_PRODUCTS + 20)
        p.is_active[changed[retire] - 1] = False
        p.set_updated(changed, when)
        ctx.sink.change(
            "products", "u", when, self._tx_keys(len(changed)), 0, when, before=before, after=p.rows(ctx.seed, changed)
        )
        if n_new:
            self._add_products(n_new, np.sort(rng.integers(t0, t1, n_new)), op="c")
        self._for_sale = None

    def _restocks(self, window: tuple[int, int], items_sold: int) -> None:
        """Purchase orders (stock in) and stock-count adjustments; each its own transaction."""
        ctx, rng = self.ctx, self.ctx.rng
        t0, t1 = window
        n_po = int(rng.poisson(max(items_sold, 10) / 10))
        n_adj = int(rng.poisson(max(items_sold, 10) / 100))
        n = n_po + n_adj
        products, _ = self._sample_products(n, 1)
        at = np.sort(rng.integers(t0, t1, n))
        quantity = np.concatenate([rng.integers(20, 200, n_po), rng.integers(-5, 6, n_adj) | 1])
        reason = choose(RESTOCK_REASONS, np.repeat([0, 1], [n_po, n_adj]))
        rows = contract_table(
            "inventory_movements",
            {
                "movement_id": ints(ctx.ids("movement", n)),
                "product_id": ints(products[:, 0]),
                "warehouse": choose(WAREHOUSES, rng.integers(0, len(WAREHOUSES), n)),
                "quantity": ints(quantity, pa.int32()),
                "reason": reason,
                "order_id": ints(np.zeros(n, np.int64), null=np.ones(n, bool)),
                "created_at": timestamps(at),
                "updated_at": timestamps(at),
            },
        )
        ctx.sink.change("inventory_movements", "c", at, self._tx_keys(n), 0, at, after=rows)
        ctx.keep("inventory_movements", rows)

    # ------------------------------------------------------------------ routing
    def _route(
        self,
        s: Slice,
        window: tuple[int, int],
        n_orders: int,
        events: tuple[list[pa.Table | Build], ...],
        snapshot: dict[str, list[pa.Table | Build]],
    ) -> SliceOutput:
        """Events that happen in this slice go out now; later ones wait for their slice; events after the end of
        the simulation are never emitted. New events are partitioned by target slice first, so each event is
        sorted once: in the slice that emits it, together with the events that waited for it."""
        routed = []
        for k, (builds, schema, keys) in enumerate(zip(events, self._sink_schemas, SINK_ORDERS, strict=True)):
            tables = built(builds)  # the deferred event tables and JSON encoding of this slice
            # one chunk: Arrow's take on a chunked table first concatenates its chunks (one more copy per take)
            new = pa.concat_tables(tables).combine_chunks() if tables else pa.Table.from_batches([], schema)
            del tables
            # the target slice of each event; events before this slice's start (e.g. a session that began before
            # its order's slice) go out now, events after the end never
            emit = new.column("emit_us").to_numpy()
            target = np.maximum(np.searchsorted(self._slice_starts, emit, side="right") - 1, s.index)
            target[emit >= self.config.end_us] = len(self.slices)
            is_now = target == s.index
            later = np.flatnonzero(~is_now & (target < len(self.slices)))
            if len(later):
                later = later[np.argsort(target[later], kind="stable")]
                later_target = target[later]
                rest = new.take(pa.array(later))  # one copy of the waiting events, grouped by target slice
                bounds = np.flatnonzero(np.diff(later_target)) + 1
                self._spill(
                    k,
                    [
                        (int(later_target[first]), rest.slice(first, last - first))
                        for first, last in zip(np.r_[0, bounds], np.r_[bounds, len(later)], strict=True)
                    ],
                )
                del rest
            # one sort of the key columns and one take of the rows that go out now; the candidates are combined
            # first and their parts dropped, so the slice's JSON is held at most twice (parts or combined, output)
            waiting = self._unspill(k, s.index)
            n_waiting = sum(batch.num_rows for batch in waiting)
            candidates = pa.concat_tables([pa.Table.from_batches(waiting, schema), new]) if waiting else new
            del waiting, new
            candidates = candidates.combine_chunks()
            go_out = np.concatenate([np.ones(n_waiting, bool), is_now])
            order = _sort_order(candidates, keys)
            routed.append(candidates.take(pa.array(order[go_out[order]])))
            del candidates
            pa.default_memory_pool().release_unused()
        cdc, dynamodb, landing = routed
        dynamodb = with_table_names(dynamodb)
        final = {table: rows for table, parts in snapshot.items() if (rows := built(parts))}
        self._routing_steps += 1
        if self._routing_steps % self._trim_every == 0:
            trim_malloc()  # the builds and the previous slice's tables are freed by now
        pa.default_memory_pool().release_unused()  # mimalloc frees this thread's pages only when it is asked here
        return SliceOutput(s.index, window, cdc, dynamodb, landing, final, n_orders)

    def final_snapshot(self) -> Iterator[tuple[str, pa.Table]]:
        """Entity tables whose rows change until the end (customers without the erased, products, campaigns),
        in chunks, in order. Two threads build the chunks, at most two ahead of the one handed out: the router is
        idle by now, and the builds (hashing, Arrow gathers) release the GIL, so they use both cores."""
        seed, c, p = self.config.seed, self.customers, self.products
        builds: Iterator[tuple[str, Build]] = chain(
            (("customers", partial(c.alive_rows, seed, ids)) for ids in id_chunks(1, len(c) + 1)),
            (("products", partial(p.rows, seed, ids)) for ids in id_chunks(1, len(p) + 1)),
        )
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="generator-snapshot") as builders:
            pending: deque[tuple[str, Future[pa.Table]]] = deque()
            for name, build in builds:
                pending.append((name, builders.submit(build)))
                if len(pending) == 2:
                    name, rows = pending.popleft()
                    yield name, rows.result()
            while pending:
                name, rows = pending.popleft()
                yield name, rows.result()
        yield "campaigns", self.campaigns
