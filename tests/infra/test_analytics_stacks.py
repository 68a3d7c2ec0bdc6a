"""Catalog (Glue, Athena) and processing (EMR Serverless): present in dev/prod, absent from localstack."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.infra.cloud_assembly import CloudAssembly
from tests.infra.conftest import only, resources

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("cdk")]


@pytest.fixture(scope="module")
def catalog(assembly: Callable[[str], CloudAssembly]) -> dict[str, Any]:
    return assembly("dev").template("lakehouse-dev-catalog")


@pytest.fixture(scope="module")
def processing(assembly: Callable[[str], CloudAssembly]) -> dict[str, Any]:
    return assembly("dev").template("lakehouse-dev-processing")


def test_one_glue_database_per_layer_located_in_the_lake(catalog: dict[str, Any]) -> None:
    databases = {
        r["Properties"]["DatabaseInput"]["Name"]: r["Properties"]
        for r in resources(catalog, "AWS::Glue::Database").values()
    }
    assert set(databases) == {"lakehouse_dev_bronze", "lakehouse_dev_silver", "lakehouse_dev_gold"}
    for name, props in databases.items():
        location = props["DatabaseInput"]["LocationUri"]["Fn::Join"][1]
        assert location[0] == "s3://lakehouse-dev-lake-"
        assert location[-1] == "/" + name.rsplit("_", 1)[1]


def test_athena_workgroup_enforces_encrypted_results_and_a_scan_cutoff(catalog: dict[str, Any]) -> None:
    config = only(catalog, "AWS::Athena::WorkGroup")["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["BytesScannedCutoffPerQuery"] == 10 * 1024**3
    assert config["PublishCloudWatchMetricsEnabled"] is True
    assert config["ResultConfiguration"]["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    assert config["ResultConfiguration"]["OutputLocation"]["Fn::Join"][1][0] == "s3://lakehouse-dev-athena-results-"


def test_emr_serverless_application_is_arm64_and_starts_and_stops_itself(processing: dict[str, Any]) -> None:
    app = only(processing, "AWS::EMRServerless::Application")
    assert app["Type"] == "SPARK"
    assert app["Architecture"] == "ARM64"
    assert app["AutoStartConfiguration"] == {"Enabled": True}
    assert app["AutoStopConfiguration"] == {"Enabled": True, "IdleTimeoutMinutes": 15}
    assert app["MaximumCapacity"] == {"Cpu": "16 vCPU", "Memory": "64 GB"}


def test_emr_job_role_is_assumable_only_by_emr_serverless_of_this_account(processing: dict[str, Any]) -> None:
    (statement,) = only(processing, "AWS::IAM::Role")["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "emr-serverless.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_emr_job_role_reaches_only_the_lakehouse_databases(processing: dict[str, Any]) -> None:
    statements = only(processing, "AWS::IAM::Policy")["PolicyDocument"]["Statement"]
    (glue,) = [s for s in statements if all(a.startswith("glue:") for a in s["Action"])]
    names = {r["Fn::Join"][1][-1] for r in glue["Resource"]}
    assert names == {
        ":catalog",
        *(f":database/lakehouse_dev_{layer}" for layer in ("bronze", "silver", "gold")),
        *(f":table/lakehouse_dev_{layer}/*" for layer in ("bronze", "silver", "gold")),
    }


def test_localstack_profile_leaves_out_what_localstack_community_lacks(
    assembly: Callable[[str], CloudAssembly],
) -> None:
    localstack = assembly("localstack")
    assert localstack.stack_names() == [
        "lakehouse-localstack-storage",
        "lakehouse-localstack-streaming",
        "lakehouse-localstack-monitoring",
    ]
    for stack in localstack.stack_names():
        types = {r["Type"] for r in localstack.template(stack)["Resources"].values()}
        assert not types & {"AWS::Glue::Database", "AWS::Athena::WorkGroup", "AWS::EMRServerless::Application"}
    assert set(assembly("dev").stack_names()) == {
        f"lakehouse-dev-{concern}" for concern in ("storage", "catalog", "processing", "streaming", "monitoring")
    }
