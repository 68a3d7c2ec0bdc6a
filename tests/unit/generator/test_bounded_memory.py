"""The memory-bounding pieces give exactly what building everything at once gives: Debezium lines built per
range, newline-terminated pieces, rolling files that never split a batch, spilled events read back in order, and
the jemalloc pool switches that leave a user's choice alone; an interrupted run stops its router thread first; a slice
the simulation handed out is referenced by its consumer only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from generator import memory
from generator.config import SimulationConfig
from generator.encoding import debezium_events, debezium_lines, debezium_positions
from generator.events import CDC_SCHEMA, DYNAMODB_ROWS_ONLY_SCHEMA
from generator.simulation import Simulation
from generator.writers.lines import LINES_PER_PIECE, RollingJsonl, line_bytes


def _cdc_events(n: int) -> pa.Table:
    rng = np.random.default_rng(3)
    emit = np.sort(1_793_491_200_000_000 + rng.integers(0, 50, n) * 1_000_000)
    after = pa.array([f'{{"id":{i}}}' if i % 7 else None for i in range(n)], pa.string())
    before = pa.array([f'{{"id":{i},"v":0}}' if i % 3 == 0 or i % 7 == 0 else None for i in range(n)], pa.string())
    return pa.Table.from_arrays(
        [
            pa.array(emit),
            pa.array(-rng.integers(1, 20, n)),
            pa.array(np.arange(n, dtype=np.int32)),
            pa.array(rng.choice(["orders", "payments"], n)),
            pa.array(np.where(np.arange(n) % 7 == 0, "d", np.where(np.arange(n) % 3 == 0, "u", "c"))),
            before,
            after,
            pa.array(emit - 1000),
        ],
        schema=CDC_SCHEMA,
    )


def test_debezium_lines_per_range_equal_the_lines_built_at_once() -> None:
    events = _cdc_events(1_000)
    events = pa.concat_tables([events.slice(0, 400), events.slice(400)])  # chunked, as the router hands it over
    whole = debezium_events(events, 1_000, 10)
    positions = debezium_positions(events, 1_000, 10)
    pieces = [debezium_lines(events, positions, first, 128) for first in range(0, events.num_rows, 128)]
    assert pa.chunked_array(pieces).to_pylist() == whole.column("line").to_pylist()
    assert (positions.lsn == whole.column("lsn").to_numpy()).all()


def test_lines_are_written_in_pieces_with_one_newline_each() -> None:
    values = [f"line {i}" for i in range(2 * LINES_PER_PIECE + 5)]
    assert line_bytes(pa.chunked_array([values[:10], values[10:]])) == ("\n".join(values) + "\n").encode()


def test_a_batch_written_in_parts_never_spans_two_files(tmp_path: Path) -> None:
    files = RollingJsonl(str(tmp_path), rows_per_file=5)
    files.write(pa.array(["a"] * 4))
    files.write(iter([pa.array(["b"] * 3), pa.array(["c"] * 3)]))  # the file is not full yet: all of it goes there
    files.write(pa.array(["d"]))  # the file is full now: a new one
    files.close()
    assert [Path(f).read_text().split() for f in files.files] == [["a"] * 4 + ["b"] * 3 + ["c"] * 3, ["d"]]


def test_waiting_events_come_back_in_the_order_they_were_spilled(tmp_path: Path) -> None:
    simulation = Simulation(SimulationConfig(scale=0.01, days=3), encode=False)
    simulation._spill_dir = tmp_path
    n = 30

    def table(first: int) -> pa.Table:
        rows = np.arange(first, first + n)
        return pa.Table.from_arrays(
            [pa.array(rows), pa.array(rows), pa.array(rows % 5, pa.int8()), pa.nulls(n)],
            schema=DYNAMODB_ROWS_ONLY_SCHEMA,
        )

    simulation._spill(1, [(2, table(0)), (3, table(100))])
    simulation._spill(1, [(2, pa.concat_tables([table(200), table(300)])), (5, table(400))])
    back = pa.Table.from_batches(simulation._unspill(1, 2), DYNAMODB_ROWS_ONLY_SCHEMA)
    assert back.column("seq").to_pylist() == [*range(0, 30), *range(200, 230), *range(300, 330)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00000000.arrow", "00000001.arrow"]  # others still wait
    simulation._unspill(1, 3)
    simulation._unspill(1, 5)
    assert list(tmp_path.iterdir()) == []  # every file is deleted once all its targets have read it


def test_the_pool_switch_leaves_a_chosen_pool_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = pa.system_memory_pool()
    previous = pa.default_memory_pool()
    pa.set_memory_pool(chosen)
    try:
        monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
        memory.use_jemalloc_pool(0)
        assert pa.default_memory_pool().backend_name == "system"
        monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL")
        try:
            pa.jemalloc_memory_pool()
            expected = "jemalloc"
        except NotImplementedError:  # a pyarrow built without jemalloc keeps its pool
            expected = "system"
        memory.use_jemalloc_pool(0)
        assert pa.default_memory_pool().backend_name == expected
        pa.set_memory_pool(chosen)
        monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")  # chosen by the `lakehouse` command
        memory.use_jemalloc_pool(0)
        assert pa.default_memory_pool().backend_name == expected
    finally:
        pa.set_memory_pool(previous)


_ARROW_DEFAULT_POOL_AFTER_PREFERENCE = """
from generator import memory
before = memory.prefer_jemalloc_process_wide()
import pyarrow as pa
print(before, memory.prefer_jemalloc_process_wide(), pa.default_memory_pool().backend_name)
"""


@pytest.mark.parametrize(
    ("chosen", "expected_pool"), [(None, "jemalloc"), ("jemalloc", "jemalloc"), ("system", "system")]
)
def test_the_process_wide_preference_sets_arrows_default_pool_before_pyarrow_loads(
    chosen: str | None, expected_pool: str
) -> None:
    """In a fresh interpreter (this one has loaded pyarrow already): the preference decides Arrow's C++ default pool,
    which the Parquet writer allocates from, unless the user chose one; once pyarrow is loaded it changes nothing."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != memory.ARROW_POOL_ENV}
    if chosen:
        env[memory.ARROW_POOL_ENV] = chosen
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow has no jemalloc")
    done = subprocess.run(
        [sys.executable, "-c", _ARROW_DEFAULT_POOL_AFTER_PREFERENCE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["True", "False", expected_pool]


def test_an_interrupted_run_stops_the_router_before_closing_its_encoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer failing mid-run surfaces its error; the router thread (which encodes with one of the run's DuckDB
    connections) is stopped first: closing an encoder under a running encode corrupted the heap."""
    import threading

    from generator import run
    from generator.encoding import Encoder

    routers_alive_at_close: list[int] = []
    close = Encoder.close

    def close_and_record(self: Encoder) -> None:
        routers_alive_at_close.append(sum(t.name.startswith("generator-route") for t in threading.enumerate()))
        if routers_alive_at_close[-1] == 0:  # else closing would block or corrupt memory: the assert below fails
            close(self)

    writes = 0

    def failing_write(self: object, lines: pa.Table) -> None:
        nonlocal writes
        writes += 1
        if writes == 3:
            raise OSError("disk full")

    monkeypatch.setattr(Encoder, "close", close_and_record)
    monkeypatch.setattr(run.DynamoDBWriter, "write", failing_write)
    with pytest.raises(OSError, match="disk full"):
        run.generate_local(SimulationConfig(seed=7, scale=0.02, days=31, orders_per_slice=1000), tmp_path)
    assert routers_alive_at_close == [0, 0]  # both encoders (the router's and the DynamoDB writer's)


def test_the_simulation_keeps_no_reference_to_a_slice_it_handed_out() -> None:
    """`Simulation.run` pops the router's future before yielding its output, so the consumer holds the only
    reference and can free each table as soon as it has written it (generate_local does)."""
    import gc
    import weakref

    slices = Simulation(SimulationConfig(seed=7, scale=0.05, days=4, orders_per_slice=1000), encode=False).run()
    handed_out = 0
    try:
        for output in slices:
            alive = weakref.ref(output)
            del output
            gc.collect()
            assert alive() is None
            handed_out += 1
    finally:
        slices.close()
    assert handed_out >= 3  # the initial state's output and the slices'
