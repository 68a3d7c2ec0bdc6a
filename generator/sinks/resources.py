"""Create the simulator's AWS resources on an emulator (moto, LocalStack) idempotently.

In AWS the CDK stacks own these resources; this exists so the local runtime and the tests get the same shapes:
a Kinesis stream, the DynamoDB single table (`pk`/`sk` strings, stream NEW_AND_OLD_IMAGES) and buckets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lakehouse.aws import AwsConfig
from lakehouse.settings import DEFAULT_DYNAMODB_TABLE, DEFAULT_KINESIS_STREAM


@dataclass
class Resources:
    stream_arn: str | None = None
    table_stream_arn: str | None = None
    buckets: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # what did not exist before


def ensure_resources(
    aws: AwsConfig,
    *,
    stream: str | None = DEFAULT_KINESIS_STREAM,
    shards: int = 1,
    table: str | None = DEFAULT_DYNAMODB_TABLE,
    buckets: Iterable[str] = (),
) -> Resources:
    """Create what is missing and wait until it is usable; existing resources are left as they are.
    Pass None to skip the stream or the table."""
    resources = Resources()
    if stream:
        resources.stream_arn = _ensure_stream(aws, stream, shards, resources.created)
    if table:
        resources.table_stream_arn = _ensure_table(aws, table, resources.created)
    for bucket in buckets:
        _ensure_bucket(aws, bucket, resources.created)
        resources.buckets.append(bucket)
    return resources


def _ensure_stream(aws: AwsConfig, name: str, shards: int, created: list[str]) -> str:
    kinesis = aws.client("kinesis")
    try:
        kinesis.create_stream(StreamName=name, ShardCount=shards)
        created.append(f"kinesis stream {name} ({shards} shards)")
    except kinesis.exceptions.ResourceInUseException:
        pass
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return str(kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"])


def _ensure_table(aws: AwsConfig, name: str, created: list[str]) -> str:
    dynamodb = aws.client("dynamodb")
    try:
        dynamodb.create_table(
            TableName=name,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        created.append(f"dynamodb table {name}")
    except dynamodb.exceptions.ResourceInUseException:
        pass
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    table = dynamodb.describe_table(TableName=name)["Table"]
    spec = table.get("StreamSpecification") or {}
    if not spec.get("StreamEnabled") or spec.get("StreamViewType") != "NEW_AND_OLD_IMAGES":
        raise RuntimeError(
            f"DynamoDB table {name!r} exists without a NEW_AND_OLD_IMAGES stream (found {spec or 'no stream'}); "
            "delete it or enable the stream, the CDC consumer needs both images"
        )
    return str(table["LatestStreamArn"])


def _ensure_bucket(aws: AwsConfig, name: str, created: list[str]) -> None:
    from botocore.exceptions import ClientError

    s3 = aws.client("s3")
    try:
        s3.head_bucket(Bucket=name)  # us-east-1 answers CreateBucket on an owned bucket with 200: ask first
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
    kwargs = {} if aws.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": aws.region}}
    try:
        s3.create_bucket(Bucket=name, **kwargs)
        created.append(f"s3 bucket {name}")
    except s3.exceptions.BucketAlreadyOwnedByYou:  # created meanwhile by another run
        pass
