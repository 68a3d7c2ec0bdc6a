"""`lakehouse bench sinks`: the simulator's AWS sinks against a moto server process.

A `generate run` output at a small scale is replayed into Kinesis (PutRecords, 500 per call), DynamoDB
(BatchWriteItem, 25 per call) and S3, each timed alone. Beside it: the client side alone (reading the files,
partition keys, batching, no network) and a baseline of one PutRecord call per record on a sample, which is
what batching saves. The emulator is the bottleneck here (pure Python, one process); against AWS the same code
is bound by request latency instead.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BASELINE_SAMPLE = 500


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run(scale: float, days: int, seed: int, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    from generator.config import SimulationConfig
    from generator.run import generate_local
    from generator.sinks import DynamoDBSink, KinesisSink, ensure_resources, object_sink
    from generator.sinks.kinesis import batches
    from generator.sinks.replay import (
        CDC_DIR,
        kinesis_records,
        part_files,
        replay_cdc,
        replay_dynamodb,
        replay_landing,
    )
    from lakehouse.emulator import FAKE_CREDENTIALS, moto_server

    for key, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(key, value)
    with tempfile.TemporaryDirectory(prefix="bench-sinks-") as tmp:
        out = Path(tmp)
        progress(f"simulating scale {scale}, {days} days")
        generate_local(SimulationConfig(seed=seed, scale=scale, days=days), out)

        cdc_paths = part_files(out / CDC_DIR, "part-*.jsonl")
        started = time.perf_counter()
        client_records = sum(len(batch) for batch in batches(kinesis_records(cdc_paths)))
        client_seconds = time.perf_counter() - started

        with moto_server() as emulator:
            aws = emulator.aws
            ensure_resources(aws, stream="cdc", table="user-behaviour", buckets=["landing"], shards=2)
            ensure_resources(aws, stream="baseline", table=None, shards=2)
            timings: dict[str, tuple[int, float]] = {}
            steps: list[tuple[str, Callable[[], int]]] = [
                ("kinesis", lambda: replay_cdc(out, KinesisSink(aws.client("kinesis"), "cdc"))),
                ("dynamodb", lambda: replay_dynamodb(out, DynamoDBSink(aws.client("dynamodb"), "user-behaviour"))),
                ("landing", lambda: replay_landing(out, object_sink("s3://landing/landing", aws))),
            ]
            for name, step in steps:
                progress(f"replaying into {name}")
                started = time.perf_counter()
                count = step()
                timings[name] = (count, time.perf_counter() - started)

            progress("baseline: one PutRecord per record")
            kinesis = aws.client("kinesis")
            sample = [record for _, record in zip(range(BASELINE_SAMPLE), kinesis_records(cdc_paths), strict=False)]
            started = time.perf_counter()
            for key, data in sample:
                kinesis.put_record(StreamName="baseline", PartitionKey=key, Data=data)
            baseline_seconds = time.perf_counter() - started

    def rate(count: int, seconds: float) -> float:
        return round(count / seconds, 1) if seconds else 0.0

    return {
        "benchmark": "sinks",
        "scale": scale,
        "days": days,
        "kinesis_records": timings["kinesis"][0],
        "kinesis_records_per_s": rate(*timings["kinesis"]),
        "dynamodb_writes": timings["dynamodb"][0],
        "dynamodb_writes_per_s": rate(*timings["dynamodb"]),
        "landing_files": timings["landing"][0],
        "landing_files_per_s": rate(*timings["landing"]),
        "client_side_records_per_s": rate(client_records, client_seconds),
        "baseline_put_record_per_s": rate(len(sample), baseline_seconds),
        "seconds": round(sum(seconds for _, seconds in timings.values()), 2),
        "peak_rss_mb": _peak_rss_mb(),
    }
