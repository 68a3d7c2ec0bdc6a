"""What the CDC Lambda handlers call: settings from the environment, a warm service, logs and EMF metrics.

The service (and its opened Delta tables) is kept per settings across warm invocations; nothing touches AWS at
import time. Metrics (namespace from POWERTOOLS_METRICS_NAMESPACE, default "Lakehouse"): RecordsReceived,
RecordsAppended, RecordsIgnored, RecordsQuarantined, RecordsFailed, BytesReceived, CommitMs, IteratorAgeMs.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from lakehouse.cdc.config import CdcSettings
from lakehouse.cdc.ingest import DYNAMODB, KINESIS, BatchOutcome, CdcIngestService


@lru_cache(maxsize=8)
def service_for(settings: CdcSettings) -> CdcIngestService:
    return CdcIngestService(settings)


def run_batch(source: str, event: dict[str, Any], *, logger: Any = None, metrics: Any = None) -> BatchOutcome:
    """Ingest one Lambda batch event (`source` is "kinesis" or "dynamodb"), then log and emit its figures."""
    service = service_for(CdcSettings.from_env())
    if source == KINESIS:
        outcome = service.ingest_kinesis_event(event)
    elif source == DYNAMODB:
        outcome = service.ingest_dynamodb_event(event)
    else:
        raise ValueError(f"unknown CDC source {source!r}; use {KINESIS!r} or {DYNAMODB!r}")
    if logger is not None:
        summary = outcome.summary()
        if outcome.failed:
            logger.error("cdc batch partially failed", extra={"batch": summary})
        else:
            logger.info("cdc batch ingested", extra={"batch": summary})
    if metrics is not None:
        publish_metrics(outcome, metrics)
    return outcome


def publish_metrics(outcome: BatchOutcome, metrics: Any) -> None:
    """Add the batch's figures to a Powertools `Metrics` (flushed as EMF by `@metrics.log_metrics`)."""
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_dimension(name="Source", value=outcome.source)
    for name, value in (
        ("RecordsReceived", outcome.received),
        ("RecordsAppended", outcome.appended),
        ("RecordsIgnored", outcome.ignored),
        ("RecordsQuarantined", outcome.quarantined),
        ("RecordsFailed", outcome.failed),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    metrics.add_metric(name="BytesReceived", unit=MetricUnit.Bytes, value=outcome.bytes)
    if outcome.commit_ms:
        metrics.add_metric(name="CommitMs", unit=MetricUnit.Milliseconds, value=max(outcome.commit_ms.values()))
    if outcome.iterator_age_ms is not None:
        metrics.add_metric(name="IteratorAgeMs", unit=MetricUnit.Milliseconds, value=outcome.iterator_age_ms)
