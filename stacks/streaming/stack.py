"""CDC ingestion: the Kinesis stream and the DynamoDB table, the CDC Lambdas with their event source mappings and
dead-letter queues, and the silver-apply Lambda; each function granted only the prefixes it touches."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from constructs import Construct

from lakehouse.cdc.ingest import DYNAMODB, KINESIS  # the `Source` dimension of the CDC metrics
from lakehouse.settings import (
    BRONZE,
    DYNAMODB_TABLE_ENV,
    KINESIS_STREAM_ENV,
    LAKE_URI_ENV,
    LANDING_URI_ENV,
    QUARANTINE_URI_ENV,
    SILVER,
)
from stacks.constructs.lakehouse_function import LakehouseFunction
from stacks.constructs.s3_access import grant_prefix
from stacks.constructs.stream_consumer import StreamBatching, StreamConsumer
from stacks.profiles import Profile
from stacks.storage.stack import LakeBuckets

QUARANTINE_PREFIX = "quarantine"
# Too large for a zip-packaged Lambda: dlt + deltalake + pyarrow + botocore measure ~300 MB unzipped against the
# 250 MB limit (tests/infra/test_lambda_packaging.py measures it). Not deployed; see docs/deploy.md for the options.
NOT_DEPLOYABLE_AS_ZIP = ("batch_load",)
BRONZE_CONTENTS = "Delta bronze tables: data files and _delta_log entries"
SILVER_CONTENTS = "Delta silver tables: data files and _delta_log entries"
QUARANTINE_CONTENTS = "one JSONL file per quarantined batch"
LANDING_PREFIX = "landing"


class StreamingStack(cdk.Stack):
    """Exposes `stream`, `table`, `functions` (name -> LakehouseFunction), `consumers` (name -> StreamConsumer) and
    `cdc_sources` (CDC function name -> the `Source` dimension of its metrics)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        profile: Profile,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        buckets = LakeBuckets.of(self, profile)
        lake, landing, quarantine = buckets.lake, buckets.landing, buckets.quarantine
        self.stream = kinesis.Stream(
            self,
            "CdcStream",
            stream_mode=kinesis.StreamMode.PROVISIONED if profile.kinesis_shards else kinesis.StreamMode.ON_DEMAND,
            shard_count=profile.kinesis_shards,
            retention_period=cdk.Duration.hours(24),
            # The AWS managed key (aws/kinesis): no key charges and no KMS grants for producers and consumers.
            encryption=kinesis.StreamEncryption.MANAGED,
            removal_policy=profile.removal_policy,
        )
        self.table = dynamodb.Table(
            self,
            "BehaviourTable",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=profile.removal_policy,
        )
        environment = {
            LAKE_URI_ENV: f"s3://{lake.bucket_name}",
            QUARANTINE_URI_ENV: f"s3://{quarantine.bucket_name}/{QUARANTINE_PREFIX}",
            LANDING_URI_ENV: f"s3://{landing.bucket_name}/{LANDING_PREFIX}",
            KINESIS_STREAM_ENV: self.stream.stream_name,
            DYNAMODB_TABLE_ENV: self.table.table_name,
        }

        def function(name: str, description: str, **sizing: Any) -> LakehouseFunction:
            return LakehouseFunction(
                self,
                "".join(part.title() for part in name.split("_")),
                name=name,
                description=description,
                environment=environment,
                removal_policy=profile.removal_policy,
                **sizing,
            )

        self.functions = {
            "cdc_kinesis": function("cdc_kinesis", "Debezium change events from Kinesis into Delta bronze"),
            "cdc_dynamodb": function("cdc_dynamodb", "DynamoDB Streams records into Delta bronze"),
            "silver_apply": function(
                "silver_apply",
                "Merges new bronze changes into Delta silver, one table per invocation",
                memory_mb=3008,
                timeout=cdk.Duration.minutes(15),
            ),
        }
        self.cdc_sources = {"cdc_kinesis": KINESIS, "cdc_dynamodb": DYNAMODB}
        batching = StreamBatching()
        self.consumers = {
            "cdc_kinesis": StreamConsumer(
                self,
                "KinesisConsumer",
                function=self.functions["cdc_kinesis"].function,
                source=self.stream,
                batching=batching,
            ),
            "cdc_dynamodb": StreamConsumer(
                self,
                "DynamoDbConsumer",
                function=self.functions["cdc_dynamodb"].function,
                source=self.table,
                batching=batching,
            ),
        }
        for name in ("cdc_kinesis", "cdc_dynamodb"):
            role = self.functions[name].role
            grant_prefix(lake, role, BRONZE, write=True, contents=BRONZE_CONTENTS)
            grant_prefix(quarantine, role, QUARANTINE_PREFIX, write=True, contents=QUARANTINE_CONTENTS)
        silver_apply = self.functions["silver_apply"].role
        grant_prefix(lake, silver_apply, BRONZE, write=False, contents=BRONZE_CONTENTS)
        grant_prefix(lake, silver_apply, SILVER, write=True, contents=SILVER_CONTENTS)
        grant_prefix(quarantine, silver_apply, QUARANTINE_PREFIX, write=True, contents=QUARANTINE_CONTENTS)

        cdk.CfnOutput(self, "CdcStreamName", value=self.stream.stream_name)
        cdk.CfnOutput(self, "BehaviourTableName", value=self.table.table_name)
