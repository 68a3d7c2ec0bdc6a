"""Deterministic entities for the REST API, config validation, and scale."""

from __future__ import annotations

from itertools import pairwise

import pytest

from generator.config import SimulationConfig
from generator.entities import API_ENTITIES, campaigns_for, generate_entity
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
    split = [s for s in slices if s.order_times is not None]
    assert split, "busy days are split"
    assert all(s.orders <= 1000 for s in split)
    assert all(s.t0 <= t < s.t1 for s in split for t in s.order_times)  # type: ignore[union-attr]
    # a whole-day slice exceeds the limit by at most one day's orders
    assert max(s.orders for s in slices) < 2000
