"""The speed-ups give exactly what the plain versions give: packed-key sorts, prefixed ids, scale-independent
slices, and the pool builder's forked half."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from generator import pools as pool_module
from generator.behaviour import _session_time_order
from generator.columns import prefixed_ids
from generator.config import SimulationConfig
from generator.events import DYNAMODB_ROWS_ONLY_SCHEMA
from generator.simulation import CDC_ORDER, EMIT_ORDER, Simulation, _sort_order


def test_session_time_order_is_the_stable_lexsort() -> None:
    rng = np.random.default_rng(1)
    session = rng.integers(0, 500, 20_000)
    ts = 1_793_491_200_000_000 + rng.integers(0, 3, 20_000) * 1_000_000  # many ties: stability matters
    assert (_session_time_order(session, ts) == np.lexsort((ts, session))).all()


def test_emit_order_sort_matches_arrow_with_rows_in_and_out_of_seq_order() -> None:
    rng = np.random.default_rng(2)
    n = 50_000
    emit = 1_793_491_200_000_000 + rng.integers(0, 5, n) * 60_000_000  # ties on emit time
    for seq in (np.arange(n) * 3, rng.permutation(n)):  # in seq order, and not (every run of ties is sorted again)
        table = pa.Table.from_arrays(
            [pa.array(emit), pa.array(seq), pa.array(np.zeros(n, np.int8)), pa.nulls(n)],
            schema=DYNAMODB_ROWS_ONLY_SCHEMA,
        )
        expected = pc.sort_indices(table, sort_keys=EMIT_ORDER).to_numpy()
        assert (_sort_order(table, EMIT_ORDER) == expected).all()


@pytest.mark.parametrize("spread_us", [86_400_000_000, 2**62], ids=["a day (packed key)", "too wide to pack"])
def test_cdc_order_sort_matches_arrow(spread_us: int) -> None:
    """Transactions in the same microsecond, rows of a transaction out of `tx_pos` order, full ties, and times
    spread over more than the 16-bit radix step's buckets."""
    rng = np.random.default_rng(3)
    n = 40_000
    emit = rng.integers(0, spread_us // 1_000_000, n) * 1_000_000
    emit[: n // 4] = emit[n // 4 : n // 2]  # many equal times
    table = pa.table(
        {
            "emit_us": emit,
            "tx_key": rng.integers(-50, 0, n),
            "tx_pos": rng.integers(0, 4, n).astype(np.int32),
        }
    )
    expected = pc.sort_indices(table, sort_keys=CDC_ORDER).to_numpy()
    assert (_sort_order(table, CDC_ORDER) == expected).all()


@pytest.mark.parametrize(
    "numbers",
    [
        np.arange(100, 1_000),
        np.arange(995, 1_005),
        np.array([7, 12_345, 3, 99]),
        np.zeros(0, np.int64),
        np.arange(9_990, 31_000),
        np.arange(999_995, 1_000_005),
        np.arange(123_456_789_000, 123_456_799_999),
    ],
    ids=["one width (2-D copy)", "two widths", "mixed", "empty", "consecutive", "consecutive, a power of ten", "large"],
)
def test_prefixed_ids_equal_a_plain_string_join(numbers: np.ndarray) -> None:
    expected = pa.array([f"evt-{n}" for n in numbers.tolist()], pa.string())
    assert prefixed_ids("evt-", numbers).equals(expected)


def test_slices_hold_the_same_number_of_orders_at_every_scale() -> None:
    fills = {}
    for scale in (1.0, 4.0):
        slices = Simulation(SimulationConfig(scale=scale, days=7), encode=False).slices
        fills[scale] = np.mean([s.orders for s in slices[:-1]])
    limit = SimulationConfig().orders_per_slice
    assert all(0.9 * limit < fill < 1.1 * limit for fill in fills.values()), fills


def test_pools_from_the_forked_half_equal_a_sequential_build() -> None:
    codes = [str(code) for code in pool_module.COUNTRIES]
    assert pool_module._all_country_values(3) == pool_module._country_values(3, codes)


def test_pools_with_only_the_providers_they_use_equal_a_faker_with_all(monkeypatch: pytest.MonkeyPatch) -> None:
    def with_all_providers(locale: str, seed: int, providers: list[str] | None = None) -> object:
        return seeded_faker(locale, seed)

    def values(built: pool_module.Pools) -> list[list[object]]:
        return [getattr(built, field.name).tolist() for field in dataclasses.fields(built)]

    seeded_faker = pool_module._seeded_faker
    fewer = values(pool_module.pools.__wrapped__(5))
    monkeypatch.setattr(pool_module, "_seeded_faker", with_all_providers)
    assert values(pool_module.pools.__wrapped__(5)) == fewer
