"""One small simulated November-December (Black Friday and Christmas inside), shared by the generator tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.config import SimulationConfig
from generator.run import RunSummary, generate_local
from tests.unit.generator import readback


@dataclass
class Run:
    config: SimulationConfig
    out: Path
    summary: RunSummary

    def snapshot(self, table: str) -> readback.Snapshot:
        return readback.snapshot(self.out, table)


@pytest.fixture(scope="session")
def nov_dec_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    config = SimulationConfig(seed=7, scale=0.01, days=61)
    out = tmp_path_factory.mktemp("nov-dec")
    return Run(config, out, generate_local(config, out))


@pytest.fixture(scope="session")
def cdc_events(nov_dec_run: Run) -> list[dict]:
    return readback.jsonl(nov_dec_run.out / "cdc")


@pytest.fixture(scope="session")
def dynamodb_writes(nov_dec_run: Run) -> list[dict]:
    return readback.jsonl(nov_dec_run.out / "dynamodb")
