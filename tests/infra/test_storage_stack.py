"""Storage: every bucket encrypted, TLS-only, private, access-logged; lifecycle rules per bucket purpose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.infra.cloud_assembly import CloudAssembly
from tests.infra.conftest import resources

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("cdk")]


@pytest.fixture(scope="module")
def template(assembly: Callable[[str], CloudAssembly]) -> dict[str, Any]:
    return assembly("dev").template("lakehouse-dev-storage")


def bucket(template: dict[str, Any], purpose: str) -> dict[str, Any]:
    (found,) = [
        r["Properties"]
        for logical_id, r in resources(template, "AWS::S3::Bucket").items()
        if logical_id.startswith(f"{purpose}Bucket")
    ]
    return found


def rules(bucket_properties: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["Id"]: rule for rule in bucket_properties["LifecycleConfiguration"]["Rules"]}


def test_every_bucket_is_encrypted_private_and_owner_enforced(template: dict[str, Any]) -> None:
    all_buckets = resources(template, "AWS::S3::Bucket")
    assert len(all_buckets) == 5
    for logical_id, resource in all_buckets.items():
        props = resource["Properties"]
        encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        assert encryption["SSEAlgorithm"] == "AES256", logical_id
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, logical_id
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}], logical_id


def test_every_bucket_policy_denies_plain_http(template: dict[str, Any]) -> None:
    policies = resources(template, "AWS::S3::BucketPolicy")
    protected = {p["Properties"]["Bucket"]["Ref"] for p in policies.values()}
    assert protected == set(resources(template, "AWS::S3::Bucket"))
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            and s["Action"] == "s3:*"
            for s in statements
        )


def test_data_buckets_log_access_to_the_log_bucket(template: dict[str, Any]) -> None:
    for purpose in ("Landing", "Lake", "Quarantine", "AthenaResults"):
        logging = bucket(template, purpose)["LoggingConfiguration"]
        assert logging["DestinationBucketName"]["Ref"].startswith("AccessLogsBucket")
        assert logging["LogFilePrefix"]
    assert "LoggingConfiguration" not in bucket(template, "AccessLogs")


def test_only_the_lake_is_versioned_and_its_old_versions_expire(template: dict[str, Any]) -> None:
    lake = bucket(template, "Lake")
    assert lake["VersioningConfiguration"] == {"Status": "Enabled"}
    assert rules(lake)["expire-noncurrent-versions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    for purpose in ("Landing", "Quarantine", "AthenaResults", "AccessLogs"):
        assert "VersioningConfiguration" not in bucket(template, purpose)


def test_data_moves_to_infrequent_access_after_30_days(template: dict[str, Any]) -> None:
    for purpose in ("Landing", "Lake", "Quarantine"):
        rule = rules(bucket(template, purpose))["standard-ia"]
        assert rule["Transitions"] == [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}]
        assert rule["ObjectSizeGreaterThan"] == 128 * 1024  # small Delta log files stay in Standard


def test_athena_results_and_access_logs_expire(template: dict[str, Any]) -> None:
    assert rules(bucket(template, "AthenaResults"))["expire"]["ExpirationInDays"] == 7
    assert rules(bucket(template, "AccessLogs"))["expire"]["ExpirationInDays"] == 90
    assert "standard-ia" not in rules(bucket(template, "AthenaResults"))


def test_bucket_names_are_per_profile_account_and_region(template: dict[str, Any]) -> None:
    name = bucket(template, "Lake")["BucketName"]["Fn::Join"][1]
    assert name[0] == "lakehouse-dev-lake-"
    assert {"Ref": "AWS::AccountId"} in name
    assert {"Ref": "AWS::Region"} in name


def test_prod_keeps_data_when_the_stack_is_deleted(assembly: Callable[[str], CloudAssembly]) -> None:
    prod = assembly("prod").template("lakehouse-prod-storage")
    dev = assembly("dev").template("lakehouse-dev-storage")
    assert {r["DeletionPolicy"] for r in resources(prod, "AWS::S3::Bucket").values()} == {"Retain"}
    assert {r["DeletionPolicy"] for r in resources(dev, "AWS::S3::Bucket").values()} == {"Delete"}
