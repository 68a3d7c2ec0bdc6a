"""Batch load for Step Functions: `{"source": "files" | "api", "tables": [...]}` -> the run report.

dlt keeps no state in the function: each run restores it from the lake (logic in lakehouse.load).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lakehouse.load.batch import BatchLoadSettings, run_batch_load
from lakehouse.settings import METRICS_NAMESPACE

logger = Logger(service="batch_load")
tracer = Tracer(service="batch_load")
metrics = Metrics(namespace=METRICS_NAMESPACE, service="batch_load")


@cache
def settings() -> BatchLoadSettings:
    return BatchLoadSettings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = run_batch_load(event, settings())
    metrics.add_metric(name="RowsLoaded", unit=MetricUnit.Count, value=report.loaded)
    metrics.add_metric(name="ItemsQuarantined", unit=MetricUnit.Count, value=report.quarantined_total)
    logger.info("batch load finished", extra=report.as_dict())
    return report.as_dict()
