"""DynamoDB Streams consumer: user-behaviour item changes -> Delta bronze (logic in lakehouse.cdc)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from lakehouse.cdc.lambda_runtime import run_batch
from lakehouse.settings import METRICS_NAMESPACE

logger = Logger(service="cdc_dynamodb")
tracer = Tracer(service="cdc_dynamodb")
metrics = Metrics(namespace=METRICS_NAMESPACE, service="cdc_dynamodb")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcome = run_batch("dynamodb", event, logger=logger, metrics=metrics)
    return dict(
        process_partial_response(
            event=event, record_handler=outcome.raise_if_failed, processor=processor, context=context
        )
    )
