"""CDC ingestion: the Kinesis stream and the DynamoDB table, the CDC Lambdas with their event source mappings and
dead-letter queues, the silver-apply Lambda and the batch-load (dlt) Lambda; each function granted only the prefixes
it touches."""

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
from lakehouse.silver.service import PROCESS_ENVIRONMENT  # glibc arenas and Arrow's allocator, set before start
from stacks.constructs.lakehouse_function import LakehouseFunction
from stacks.constructs.s3_access import grant_bucket_exists_check, grant_prefix
from stacks.constructs.stream_consumer import StreamBatching, StreamConsumer
from stacks.profiles import Profile
from stacks.storage.stack import LakeBuckets

QUARANTINE_PREFIX = "quarantine"
# dlt's working folder (pipelines, staged load packages): the function's code folder is read-only, /tmp is not.
DLT_DATA_DIR_ENV = "DLT_DATA_DIR"
LAMBDA_WRITABLE_DLT_DIR = "/tmp/.dlt"
BRONZE_CONTENTS = "Delta bronze tables: data files and _delta_log entries"
SILVER_CONTENTS = "Delta silver tables: data files and _delta_log entries"
QUARANTINE_CONTENTS = "one JSONL file per quarantined batch"
LANDING_CONTENTS = "landing files, <table>/dt=YYYY-MM-DD/*.jsonl.gz, uploaded by the source systems"
SILVER_DLT_CONTENTS = "Delta silver tables written by dlt, and dlt's _dlt_* state and load tables"
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

        def function(
            name: str, description: str, extra_environment: dict[str, str] | None = None, **sizing: Any
        ) -> LakehouseFunction:
            return LakehouseFunction(
                self,
                "".join(part.title() for part in name.split("_")),
                name=name,
                description=description,
                environment={**environment, **(extra_environment or {})},
                removal_policy=profile.removal_policy,
                **sizing,
            )

        self.functions = {
            "cdc_kinesis": function("cdc_kinesis", "Debezium change events from Kinesis into Delta bronze"),
            "cdc_dynamodb": function("cdc_dynamodb", "DynamoDB Streams records into Delta bronze"),
            "silver_apply": function(
                "silver_apply",
                "Merges new bronze changes into Delta silver, one table per invocation",
                # A range of 1M changes peaks at ~0.8 GB (`lakehouse bench cdc`); the rest buys delta-rs' threads
                # a second vCPU (Lambda's CPU share grows with memory) and headroom for wider tables.
                extra_environment=PROCESS_ENVIRONMENT,
                memory_mb=3008,
                timeout=cdk.Duration.minutes(15),
            ),
            # Started by Step Functions with {"source": "files" | "api", "tables": [...]}; the API source also needs
            # LAKEHOUSE_API_URL (lakehouse.settings.API_URL_ENV), set it when the shop's API is reachable.
            "batch_load": function(
                "batch_load",
                "dlt: landing files (or the shop API) into Delta silver, bad items quarantined",
                extra_environment={DLT_DATA_DIR_ENV: LAMBDA_WRITABLE_DLT_DIR},
                memory_mb=1024,  # one run's new files are held while normalizing (docs/batch-loads-and-catalog.md)
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
        batch_load = self.functions["batch_load"].role
        grant_prefix(landing, batch_load, LANDING_PREFIX, write=False, contents=LANDING_CONTENTS)
        grant_prefix(lake, batch_load, SILVER, write=True, contents=SILVER_DLT_CONTENTS)
        # dlt's filesystem destination (s3fs) checks that the lake bucket exists (HeadBucket) before each load;
        # tests/infra/test_batch_load_runtime.py records every S3 call a run makes and checks it against these grants.
        grant_bucket_exists_check(lake, batch_load)
        grant_prefix(quarantine, batch_load, QUARANTINE_PREFIX, write=True, contents=QUARANTINE_CONTENTS)

        cdk.CfnOutput(self, "CdcStreamName", value=self.stream.stream_name)
        cdk.CfnOutput(self, "BehaviourTableName", value=self.table.table_name)
