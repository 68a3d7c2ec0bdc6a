"""Monitoring: alarms for every consumer and function, all to the encrypted alert topic; dashboard; the budget."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.infra.cloud_assembly import CloudAssembly
from tests.infra.conftest import only, resources

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("cdk")]


@pytest.fixture(scope="module")
def template(assembly: Callable[[str], CloudAssembly]) -> dict[str, Any]:
    return assembly("dev").template("lakehouse-dev-monitoring")


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["AlarmDescription"]: r["Properties"]
        for r in resources(template, "AWS::CloudWatch::Alarm").values()
    }


def test_alarm_per_failure_mode(template: dict[str, Any]) -> None:
    by_metric: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for alarm in alarms(template).values():
        by_metric.setdefault((alarm["Namespace"], alarm["MetricName"]), []).append(alarm)
    assert len(by_metric[("AWS/Lambda", "IteratorAge")]) == 2  # one per stream consumer
    assert len(by_metric[("AWS/SQS", "ApproximateNumberOfMessagesVisible")]) == 2  # one per dead-letter queue
    assert len(by_metric[("AWS/Lambda", "Errors")]) == 4  # one per function
    quarantined = by_metric[("Lakehouse", "RecordsQuarantined")]  # one per CDC function
    assert sorted(tuple(sorted((d["Name"], d["Value"]) for d in a["Dimensions"])) for a in quarantined) == [
        (("Source", "dynamodb"), ("service", "cdc_dynamodb")),
        (("Source", "kinesis"), ("service", "cdc_kinesis")),
    ]
    for alarm in by_metric[("AWS/Lambda", "IteratorAge")]:
        assert alarm["Threshold"] == 5 * 60 * 1000
        assert alarm["Statistic"] == "Maximum"
    for alarm in by_metric[("AWS/SQS", "ApproximateNumberOfMessagesVisible")]:
        assert alarm["Threshold"] == 0
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_every_alarm_notifies_the_encrypted_topic(template: dict[str, Any]) -> None:
    (topic_id,) = resources(template, "AWS::SNS::Topic")
    for alarm in alarms(template).values():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["TreatMissingData"] == "notBreaching"
    topic = only(template, "AWS::SNS::Topic")
    key_id = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert template["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True


def test_cloudwatch_and_budgets_may_publish_to_the_topic(template: dict[str, Any]) -> None:
    statements = only(template, "AWS::SNS::TopicPolicy")["PolicyDocument"]["Statement"]
    publishers = set()
    for statement in statements:
        if statement["Effect"] == "Allow" and statement["Action"] == "sns:Publish":
            service = statement["Principal"]["Service"]
            publishers |= set(service) if isinstance(service, list) else {service}
    assert publishers == {"cloudwatch.amazonaws.com", "budgets.amazonaws.com"}
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )


def test_monthly_budget_of_100_dollars_alerts_the_topic(
    template: dict[str, Any], assembly: Callable[[str], CloudAssembly]
) -> None:
    localstack = assembly("localstack").template("lakehouse-localstack-monitoring")
    assert not resources(localstack, "AWS::Budgets::Budget")  # no bill in an emulator
    budget = only(template, "AWS::Budgets::Budget")
    assert budget["Budget"]["BudgetLimit"] == {"Amount": 100, "Unit": "USD"}
    assert budget["Budget"]["TimeUnit"] == "MONTHLY"
    assert budget["Budget"]["BudgetType"] == "COST"
    kinds = {n["Notification"]["NotificationType"]: n for n in budget["NotificationsWithSubscribers"]}
    assert kinds["ACTUAL"]["Notification"]["Threshold"] == 80
    assert kinds["FORECASTED"]["Notification"]["Threshold"] == 100
    for notification in kinds.values():
        assert notification["Subscribers"][0]["SubscriptionType"] == "SNS"


def _dashboard_body(template: dict[str, Any]) -> str:
    return json.dumps(only(template, "AWS::CloudWatch::Dashboard")["DashboardBody"])


def test_dashboard_shows_the_pipeline(template: dict[str, Any], assembly: Callable[[str], CloudAssembly]) -> None:
    body = _dashboard_body(template)
    for needle in (
        "IncomingRecords",
        "IteratorAge",
        "ApproximateNumberOfMessagesVisible",
        "RecordsQuarantined",
        "RecordsReceived",
        "RecordsAppended",
        "Errors",
        "Duration",
        "ProcessedBytes",
    ):
        assert needle in body, needle
    localstack = _dashboard_body(assembly("localstack").template("lakehouse-localstack-monitoring"))
    assert "IteratorAge" in localstack
    assert "ProcessedBytes" not in localstack  # no Athena there


def test_dashboard_and_alarm_metrics_are_the_ones_the_cdc_handlers_emit() -> None:
    """The names and dimensions used here match what lakehouse.cdc.lambda_runtime publishes (EMF via Powertools)."""
    from aws_lambda_powertools import Metrics

    from lakehouse.cdc.ingest import BatchOutcome
    from lakehouse.cdc.lambda_runtime import publish_metrics
    from lambdas.cdc_kinesis.handler import metrics as handler_metrics
    from stacks.monitoring.stack import RECORDS_APPENDED, RECORDS_QUARANTINED, RECORDS_RECEIVED

    metrics = Metrics(namespace=handler_metrics.namespace, service="cdc_kinesis")
    publish_metrics(BatchOutcome(source="kinesis", batch_id="b", received=3, appended=2, quarantined=1), metrics)
    emf = metrics.serialize_metric_set()
    emitted = {m["Name"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {RECORDS_RECEIVED, RECORDS_APPENDED, RECORDS_QUARANTINED} <= emitted
    assert set(emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) == {"service", "Source"}
    assert emf["Source"] == "kinesis"
    # The alarms and the dashboard read the namespace the handler publishes to.
    from lakehouse.settings import METRICS_NAMESPACE

    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == METRICS_NAMESPACE
