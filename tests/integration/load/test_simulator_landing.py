"""The simulator's real landing files, uploaded to moto S3, loaded with dlt: silver equals the ground truth."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from generator.config import SimulationConfig
from generator.run import generate_local
from generator.sinks.replay import replay_local_output
from lakehouse.contract import SourceSystem, tables_from
from lakehouse.emulator import Emulator
from lakehouse.load.pipeline import LoadTarget, load_files

pytestmark = pytest.mark.integration


def test_simulated_landing_files_load_to_the_snapshot(tmp_path: Path, emulator: Emulator) -> None:
    out = tmp_path / "source"
    generate_local(SimulationConfig(seed=3, scale=0.002, days=10), out)
    emulator.aws.client("s3").create_bucket(Bucket="lake")
    emulator.aws.client("s3").create_bucket(Bucket="quarantine")
    replay_local_output(
        out, emulator.aws, stream=None, table=None, landing_uri="s3://landing/landing", show_progress=False
    )

    report = load_files("s3://landing/landing", LoadTarget("s3://lake", "s3://quarantine/q", emulator.aws))
    assert report.quarantined == {}

    options = emulator.aws.delta_storage_options()
    compared = []
    for contract in tables_from(SourceSystem.FILES):
        truth = pq.read_table(out / "snapshot" / f"{contract.name}.parquet")
        if truth.num_rows == 0:
            continue
        silver = DeltaTable(f"s3://lake/silver/{contract.name}", storage_options=options).to_pyarrow_table()
        columns = contract.column_names
        key = [(k, "ascending") for k in contract.primary_key]
        loaded = silver.select(columns).cast(contract.arrow_schema()).sort_by(key)
        expected = truth.select(columns).cast(contract.arrow_schema()).sort_by(key)
        assert loaded.num_rows == expected.num_rows, contract.name
        assert loaded.equals(expected), f"{contract.name}: silver differs from the simulator's ground truth"
        assert isinstance(silver.schema.field(contract.event_time).type, pa.TimestampType)
        compared.append(contract.name)
    assert compared == ["reviews", "support_tickets", "product_images"]  # every landing table had rows
