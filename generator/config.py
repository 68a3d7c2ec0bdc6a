"""Simulation settings. One frozen dataclass, so a run is fully described by its config (and stored in
manifest.json next to the output)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

ORDERS_PER_YEAR_AT_SCALE_1 = 1_000_000
INITIAL_CUSTOMERS_PER_SCALE = 200_000
SIGNUPS_PER_YEAR_PER_SCALE = 150_000
PRODUCTS_PER_SCALE = 20_000
MIN_PRODUCTS = 100  # cart items use distinct offsets up to 5 * 19 < 100, see behaviour.distinct_products


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that determines a simulation. The same config gives byte-identical output.

    `scale=1` is about one million orders over a simulated year; a shorter `days` gets the orders of those days
    (seasonality-weighted), not a compressed year.
    """

    seed: int = 42
    scale: float = 0.01
    days: int = 31
    # November: a short default run already shows the Black Friday peak.
    start_date: date = date(2026, 11, 1)
    abandonment_rate: float = 0.7  # share of carts that never convert
    late_fraction: float = 0.02  # share of lifecycle changes / click events committed late
    erasure_fraction: float = 0.01  # share of customers who file an erasure request (they never order)
    payment_failure_rate: float = 0.06  # first payment attempt fails
    payment_retry_rate: float = 0.7  # a failed first attempt is retried (else the order is cancelled)
    cancel_after_payment_rate: float = 0.02
    return_rate: float = 0.08  # delivered orders that are returned (all items, refunded)
    review_rate: float = 0.15  # delivered order items that get a review
    ticket_rate: float = 0.04  # orders that get a support ticket
    weekend_factor: float = 1.25  # orders on Saturday/Sunday relative to a weekday
    black_friday_factor: float = 3.0
    cyber_monday_factor: float = 2.5
    christmas_factor: float = 1.6  # the two weeks before Christmas
    browse_sessions_per_order: float = 2.0  # sessions without a cart
    # memory bound: time is cut into slices of about this many orders (at any scale). Each slice costs the same
    # number of numpy/Arrow calls, so larger slices are faster and hold more: 5,000 makes ~30% more rows/s than
    # 2,500 for ~+60-75 MB to Arrow and ~+110 MB end to end (docs/generator.md, "the 250x round").
    orders_per_slice: int = 5_000

    def __post_init__(self) -> None:
        problems = []
        if self.scale <= 0:
            problems.append("scale must be > 0 (1 = about one million orders per simulated year)")
        if self.days < 1:
            problems.append("days must be >= 1")
        for name in (
            "abandonment_rate",
            "late_fraction",
            "erasure_fraction",
            "payment_failure_rate",
            "payment_retry_rate",
            "cancel_after_payment_rate",
            "return_rate",
            "review_rate",
            "ticket_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                problems.append(f"{name} must be in [0, 1), got {value}")
        if self.orders_per_slice < 1000:
            problems.append("orders_per_slice must be >= 1000")
        if problems:
            raise ValueError("invalid SimulationConfig: " + "; ".join(problems))

    @property
    def start(self) -> datetime:
        return datetime(self.start_date.year, self.start_date.month, self.start_date.day, tzinfo=UTC)

    @property
    def start_us(self) -> int:
        return int(self.start.timestamp()) * 1_000_000

    @property
    def end_us(self) -> int:
        return self.start_us + self.days * 86_400_000_000

    @property
    def initial_customers(self) -> int:
        return max(50, round(INITIAL_CUSTOMERS_PER_SCALE * self.scale))

    @property
    def initial_products(self) -> int:
        return max(MIN_PRODUCTS, round(PRODUCTS_PER_SCALE * self.scale))

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["start_date"] = self.start_date.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimulationConfig:
        values = dict(data)
        if isinstance(values.get("start_date"), str):
            values["start_date"] = date.fromisoformat(values["start_date"])
        return cls(**values)
