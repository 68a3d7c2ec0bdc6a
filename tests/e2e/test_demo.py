"""The whole demo at a tiny scale: every stage runs against one moto server process and the results hold up."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.demo import STAGES, DemoConfig, run_demo

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_demo_runs_every_stage_and_reconciles(tmp_path: Path) -> None:
    ctx = run_demo(DemoConfig(workdir=tmp_path / "demo", scale=0.002, days=7, seed=7))

    stage_names = [name for name, _ in STAGES]
    assert stage_names[0] == "simulate" and stage_names[-1] == "report"

    reconciliation = ctx.results["cdc"]["reconciliation"]
    assert reconciliation, "the CDC stages reconciled no table"
    assert all(r.ok and r.matching > 0 for r in reconciliation.values() if r.expected_rows)

    files = ctx.results["batch_loads"]["files"]
    assert files.loaded > 0
    assert files.quarantined_total >= 1  # the demo plants a truncated gzip on purpose
    assert ctx.results["batch_loads"]["files_again"].loaded == 0  # incremental: nothing new, nothing loaded

    marts = ctx.results["marts"]
    assert marts["build"].success and marts["unit_tests"].success
    assert Path(marts["duckdb_path"]).exists()
    assert (ctx.workdir / "report.png").stat().st_size > 10_000
    assert set(ctx.results["stage_seconds"]) == set(stage_names)
