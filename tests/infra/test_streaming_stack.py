"""Streaming: stream and table settings, event source mappings, function runtime/env, least-privilege policies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from lakehouse import settings
from tests.infra.cloud_assembly import CloudAssembly
from tests.infra.conftest import only, resources

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("cdk")]

DEPLOYED_FUNCTIONS = ("cdc_kinesis", "cdc_dynamodb", "silver_apply", "batch_load")


@pytest.fixture(scope="module")
def template(assembly: Callable[[str], CloudAssembly]) -> dict[str, Any]:
    return assembly("dev").template("lakehouse-dev-streaming")


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Handler module name -> function properties."""
    found = {}
    for resource in resources(template, "AWS::Lambda::Function").values():
        props = resource["Properties"]
        found[props["Handler"].split(".")[1]] = props
    return found


def logical_id_of(template: dict[str, Any], name: str) -> str:
    (logical_id,) = [
        k
        for k, r in resources(template, "AWS::Lambda::Function").items()
        if r["Properties"]["Handler"] == f"lambdas.{name}.handler.handler"
    ]
    return logical_id


def test_kinesis_stream_is_one_encrypted_shard_in_dev_and_on_demand_in_prod(
    template: dict[str, Any], assembly: Callable[[str], CloudAssembly]
) -> None:
    dev = only(template, "AWS::Kinesis::Stream")
    assert dev["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert dev["ShardCount"] == 1
    assert dev["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}
    prod = only(assembly("prod").template("lakehouse-prod-streaming"), "AWS::Kinesis::Stream")
    assert prod["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert "ShardCount" not in prod
    assert prod["StreamEncryption"]["EncryptionType"] == "KMS"


def test_behaviour_table_streams_both_images_and_has_point_in_time_recovery(template: dict[str, Any]) -> None:
    table = only(template, "AWS::DynamoDB::Table")
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]


@pytest.mark.parametrize(
    ("function", "source_type"), [("cdc_kinesis", "AWS::Kinesis::Stream"), ("cdc_dynamodb", "AWS::DynamoDB::Table")]
)
def test_cdc_event_source_mapping_settings(template: dict[str, Any], function: str, source_type: str) -> None:
    (mapping,) = [
        r["Properties"]
        for r in resources(template, "AWS::Lambda::EventSourceMapping").values()
        if r["Properties"]["FunctionName"] == {"Ref": logical_id_of(template, function)}
    ]
    source_id = mapping["EventSourceArn"]["Fn::GetAtt"][0]
    assert template["Resources"][source_id]["Type"] == source_type
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BatchSize"] == 500
    assert mapping["MaximumBatchingWindowInSeconds"] == 5
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["MaximumRetryAttempts"] == 3
    assert mapping["MaximumRecordAgeInSeconds"] == 6 * 3600
    assert mapping["ParallelizationFactor"] == 2
    dlq_id = mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    dlq = template["Resources"][dlq_id]
    assert dlq["Type"] == "AWS::SQS::Queue"
    assert dlq["Properties"]["SqsManagedSseEnabled"] is True
    assert dlq["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_dead_letter_queues_refuse_plain_http(template: dict[str, Any]) -> None:
    policies = resources(template, "AWS::SQS::QueuePolicy")
    assert len(policies) == 2
    for policy in policies.values():
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_functions_run_python_312_on_arm64_with_the_shared_env_var_names(template: dict[str, Any]) -> None:
    found = functions(template)
    assert set(found) == set(DEPLOYED_FUNCTIONS)
    for name, props in found.items():
        assert props["Runtime"] == "python3.12"
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == f"lambdas.{name}.handler.handler"
        assert props["TracingConfig"] == {"Mode": "Active"}
        variables = props["Environment"]["Variables"]
        for env_name in (
            settings.LAKE_URI_ENV,
            settings.QUARANTINE_URI_ENV,
            settings.LANDING_URI_ENV,
            settings.KINESIS_STREAM_ENV,
            settings.DYNAMODB_TABLE_ENV,
        ):
            assert env_name in variables, (name, env_name)
        assert variables["POWERTOOLS_SERVICE_NAME"] == name
        assert variables[settings.QUARANTINE_URI_ENV]["Fn::Join"][1][-1] == "/quarantine"


def _statements(template: dict[str, Any], role_prefix: str) -> list[dict[str, Any]]:
    statements = []
    for logical_id, policy in resources(template, "AWS::IAM::Policy").items():
        if logical_id.startswith(role_prefix):
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _object_prefixes(statements: list[dict[str, Any]]) -> set[str]:
    """`<bucket purpose>/<prefix>/*` for every object ARN granted."""
    prefixes = set()
    for statement in statements:
        for resource in statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]:
            if isinstance(resource, dict) and "Fn::Join" in resource:
                parts = resource["Fn::Join"][1]
                if isinstance(parts[-1], str) and parts[-1].endswith("/*"):
                    (name,) = [p for p in parts if isinstance(p, str) and p.startswith(":s3:::")]
                    bucket = name.removeprefix(":s3:::lakehouse-dev-").removesuffix("-")
                    prefixes.add(f"{bucket}{parts[-1]}")
    return prefixes


def test_cdc_functions_may_write_only_bronze_and_quarantine(template: dict[str, Any]) -> None:
    for prefix in ("CdcKinesisRole", "CdcDynamodbRole"):
        statements = _statements(template, prefix)
        assert _object_prefixes(statements) == {"lake/bronze/*", "quarantine/quarantine/*"}
        s3_actions = {
            a
            for s in statements
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
            if a.startswith("s3:")
        }
        assert s3_actions == {
            "s3:ListBucket",
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:AbortMultipartUpload",
        }


def test_silver_apply_reads_bronze_and_writes_silver(template: dict[str, Any]) -> None:
    statements = _statements(template, "SilverApplyRole")
    assert _object_prefixes(statements) == {"lake/bronze/*", "lake/silver/*", "quarantine/quarantine/*"}
    (bronze,) = [s for s in statements if "lake/bronze/*" in _object_prefixes([s])]
    assert bronze["Action"] == "s3:GetObject"


def test_silver_apply_runs_with_the_measured_process_environment(template: dict[str, Any]) -> None:
    from lakehouse.silver.service import PROCESS_ENVIRONMENT

    variables = functions(template)["silver_apply"]["Environment"]["Variables"]
    assert {key: variables.get(key) for key in PROCESS_ENVIRONMENT} == PROCESS_ENVIRONMENT


def test_batch_load_reads_landing_and_writes_only_silver_and_quarantine(template: dict[str, Any]) -> None:
    statements = _statements(template, "BatchLoadRole")
    assert _object_prefixes(statements) == {"landing/landing/*", "lake/silver/*", "quarantine/quarantine/*"}
    (landing,) = [s for s in statements if "landing/landing/*" in _object_prefixes([s])]
    assert landing["Action"] == "s3:GetObject"
    listings = [s for s in statements if s["Action"] == "s3:ListBucket"]
    listed = [s["Condition"]["StringLike"]["s3:prefix"] for s in listings if "Condition" in s]
    assert sorted(listed) == [["landing", "landing/*"], ["quarantine", "quarantine/*"], ["silver", "silver/*"]]
    # HeadBucket (dlt's s3fs checks the lake bucket exists) needs s3:ListBucket without a prefix, on the lake only.
    (bucket_wide,) = [s for s in listings if "Condition" not in s]
    assert ":s3:::lakehouse-dev-lake-" in json.dumps(bucket_wide["Resource"])


def test_batch_load_has_a_writable_dlt_folder_memory_and_time(template: dict[str, Any]) -> None:
    props = functions(template)["batch_load"]
    assert props["Environment"]["Variables"]["DLT_DATA_DIR"] == "/tmp/.dlt"
    assert props["MemorySize"] == 1024
    assert props["Timeout"] == 15 * 60
    batch_load_id = logical_id_of(template, "batch_load")
    for mapping in resources(template, "AWS::Lambda::EventSourceMapping").values():
        assert mapping["Properties"]["FunctionName"] != {"Ref": batch_load_id}  # started by Step Functions


def test_no_policy_anywhere_has_a_wildcard_action(assembly: Callable[[str], CloudAssembly]) -> None:
    for profile in ("dev", "localstack"):
        cloud_assembly = assembly(profile)
        for stack in cloud_assembly.stack_names():
            for logical_id, policy in resources(cloud_assembly.template(stack), "AWS::IAM::Policy").items():
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                    actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
                    assert not [a for a in actions if "*" in a], (stack, logical_id, actions)


def test_only_actions_without_resource_level_permissions_are_granted_on_every_resource(
    template: dict[str, Any],
) -> None:
    """What the `Resource::*` acknowledgement of each function role (stacks/constructs/lakehouse_function.py) says."""
    granted_on_everything = set()
    for policy in resources(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Resource"] == "*":
                actions = statement["Action"]
                granted_on_everything |= {actions} if isinstance(actions, str) else set(actions)
    assert granted_on_everything == {"xray:PutTelemetryRecords", "xray:PutTraceSegments", "dynamodb:ListStreams"}


def test_roles_carry_no_aws_managed_policies(template: dict[str, Any]) -> None:
    for role in resources(template, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
