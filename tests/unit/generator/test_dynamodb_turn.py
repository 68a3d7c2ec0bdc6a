"""The router's DynamoDB routing and the writer's DynamoDB encoding take turns (`Simulation.dynamodb_turn`): the two
largest working sets of an end-to-end run never add up, and a writer failing mid-slice does not leave the router
waiting for its turn forever."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from generator import run, simulation
from generator.config import SimulationConfig
from generator.encoding import Encoder
from generator.writers import lines

CONFIG = SimulationConfig(seed=7, scale=0.1, days=31, orders_per_slice=1000)  # 12 slices
WIDEN_S = 0.02  # each section sleeps this long inside: without the turns they overlap in most slices


def test_the_router_never_routes_dynamodb_requests_while_the_writer_encodes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = {"router": 0, "writer": 0}
    entered = {"router": 0, "writer": 0}
    overlaps: list[str] = []

    def section(who: str, other: str, work: Any) -> Any:
        inside[who] += 1
        entered[who] += 1
        try:
            if inside[other]:
                overlaps.append(f"the {who} started while the {other} was inside")
            time.sleep(WIDEN_S)
            return work()
        finally:
            inside[who] -= 1

    route_sink, dynamodb_lines = simulation.Simulation._route_sink, Encoder.dynamodb_lines

    def watched_route_sink(self: simulation.Simulation, k: int, *args: Any) -> pa.Table:
        if k != simulation.DYNAMODB_SINK:
            return route_sink(self, k, *args)
        return section("router", "writer", lambda: route_sink(self, k, *args))

    def watched_dynamodb_lines(self: Encoder, *args: Any, **kwargs: Any) -> pa.Array:
        return section("writer", "router", lambda: dynamodb_lines(self, *args, **kwargs))

    monkeypatch.setattr(simulation.Simulation, "_route_sink", watched_route_sink)
    monkeypatch.setattr(Encoder, "dynamodb_lines", watched_dynamodb_lines)
    summary = run.generate_local(CONFIG, tmp_path)
    assert overlaps == []
    assert entered["router"] >= 10 and entered["writer"] >= 10  # both ran in many slices
    assert sum(summary.dynamodb_writes.values()) > 0


def test_a_writer_failing_inside_its_turn_gives_the_turn_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The turn is held while a written piece's generator is suspended: if writing the piece fails, the generator is
    closed (its turn released), so the router thread, waiting for the turn, stops and the error surfaces."""
    write_lines = lines.write_lines
    dynamodb_pieces = 0

    def failing_write_lines(handle: Any, values: Any, terminated: bool = False) -> int:
        nonlocal dynamodb_pieces
        if "/dynamodb/" in handle.name:
            dynamodb_pieces += 1
            if dynamodb_pieces == 3:
                time.sleep(0.5)  # meanwhile the router reaches the next slice's DynamoDB requests: it waits for the turn
                raise OSError("disk full")
        return write_lines(handle, values, terminated)

    route_sink = simulation.Simulation._route_sink

    def slow_route_sink(self: simulation.Simulation, k: int, *args: Any) -> pa.Table:
        if k < simulation.DYNAMODB_SINK:  # the router is still before the DynamoDB sink when the writer fails
            time.sleep(0.2)
        return route_sink(self, k, *args)

    monkeypatch.setattr(lines, "write_lines", failing_write_lines)
    monkeypatch.setattr(simulation.Simulation, "_route_sink", slow_route_sink)
    outcome: list[BaseException | None] = []

    def generate() -> None:
        try:
            run.generate_local(CONFIG, tmp_path)
            outcome.append(None)
        except BaseException as error:  # handed to the test thread
            outcome.append(error)

    worker = threading.Thread(target=generate, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the run hung: the router waits for a turn the failed writer never gave back"
    assert isinstance(outcome[0], OSError) and "disk full" in str(outcome[0])
