"""The CDC path end to end on a moto server: simulator -> Kinesis / DynamoDB Streams -> local poller -> the real
consumer Lambdas -> bronze -> silver apply, reconciled with the simulator's ground truth, also when the
transport misbehaves (partial failures after the commit, handler crashes, a crash before the checkpoint)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from generator.demo import simulate_stage
from lakehouse.demo import DemoConfig, DemoContext
from lakehouse.emulator import Emulator
from lakehouse.reconcile import reconcile_silver
from lakehouse.runtime import cdc as runtime_cdc
from lakehouse.runtime import demo as runtime_demo
from lakehouse.runtime.demo import consumers_stage, silver_stage, streams_stage
from lakehouse.silver import apply_table, cdc_tables

pytestmark = pytest.mark.integration


def context(emulator: Emulator, workdir: Path) -> DemoContext:
    config = DemoConfig(workdir=workdir, scale=0.0005, days=3, seed=11)
    return DemoContext(config=config, emulator=emulator, console=Console(quiet=True))


def test_simulated_changes_reach_silver_exactly(emulator: Emulator, tmp_path: Path) -> None:
    ctx = context(emulator, tmp_path)
    simulate_stage(ctx)
    streams_stage(ctx)
    consumers_stage(ctx)
    lines = silver_stage(ctx)

    reconciliation = ctx.results["cdc"]["reconciliation"]
    assert all(r.ok for r in reconciliation.values()), reconciliation
    assert sum(r.matching for r in reconciliation.values()) > 100 and "0 differences" in lines[-1]
    assert {"kinesis", "dynamodb"} == set(ctx.results["cdc"]["poll"])
    # Nothing new to deliver, nothing new to apply.
    consumers_stage(ctx)
    assert sum(s.invocations for s in ctx.results["cdc"]["poll"].values()) == 0
    assert all(apply_table(c, ctx.results["lake_uri"]).noop for c in cdc_tables())


class FlakyTransport:
    """Wraps a real handler: sometimes crashes before it runs, sometimes reports a record as failed after the
    batch committed (a timeout after the commit), which makes the poller redeliver committed records."""

    def __init__(self, handler: Any, rng: random.Random) -> None:
        self.handler, self.rng = handler, rng
        self.faults = 0

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        roll = self.rng.random()
        if roll < 0.15:
            self.faults += 1
            raise TimeoutError("simulated crash before the handler ran")
        response = self.handler(event, context)
        records = event["Records"]
        if roll < 0.4 and len(records) > 1 and not response.get("batchItemFailures"):
            self.faults += 1
            victim = records[self.rng.randrange(1, len(records))]
            sequence = (
                victim["kinesis"]["sequenceNumber"] if "kinesis" in victim else victim["dynamodb"]["SequenceNumber"]
            )
            return {"batchItemFailures": [{"itemIdentifier": sequence}]}
        return response


def test_silver_is_exact_despite_redeliveries_and_crashes(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = context(emulator, tmp_path)
    simulate_stage(ctx)
    streams_stage(ctx)
    rng = random.Random(5)
    transports: list[FlakyTransport] = []
    real_handler_for = runtime_cdc.handler_for

    def flaky_handler_for(name: str) -> Any:
        transports.append(FlakyTransport(real_handler_for(name), rng))
        return transports[-1]

    monkeypatch.setattr(runtime_cdc, "handler_for", flaky_handler_for)
    monkeypatch.setattr(runtime_demo, "BATCH_SIZE", 20)  # more invocations, more faults
    consumers_stage(ctx)
    silver_stage(ctx)  # raises on any difference

    assert sum(t.faults for t in transports) > 3
    stats = ctx.results["cdc"]["poll"]
    assert sum(s.partial_failures + s.handler_errors for s in stats.values()) > 3
    assert sum(s.discarded for s in stats.values()) == 0
    with ctx.emulator.activated():
        results = reconcile_silver(cdc_tables(), ctx.results["lake_uri"], ctx.workdir / "source" / "snapshot")
    assert all(r.ok for r in results)
