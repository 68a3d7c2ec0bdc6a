"""Silver apply: fold one CDC table's new bronze changes into silver (a Step Functions Map item per table)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lakehouse.settings import METRICS_NAMESPACE
from lakehouse.silver.service import SilverSettings, apply_request

logger = Logger(service="silver_apply")
tracer = Tracer(service="silver_apply")
metrics = Metrics(namespace=METRICS_NAMESPACE, service="silver_apply")


@cache
def settings() -> SilverSettings:
    return SilverSettings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = apply_request(event, settings())
    for table in result["tables"]:
        metrics.add_metric(name="SilverChangesRead", unit=MetricUnit.Count, value=table["changes_read"])
        metrics.add_metric(name="SilverApplySeconds", unit=MetricUnit.Seconds, value=table["seconds"])
        logger.info("silver apply", extra={k: v for k, v in table.items() if k != "maintenance"})
    return result
