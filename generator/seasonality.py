"""Seasonality: how busy each simulated day is (weekday/weekend, month, Black Friday, Christmas) and when in the
day things happen. Weights multiply; the yearly order volume is spread over days in proportion to them."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from generator.config import ORDERS_PER_YEAR_AT_SCALE_1, SimulationConfig

MONTH_FACTORS = np.array([0.85, 0.82, 0.92, 0.95, 1.0, 0.95, 0.93, 0.93, 1.0, 1.05, 1.15, 1.3])
# Share of a day's activity per hour (UTC): quiet nights, lunch bump, evening peak.
HOUR_PROFILE = np.array(
    [0.8, 0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 1.8, 2.6, 3.2, 3.6, 4.0, 4.6, 4.3, 4.0, 4.0, 4.4, 5.0, 5.8, 6.6, 7.0, 6.4,
     4.6, 2.2]
)  # fmt: skip
HOUR_PROFILE = HOUR_PROFILE / HOUR_PROFILE.sum()
DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000


def black_friday(year: int) -> date:
    """The fourth Friday of November."""
    first = date(year, 11, 1)
    first_friday = first + timedelta(days=(4 - first.weekday()) % 7)
    return first_friday + timedelta(weeks=3)


def day_weight(day: date, config: SimulationConfig) -> float:
    weight = float(MONTH_FACTORS[day.month - 1])
    if day.weekday() >= 5:
        weight *= config.weekend_factor
    bf = black_friday(day.year)
    if day == bf:
        weight *= config.black_friday_factor
    elif day == bf + timedelta(days=3):
        weight *= config.cyber_monday_factor
    elif bf < day < bf + timedelta(days=3):
        weight *= (config.black_friday_factor + 1) / 2
    elif date(day.year, 12, 8) <= day <= date(day.year, 12, 21):
        weight *= config.christmas_factor
    elif date(day.year, 12, 24) <= day <= date(day.year, 12, 26):
        weight *= 0.6
    return weight


def day_weights(start: date, days: int, config: SimulationConfig) -> np.ndarray:
    return np.array([day_weight(start + timedelta(days=i), config) for i in range(days)])


def expected_orders_per_day(config: SimulationConfig) -> np.ndarray:
    """Expected orders on each simulated day: the yearly volume spread by the weights of the year that starts on
    `start_date`, so a shorter run gets exactly the share of its (weighted) days."""
    year = day_weights(config.start_date, 365, config)
    run = day_weights(config.start_date, config.days, config)
    return ORDERS_PER_YEAR_AT_SCALE_1 * config.scale * run / year.sum()


def times_in_day(rng: np.random.Generator, day_start_us: int, n: int) -> np.ndarray:
    """`n` sorted timestamps (us) within one day, following the hourly profile."""
    hours = rng.choice(24, size=n, p=HOUR_PROFILE)
    offsets = hours * HOUR_US + rng.integers(0, HOUR_US, size=n)
    return np.sort(day_start_us + offsets)


# the hour-of-day profile as a cumulative distribution over the day (piecewise uniform within each hour)
_DAY_SHARE = np.r_[0.0, np.cumsum(HOUR_PROFILE)]
_HOUR_EDGES = np.arange(25, dtype=np.float64) * HOUR_US


def day_time_at_share(shares: np.ndarray) -> np.ndarray:
    """Offsets (us) into a day by which `shares` of its activity (hour profile) have happened."""
    return np.interp(shares, _DAY_SHARE, _HOUR_EDGES).astype(np.int64)


def times_in_part(rng: np.random.Generator, day_start_us: int, t0: int, t1: int, n: int) -> np.ndarray:
    """`n` sorted timestamps (us) in [t0, t1), part of the day starting at `day_start_us`, following the hourly
    profile (inverse of its cumulative distribution)."""
    low, high = np.interp([t0 - day_start_us, t1 - day_start_us], _HOUR_EDGES, _DAY_SHARE)
    offsets = np.interp(rng.uniform(low, high, n), _DAY_SHARE, _HOUR_EDGES).astype(np.int64)
    return np.sort(np.clip(day_start_us + offsets, t0, t1 - 1))
