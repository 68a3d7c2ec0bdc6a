"""The localstack profile, assets published, deployed into a moto server's CloudFormation (as `cdklocal deploy`
would into LocalStack): every stack reaches CREATE_COMPLETE and the resources exist and are wired together."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lakehouse.aws import AwsConfig
from lakehouse.emulator import moto_server
from tests.infra.cloud_assembly import (
    CloudAssembly,
    bootstrap,
    create_stack,
    publish_assets,
    without_moto_quirks,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("cdk")]

ACCOUNT, REGION = "123456789012", "us-east-1"  # moto's default account


def test_localstack_profile_deploys_into_moto_cloudformation(
    assembly: Callable[[str], CloudAssembly], tmp_path: Path
) -> None:
    """One test, not several over a module fixture: xdist may split a module between workers (see conftest), and
    each split would deploy ~700 MB of assets again."""
    cloud_assembly = assembly("localstack")
    with moto_server() as emulator, pytest.MonkeyPatch.context() as env:
        for key, value in emulator.env().items():
            env.setenv(key, value)
        aws = emulator.aws
        bootstrap(aws, ACCOUNT, REGION)
        stacks = {}
        for name in cloud_assembly.stack_names():
            publish_assets(cloud_assembly, name, aws, ACCOUNT, REGION, tmp_path)
            stacks[name] = create_stack(aws, name, without_moto_quirks(cloud_assembly.template(name)))
            if stacks[name]["StackStatus"] != "CREATE_COMPLETE":
                break  # later stacks depend on this one
        check_every_stack_reached_create_complete(stacks)
        check_buckets_stream_table_and_queues_exist(aws)
        check_functions_and_event_source_mappings_are_wired(aws)


def check_every_stack_reached_create_complete(stacks: dict[str, dict[str, Any]]) -> None:
    assert {name: s["StackStatus"] for name, s in stacks.items()} == {
        "lakehouse-localstack-storage": "CREATE_COMPLETE",
        "lakehouse-localstack-streaming": "CREATE_COMPLETE",
        "lakehouse-localstack-monitoring": "CREATE_COMPLETE",
    }


def check_buckets_stream_table_and_queues_exist(aws: AwsConfig) -> None:
    buckets = {b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]}
    for purpose in ("landing", "lake", "quarantine", "athena-results", "access-logs"):
        assert f"lakehouse-localstack-{purpose}-{ACCOUNT}-{REGION}" in buckets
    (stream,) = aws.client("kinesis").list_streams()["StreamNames"]
    summary = aws.client("kinesis").describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 1
    (table,) = aws.client("dynamodb").list_tables()["TableNames"]
    description = aws.client("dynamodb").describe_table(TableName=table)["Table"]
    assert description["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert len(aws.client("sqs").list_queues()["QueueUrls"]) == 2


def check_functions_and_event_source_mappings_are_wired(aws: AwsConfig) -> None:
    lambda_ = aws.client("lambda")
    functions = {f["Handler"].split(".")[1]: f for f in lambda_.list_functions()["Functions"]}
    assert set(functions) == {"cdc_kinesis", "cdc_dynamodb", "silver_apply", "batch_load"}
    for function in functions.values():
        assert function["Runtime"] == "python3.12"
        # (Architectures: moto's CloudFormation ignores it and reports x86_64; the template test checks arm64.)
        assert function["CodeSize"] > 50_000_000  # the published asset, not a placeholder
        assert (
            function["Environment"]["Variables"]["LAKEHOUSE_LAKE_URI"]
            == f"s3://lakehouse-localstack-lake-{ACCOUNT}-{REGION}"
        )
    stream = aws.client("kinesis").list_streams()["StreamNames"][0]
    table = aws.client("dynamodb").list_tables()["TableNames"][0]
    mappings = {m["FunctionArn"]: m for m in lambda_.list_event_source_mappings()["EventSourceMappings"]}
    assert len(mappings) == 2
    kinesis_mapping = mappings[functions["cdc_kinesis"]["FunctionArn"]]
    assert kinesis_mapping["EventSourceArn"].endswith(f":stream/{stream}")
    dynamodb_mapping = mappings[functions["cdc_dynamodb"]["FunctionArn"]]
    assert f":table/{table}/stream/" in dynamodb_mapping["EventSourceArn"]
    for mapping in (kinesis_mapping, dynamodb_mapping):
        assert mapping["BatchSize"] == 500
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
