"""Deterministic entities for the REST API, config validation, and scale."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from generator.config import SimulationConfig
from generator.context import DAY
from generator.entities import API_ENTITIES, campaigns_for, generate_entity
from generator.seasonality import times_in_part
from generator.simulation import Simulation
from lakehouse.contract import get_table


@pytest.mark.parametrize("entity", API_ENTITIES)
def test_api_entities_are_contract_typed_and_deterministic(entity: str) -> None:
    rows = generate_entity(entity, 50, seed=9)
    assert rows.schema == get_table(entity).arrow_schema()
    assert rows.num_rows == 50
    assert rows.equals(generate_entity(entity, 50, seed=9))
    assert not rows.equals(generate_entity(entity, 50, seed=10))
    # overlapping id ranges agree
    assert generate_entity(entity, 10, seed=9, start_id=41).equals(rows.slice(40, 10))


def test_unknown_entity_and_bad_count_name_the_fix() -> None:
    with pytest.raises(ValueError, match="use one of customers, products, campaigns"):
        generate_entity("unicorns", 1)
    with pytest.raises(ValueError, match="count must be >= 0"):
        generate_entity("customers", -1)


def test_campaigns_cover_the_simulated_period() -> None:
    config = SimulationConfig(days=90)
    campaigns = campaigns_for(config).to_pylist()
    assert campaigns == campaigns_for(config).to_pylist()
    assert min(c["start_date"] for c in campaigns) <= config.start_date
    assert all(c["end_date"] > c["start_date"] and 0 < c["discount_pct"] < 1 for c in campaigns)


def test_invalid_config_lists_every_problem() -> None:
    with pytest.raises(ValueError, match=r"scale must be > 0.*abandonment_rate must be in \[0, 1\)"):
        SimulationConfig(scale=0, abandonment_rate=1.5)


def test_order_volume_scales_linearly_and_with_seasonality() -> None:
    year = Simulation(SimulationConfig(scale=1.0, days=365), encode=False).expected_orders
    assert 0.97e6 < year < 1.03e6, "scale 1 is about a million orders a year"
    double = Simulation(SimulationConfig(scale=2.0, days=365), encode=False).expected_orders
    assert 1.95 < double / year < 2.05
    november = Simulation(
        SimulationConfig(scale=1.0, days=30, start_date=SimulationConfig().start_date)
    ).expected_orders
    february = Simulation(
        SimulationConfig(scale=1.0, days=28, start_date=SimulationConfig().start_date.replace(year=2027, month=2))
    ).expected_orders
    assert november / 30 > 1.3 * february / 28, "a short run gets its days' seasonal share, not 1/365 of a year"


def test_slices_bound_the_orders_held_in_memory_and_cover_the_period() -> None:
    config = SimulationConfig(scale=0.5, days=31, orders_per_slice=1000)
    simulation = Simulation(config, encode=False)
    slices = simulation.slices
    assert slices[0].t0 == config.start_us and slices[-1].t1 == config.end_us
    assert all(a.t1 == b.t0 for a, b in pairwise(slices))
    assert all(a.t1 == b.t0 for s in slices for a, b in pairwise(s.segments))
    assert any(not g.whole_day for s in slices for g in s.segments), "days are cut where a slice is full"
    # every slice but the last holds about orders_per_slice orders (the cut shares are drawn, so +- noise),
    # whatever the daily volume: memory does not depend on the scale
    fill = np.array([s.orders for s in slices[:-1]])
    assert fill.max() < 1150 and fill.mean() > 950
    assert sum(s.orders for s in slices) == simulation.expected_orders
    placed = []
    for s in slices:
        for g in s.segments:
            if not g.whole_day:
                times = times_in_part(np.random.default_rng(0), g.t0 - g.t0 % DAY, g.t0, g.t1, 500)
                assert (times >= g.t0).all() and (times < g.t1).all() and (np.diff(times) >= 0).all()
                placed.append(times)
    assert placed
