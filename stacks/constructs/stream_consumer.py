"""A Lambda event source mapping on a Kinesis stream or a DynamoDB stream, with its on-failure dead-letter queue.

Settings follow the bad-input rule: a poison record is bisected out of its batch, retried a bounded number of
times, then its metadata goes to the DLQ so the shard moves on; partial batch failures (Powertools
BatchProcessor) retry only the failed records."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.constructs.nag import acknowledge


@dataclass(frozen=True, kw_only=True)
class StreamBatching:
    batch_size: int = 500
    max_batching_window: cdk.Duration = cdk.Duration.seconds(5)  # noqa: RUF009 (immutable value)
    # Concurrent batches per shard. Bronze writes are appends, which commute, so order across them is harmless.
    parallelization_factor: int = 2
    retry_attempts: int = 3
    max_record_age: cdk.Duration = cdk.Duration.hours(6)  # noqa: RUF009 (immutable value)


class StreamConsumer(Construct):
    """Exposes `dead_letter_queue` and `event_source` (with `event_source_mapping_id`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        source: kinesis.IStream | dynamodb.ITable,
        batching: StreamBatching,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is a dead-letter queue: the on-failure destination of the event source mapping. cdk-nag only "
            "recognises queues named in another queue's RedrivePolicy.",
        )
        settings = {
            "starting_position": lambda_.StartingPosition.TRIM_HORIZON,
            "batch_size": batching.batch_size,
            "max_batching_window": batching.max_batching_window,
            "parallelization_factor": batching.parallelization_factor,
            "retry_attempts": batching.retry_attempts,
            "max_record_age": batching.max_record_age,
            "bisect_batch_on_error": True,
            "report_batch_item_failures": True,
            "on_failure": sources.SqsDlq(self.dead_letter_queue),
        }
        self.event_source: sources.KinesisEventSource | sources.DynamoEventSource
        if hasattr(source, "table_stream_arn"):  # jsii interfaces are not runtime-checkable protocols
            self.event_source = sources.DynamoEventSource(source, **settings)  # type: ignore[arg-type]
        else:
            self.event_source = sources.KinesisEventSource(source, **settings)  # type: ignore[arg-type]
        function.add_event_source(self.event_source)
