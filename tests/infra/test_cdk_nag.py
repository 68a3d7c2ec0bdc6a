"""cdk-nag AwsSolutions (and CDK's CloudFormation validation) leave no finding unacknowledged, and every
acknowledgement names one rule or one finding with a specific reason. (Synthesis fails on an unacknowledged error,
so a clean synthesis is the first half of this check.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from stacks.constructs.lambda_bundling import PROJECT_ROOT
from tests.infra.cloud_assembly import CloudAssembly

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("cdk")]

PROFILES = ["dev", "prod", "localstack"]


def acknowledgements(cloud_assembly: CloudAssembly) -> dict[str, str]:
    """`<construct path> <rule id>` -> reason, from the assembly's construct metadata."""
    found = {}
    for metadata_file in cloud_assembly.outdir.glob("*.metadata.json"):
        for path, entries in json.loads(metadata_file.read_text()).items():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    for rule, reason in entry["data"].items():
                        found[f"{path} {rule.split('::', 1)[1]}"] = reason
    return found


@pytest.mark.parametrize("profile", PROFILES)
def test_validation_report_has_no_open_findings(profile: str, assembly: Callable[[str], CloudAssembly]) -> None:
    report = json.loads((assembly(profile).outdir / "validation-report.json").read_text())
    for plugin in report["pluginReports"]:
        assert plugin["conclusion"] == "success", plugin["pluginName"]
        assert plugin["violations"] == [], plugin["pluginName"]


@pytest.mark.parametrize("profile", PROFILES)
def test_every_acknowledgement_is_narrow_and_explained(profile: str, assembly: Callable[[str], CloudAssembly]) -> None:
    acknowledged = acknowledgements(assembly(profile))
    assert acknowledged, "expected the known acknowledgements (S1 on the log bucket, L1, SQS3, IAM5 per ARN)"
    for key, reason in acknowledged.items():
        rule = key.split(" ", 1)[1]
        assert len(reason) > 60, key
        # A rule-wide IAM5 acknowledgement would hide the next wildcard; they are made one resource at a time.
        assert rule != "AwsSolutions-IAM5", key
        if rule.startswith("AwsSolutions-IAM5"):
            assert rule.startswith("AwsSolutions-IAM5[Resource::"), key
    rules = {key.split(" ", 1)[1].split("[")[0] for key in acknowledged}
    assert rules <= {
        "AwsSolutions-S1",
        "AwsSolutions-L1",
        "AwsSolutions-SQS3",
        "AwsSolutions-IAM5",
        "W9003",  # CloudFormation-Validate: a number where the schema says string (CDK's own typing)
    }, rules


def test_an_unacknowledged_finding_fails_synthesis(tmp_path: Path) -> None:
    """The checks are wired into `build_app`: a bucket without TLS enforcement or access logs stops the synth."""
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3

    from stacks.app_builder import build_app

    context = json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]
    # No bundling: this synthesis is about the validation step, not the assets.
    app = cdk.App(outdir=str(tmp_path), context={**context, "profile": "localstack", "aws:cdk:bundling-stacks": []})
    stacks = build_app(app)
    s3.Bucket(stacks.storage, "Careless")
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    findings = {
        (v["ruleName"], c["constructPath"])
        for plugin in report["pluginReports"]
        for v in plugin["violations"]
        for c in v["violatingConstructs"]
    }
    assert ("AwsSolutions-S1", "lakehouse-localstack-storage/Careless/Resource") in findings
    assert ("AwsSolutions-S10", "lakehouse-localstack-storage/Careless/Resource") in findings
