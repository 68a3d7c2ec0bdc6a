"""Seasonality in the generated orders: weekends, Black Friday and the weeks before Christmas."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from generator.seasonality import MONTH_FACTORS, black_friday
from tests.unit.generator.conftest import Run


def _orders_per_day(run: Run) -> dict[date, float]:
    """Orders per day divided by the month factor, so days of November and December compare."""
    counts = Counter(o["placed_at"].date() for o in run.snapshot("orders").rows)
    start = run.config.start_date
    days = [start + timedelta(days=i) for i in range(run.config.days)]
    return {d: counts[d] / MONTH_FACTORS[d.month - 1] for d in days}


def test_weekends_are_busier_within_the_configured_band(nov_dec_run: Run) -> None:
    per_day = _orders_per_day(nov_dec_run)
    bf = black_friday(2026)
    ordinary = {d: n for d, n in per_day.items() if d.month == 11 and not bf <= d <= bf + timedelta(days=3)}
    ordinary |= {d: n for d, n in per_day.items() if d.month == 12 and (d.day < 8 or d.day > 26)}
    weekend = [n for d, n in ordinary.items() if d.weekday() >= 5]
    weekday = [n for d, n in ordinary.items() if d.weekday() < 5]
    ratio = (sum(weekend) / len(weekend)) / (sum(weekday) / len(weekday))
    assert abs(ratio - nov_dec_run.config.weekend_factor) < 0.2, ratio


def test_black_friday_and_christmas_peaks(nov_dec_run: Run) -> None:
    per_day = _orders_per_day(nov_dec_run)
    cfg = nov_dec_run.config
    bf = black_friday(2026)
    november_weekdays = [n for d, n in per_day.items() if d.month == 11 and d.weekday() < 5 and d < bf]
    baseline = sum(november_weekdays) / len(november_weekdays)
    assert abs(per_day[bf] / baseline - cfg.black_friday_factor) < 0.8
    assert abs(per_day[bf + timedelta(days=3)] / baseline - cfg.cyber_monday_factor) < 0.8
    advent = [n for d, n in per_day.items() if d.month == 12 and 8 <= d.day <= 21 and d.weekday() < 5]
    assert abs(sum(advent) / len(advent) / baseline - cfg.christmas_factor) < 0.35
    assert per_day[date(2026, 12, 25)] < baseline


def test_orders_follow_the_hour_of_day_profile(nov_dec_run: Run) -> None:
    hours = Counter(o["placed_at"].hour for o in nov_dec_run.snapshot("orders").rows)
    assert hours[20] > 3 * hours[3]
