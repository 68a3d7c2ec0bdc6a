"""Run the CDC consumers locally: the Kinesis stream and the DynamoDB table's stream, each polled into its real
Lambda handler (lambdas/cdc_kinesis, lambdas/cdc_dynamodb) in-process, like the deployed event source mappings.

The handlers read their settings (lake and quarantine URIs, endpoint) from the environment; the caller sets
them (`handler_environment`).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lakehouse.aws import AwsConfig
from lakehouse.envvars import temporary_environment
from lakehouse.runtime.checkpoint import CheckpointStore
from lakehouse.runtime.poller import EventSourceMapping, Poller, PollStats
from lakehouse.runtime.sources import DynamoDBStreamSource, KinesisSource, StreamSource
from lakehouse.settings import (
    DEFAULT_DYNAMODB_TABLE,
    DEFAULT_KINESIS_STREAM,
    LAKE_URI_ENV,
    QUARANTINE_URI_ENV,
)

KINESIS = "kinesis"
DYNAMODB = "dynamodb"
SOURCES = (KINESIS, DYNAMODB)
FUNCTIONS = {KINESIS: "cdc_kinesis", DYNAMODB: "cdc_dynamodb"}


@dataclass(frozen=True)
class CdcPollSettings:
    checkpoint_dir: Path
    stream: str = DEFAULT_KINESIS_STREAM
    table: str = DEFAULT_DYNAMODB_TABLE
    batch_size: int = 1_000
    batching_window_s: float = 0.0
    max_retry_attempts: int = 10


def source_for(name: str, aws: AwsConfig, settings: CdcPollSettings) -> StreamSource:
    if name == KINESIS:
        return KinesisSource(aws.client("kinesis"), settings.stream, region=aws.region)
    if name == DYNAMODB:
        return DynamoDBStreamSource(
            aws.client("dynamodb"), aws.client("dynamodbstreams"), settings.table, region=aws.region
        )
    raise ValueError(f"unknown source {name!r}; use one of {SOURCES}")


def handler_for(name: str) -> Callable[..., object]:
    """The real Lambda handler of a source, imported on demand (its module builds Powertools objects)."""
    return importlib.import_module(f"lambdas.{FUNCTIONS[name]}.handler").handler


def poller_for(
    name: str, aws: AwsConfig, settings: CdcPollSettings, on_batch: Callable[[int], None] | None = None
) -> Poller:
    mapping = EventSourceMapping(
        function_name=FUNCTIONS[name],
        batch_size=settings.batch_size,
        batching_window_s=settings.batching_window_s,
        max_retry_attempts=settings.max_retry_attempts,
    )
    checkpoints = CheckpointStore(settings.checkpoint_dir / f"{name}.json")
    return Poller(
        source_for(name, aws, settings), handler_for(name), mapping, checkpoints, region=aws.region, on_batch=on_batch
    )


def drain(
    sources: tuple[str, ...], aws: AwsConfig, settings: CdcPollSettings, on_batch: Callable[[int], None] | None = None
) -> dict[str, PollStats]:
    """Poll each source until it has nothing more; returns the poller figures per source."""
    return {name: poller_for(name, aws, settings, on_batch).drain() for name in sources}


@contextmanager
def handler_environment(lake_uri: str, quarantine_uri: str, aws: AwsConfig, *, quiet: bool = True) -> Iterator[None]:
    """Set the variables the deployed functions get from CDK, for in-process invocations; restore afterwards.
    `quiet` keeps the handlers' per-batch JSON logs and EMF metric lines off the console (warnings still show)."""
    values = {
        LAKE_URI_ENV: lake_uri,
        QUARANTINE_URI_ENV: quarantine_uri,
        "AWS_REGION": aws.region,
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
    }
    if aws.endpoint_url:
        values["AWS_ENDPOINT_URL"] = aws.endpoint_url
    if quiet:
        values |= {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
    with temporary_environment(values), warnings.catch_warnings():
        if quiet:
            # With metrics disabled Powertools never flushes, so per-batch dimensions warn about overwriting.
            warnings.filterwarnings("ignore", message="Dimension .* has already been added")
        yield
