"""Bronze ingest benchmark: Lambda-shaped Kinesis batches of Debezium events through the real ingest service.

`bench_bronze(...)` returns figures for a local folder and for S3 on a moto server process, separately:
events per second for `batch_size`-record batches (decode + validate + dedup check + one Delta append per table),
and commits per batch. The first batch of each target creates the tables and is not timed. `lakehouse bench cdc`
(lakehouse/bench/cdc.py) prints these together with the silver figures.

`debezium_batch(...)` builds the events (contract-driven synthetic rows over the OLTP tables); tests reuse it.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from lakehouse.contract import MONEY, TableContract, get_table
from lakehouse.runtime.sources import kinesis_lambda_record

STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/cdc"
CONSUMER_ROLE_ARN = "arn:aws:iam::123456789012:role/cdc-kinesis-consumer"
BASE_US = 1_764_000_000_000_000
# Roughly the shop's change mix: order lines and payments outnumber orders; catalogue changes are rare.
DEFAULT_MIX = {"orders": 3, "order_items": 6, "payments": 3, "shipments": 2, "inventory_movements": 4, "customers": 1}


def _value(column_type: str, name: str, rng: random.Random, row_id: int, ts_us: int) -> Any:
    if column_type == "string":
        return f"{name}-{rng.randrange(1000)}"
    if column_type in ("int32", "int64"):
        return rng.randrange(1, 1000)
    if column_type == "float64":
        return rng.random()
    if column_type == "bool":
        return rng.random() < 0.5
    if column_type == "date":
        return 20_000 + rng.randrange(400)
    if column_type == "timestamp":
        return ts_us
    if column_type == MONEY:
        return f"{rng.randrange(100, 100_000) / 100:.2f}"
    raise ValueError(f"no generator for {column_type}")


def debezium_event(contract: TableContract, row_id: int, lsn: int, rng: random.Random, op: str = "c") -> dict:
    """One Debezium change event (no schema wrapper, as in docs/source-formats.md) for a synthetic row."""
    ts_us = BASE_US + lsn * 1000
    row = {c.name: _value(c.type, c.name, rng, row_id, ts_us) for c in contract.columns}
    for key in contract.primary_key:
        row[key] = row_id if contract.column(key).type == "int64" else f"{key}-{row_id}"
    image = {"before": row if op == "d" else None, "after": None if op == "d" else row}
    return {
        **image,
        "source": {"version": "3.6.1.Final", "connector": "postgresql", "name": "shop", "ts_ms": ts_us // 1000,
                   "snapshot": "false", "db": "shop", "schema": "public", "table": contract.name, "txId": lsn,
                   "lsn": lsn},
        "op": op,
        "ts_ms": ts_us // 1000 + 5,
    }  # fmt: skip


def debezium_batch(
    count: int,
    *,
    first_lsn: int = 1,
    seed: int = 7,
    mix: dict[str, int] | None = None,
    shard: str = "shardId-000000000000",
    first_sequence: int | None = None,
) -> dict:
    """A Lambda Kinesis event of `count` Debezium events over the tables of `mix` (weights), LSNs from first_lsn."""
    rng = random.Random(seed + first_lsn)
    weights = mix or DEFAULT_MIX
    contracts = [get_table(name) for name in weights]
    chosen = rng.choices(contracts, weights=list(weights.values()), k=count)
    sequence = first_sequence if first_sequence is not None else first_lsn
    records = []
    for offset, contract in enumerate(chosen):
        lsn = first_lsn + offset
        payload = orjson.dumps(debezium_event(contract, lsn, lsn, rng))
        sequence_number = f"{sequence + offset:056d}"
        record = {
            "SequenceNumber": sequence_number,
            "PartitionKey": f"{contract.name}:{lsn}",
            "Data": payload,
            "ApproximateArrivalTimestamp": time.time(),
        }
        records.append(
            kinesis_lambda_record(
                shard, record, stream_arn=STREAM_ARN, region="us-east-1", invoke_identity_arn=CONSUMER_ROLE_ARN
            )
        )
    return {"Records": records}


def _measure(lake_uri: str, quarantine_uri: str, events: Sequence[dict], aws: Any = None) -> dict[str, float]:
    from lakehouse.aws import AwsConfig
    from lakehouse.cdc.config import CdcSettings
    from lakehouse.cdc.ingest import CdcIngestService

    service = CdcIngestService(CdcSettings(lake_uri, quarantine_uri, aws or AwsConfig()))
    service.ingest_kinesis_event(events[0])  # creates the tables: not timed
    seconds, cpu_seconds, records, commits = 0.0, 0.0, 0, 0
    for event in events[1:]:
        started, cpu_started = time.perf_counter(), time.process_time()
        outcome = service.ingest_kinesis_event(event)
        seconds += time.perf_counter() - started
        cpu_seconds += time.process_time() - cpu_started
        if outcome.appended != outcome.received:
            raise RuntimeError(f"bench batch did not append every record: {outcome.summary()}")
        records += outcome.received
        commits += len(outcome.commit_ms)
    return {
        "events_per_s": records / seconds,
        # CPU time of this process (all its threads): the figure that does not depend on what else the machine
        # runs. On S3 it leaves out the emulator's own work.
        "events_per_cpu_s": records / cpu_seconds,
        "commits_per_batch": commits / (len(events) - 1),
    }


def bench_bronze(
    *,
    batch_size: int = 10_000,
    batches: int = 4,
    seed: int = 7,
    mix: dict[str, int] | None = None,
    s3: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Bronze ingest figures for `batches` timed batches (plus one untimed warm-up) per target."""
    from lakehouse.emulator import moto_server

    say = progress or (lambda _message: None)
    figures_load = os.getloadavg()[0]
    say(f"building {batches + 1} batches of {batch_size:,} Debezium events")
    events = [debezium_batch(batch_size, first_lsn=1 + i * batch_size, seed=seed, mix=mix) for i in range(batches + 1)]
    tables = len(mix or DEFAULT_MIX)
    figures: dict[str, Any] = {
        "bronze_batch_size": batch_size,
        "bronze_batches": batches,
        "bronze_tables": tables,
        "load_average_1m_at_start": round(figures_load, 2),  # wall-clock figures shrink on a busy machine
    }
    with tempfile.TemporaryDirectory(prefix="bench-bronze-") as workdir:
        say("bronze: local folder")
        local = _measure(str(Path(workdir) / "lake"), str(Path(workdir) / "quarantine"), events)
        figures["bronze_local_events_per_s"] = round(local["events_per_s"])
        figures["bronze_local_events_per_cpu_s"] = round(local["events_per_cpu_s"])
        figures["commits_per_batch"] = local["commits_per_batch"]
    if s3:
        say("bronze: S3 on a moto server")
        with moto_server() as emulator, emulator.activated():
            emulator.aws.client("s3").create_bucket(Bucket="bench-lake")
            remote = _measure("s3://bench-lake", "s3://bench-lake/quarantine", events, emulator.aws)
        figures["bronze_s3_events_per_s"] = round(remote["events_per_s"])
        figures["bronze_s3_events_per_cpu_s"] = round(remote["events_per_cpu_s"])
        figures["bronze_s3_commits_per_batch"] = remote["commits_per_batch"]
    return figures
