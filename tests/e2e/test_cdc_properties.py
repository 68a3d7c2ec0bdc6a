"""Property: whatever the transport does (duplicates, redeliveries after partial failures, crashes between the
handler's commit and the checkpoint, any interleaving of shards), once the streams are drained silver equals the
ground truth exactly. Runs the real Kinesis consumer (lambdas/cdc_kinesis) and silver apply on a local lake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lakehouse.reconcile import reconcile_tables
from lakehouse.runtime.context import LocalLambdaContext
from lakehouse.settings import LAKE_URI_ENV, QUARANTINE_URI_ENV
from lakehouse.silver import apply_table
from tests.e2e.cdc_history import PRODUCTS, ground_truth, history, shard_records

STEPS = st.lists(st.tuples(st.integers(0, 7), st.booleans()), min_size=1, max_size=40)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    steps = draw(STEPS)
    return {
        "steps": steps,
        "shards": draw(st.integers(1, 3)),
        "duplicated": draw(st.sets(st.integers(0, len(steps) - 1), max_size=5)),
        # The delivery schedule: which shard goes next, batch size, and what goes wrong after the handler ran.
        "schedule": draw(
            st.lists(
                st.tuples(
                    st.integers(0, 2),
                    st.integers(1, 6),
                    st.sampled_from(["ok", "ok", "ok", "partial_failure", "crash_before_checkpoint"]),
                    st.integers(0, 5),
                    st.booleans(),  # run silver apply after this delivery
                ),
                min_size=1,
                max_size=60,
            )
        ),
    }


def deliver(handler: Any, shards: list[list[dict[str, Any]]], schedule: list[tuple[Any, ...]], lake: str) -> None:
    """Play the event source mapping: per-shard checkpoints, redelivery from the first failed record, and
    no checkpoint when the poller 'crashes' after the handler committed. Then drain without faults."""
    checkpoint = [0] * len(shards)
    plan = [*schedule, *[(s, 10, "ok", 0, False) for s in range(len(shards)) for _ in range(60)]]
    for shard_pick, batch_size, fault, fail_at, apply_now in plan:
        shard = shard_pick % len(shards)
        batch = shards[shard][checkpoint[shard] : checkpoint[shard] + batch_size]
        if not batch:
            continue
        response = handler({"Records": batch}, LocalLambdaContext(function_name="cdc_kinesis"))
        failed = [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]
        assert not failed, f"the consumer failed records: {failed}"
        if fault == "ok":
            checkpoint[shard] += len(batch)
        elif fault == "partial_failure":  # e.g. the function timed out after committing: from record i again
            checkpoint[shard] += min(fail_at, len(batch) - 1)
        # crash_before_checkpoint: the commit happened, the checkpoint did not -> the whole batch comes again
        if apply_now:
            apply_table(PRODUCTS, lake)
    assert all(checkpoint[s] == len(shards[s]) for s in range(len(shards))), "schedule did not drain"


@pytest.fixture
def kinesis_handler(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    from lambdas.cdc_kinesis.handler import handler

    return handler


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
def test_silver_equals_ground_truth_after_any_delivery(
    scenario: dict[str, Any],
    kinesis_handler: Any,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path_factory.mktemp("cdc")
    lake, quarantine = str(root / "lake"), str(root / "quarantine")
    monkeypatch.setenv(LAKE_URI_ENV, lake)
    monkeypatch.setenv(QUARANTINE_URI_ENV, quarantine)
    events = history(scenario["steps"])
    shards = shard_records(events, scenario["shards"], scenario["duplicated"])

    deliver(kinesis_handler, shards, scenario["schedule"], lake)
    apply_table(PRODUCTS, lake)

    silver = DeltaTable(f"{lake}/silver/products").to_pyarrow_table()
    result = reconcile_tables(PRODUCTS, ground_truth(events), silver)
    assert result.ok, result
    assert not Path(quarantine).exists() or not any(Path(quarantine).rglob("*.jsonl"))
    again = apply_table(PRODUCTS, lake)
    assert again.noop
