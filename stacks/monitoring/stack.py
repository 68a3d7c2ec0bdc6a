"""Operations: one CloudWatch dashboard, alarms to an SNS topic, and a monthly AWS Budgets alert."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from lakehouse.settings import METRICS_NAMESPACE
from stacks.constructs.lakehouse_function import LakehouseFunction
from stacks.constructs.stream_consumer import StreamConsumer
from stacks.profiles import Profile
from stacks.streaming.stack import StreamingStack

# Powertools (EMF) metrics of the CDC handlers, per batch, dimensions service=<function> and Source=<source>:
# emitted by lakehouse/cdc/lambda_runtime.py (publish_metrics).
RECORDS_RECEIVED, RECORDS_APPENDED, RECORDS_QUARANTINED = "RecordsReceived", "RecordsAppended", "RecordsQuarantined"
ITERATOR_AGE_ALARM = cdk.Duration.minutes(5)
PERIOD = cdk.Duration.minutes(5)


class MonitoringStack(cdk.Stack):
    """Exposes `topic`, `alarms` (name -> Alarm), `dashboard` and `budget` (None where the profile has none)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        profile: Profile,
        streaming: StreamingStack,
        athena_workgroup: str | None,
        alert_email: str | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.topic = self._alert_topic(profile, alert_email)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for name, consumer in streaming.consumers.items():
            self._consumer_alarms(name, streaming.functions[name], consumer)
        for name, function in streaming.functions.items():
            self._alarm(
                f"{name}-errors",
                function.function.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=0,
                description=f"{name} raised errors (whole invocations failed, not single records)",
            )
        for name, source in streaming.cdc_sources.items():
            self._alarm(
                f"{name}-quarantined",
                _cdc_metric(RECORDS_QUARANTINED, name, source),
                threshold=0,
                description=f"{name} quarantined records: see the quarantine bucket for the raw record and reason",
            )
        for alarm in self.alarms.values():
            alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.dashboard = self._dashboard(profile, streaming, athena_workgroup)
        self.budget = (
            self._budget(profile, profile.monthly_budget_usd) if profile.monthly_budget_usd is not None else None
        )

    def _budget(self, profile: Profile, limit_usd: int) -> budgets.CfnBudget:
        """Account-wide monthly cost budget: alerts at 80 % of actual and 100 % of forecast spend."""
        budget = budgets.CfnBudget(
            self,
            "MonthlyBudget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=f"lakehouse-{profile.name}-monthly",
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=limit_usd, unit="USD"),
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type=kind,
                        comparison_operator="GREATER_THAN",
                        threshold=percent,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=[
                        budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=self.topic.topic_arn)
                    ],
                )
                for kind, percent in (("ACTUAL", 80), ("FORECASTED", 100))
            ],
        )
        budget.node.add_dependency(self.topic)
        return budget

    def _alert_topic(self, profile: Profile, alert_email: str | None) -> sns.Topic:
        # A customer managed key: CloudWatch and Budgets cannot publish to a topic under the AWS managed SNS key.
        key = kms.Key(
            self,
            "AlertsKey",
            description="Encrypts the lakehouse alert topic",
            enable_key_rotation=True,
            removal_policy=profile.removal_policy,
        )
        topic = sns.Topic(
            self, "Alerts", display_name=f"Lakehouse {profile.name} alerts", master_key=key, enforce_ssl=True
        )
        for service in ("cloudwatch.amazonaws.com", "budgets.amazonaws.com"):
            principal = iam.ServicePrincipal(service)
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[principal],
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=["*"],  # in a key policy "*" means this key
                    conditions={"StringEquals": {"aws:SourceAccount": self.account}},
                )
            )
            topic.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[principal],
                    actions=["sns:Publish"],
                    resources=[topic.topic_arn],
                    conditions={"StringEquals": {"aws:SourceAccount": self.account}},
                )
            )
        if alert_email:
            topic.add_subscription(subscriptions.EmailSubscription(alert_email))
        return topic

    def _consumer_alarms(self, name: str, function: LakehouseFunction, consumer: StreamConsumer) -> None:
        self._alarm(
            f"{name}-iterator-age",
            function.function.metric("IteratorAge", period=PERIOD, statistic="Maximum"),
            threshold=ITERATOR_AGE_ALARM.to_milliseconds(),
            description=f"{name} is falling behind its stream by more than {ITERATOR_AGE_ALARM.to_minutes()} minutes",
        )
        self._alarm(
            f"{name}-dead-letters",
            consumer.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=PERIOD, statistic="Maximum"
            ),
            threshold=0,
            description=f"{name} gave up on records: their batch metadata is in the dead-letter queue",
        )

    def _alarm(self, name: str, metric: cloudwatch.IMetric, *, threshold: float, description: str) -> None:
        self.alarms[name] = cloudwatch.Alarm(
            self,
            "".join(part.title() for part in name.replace("_", "-").split("-")),
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )

    def _dashboard(
        self, profile: Profile, streaming: StreamingStack, athena_workgroup: str | None
    ) -> cloudwatch.Dashboard:
        functions = streaming.functions
        consumers = streaming.consumers
        sources = streaming.cdc_sources
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"lakehouse-{profile.name}")
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Records in (Kinesis, CDC received) / out (appended to bronze)",
                left=[
                    streaming.stream.metric_incoming_records(period=PERIOD, statistic="Sum"),
                    *(_labelled(_cdc_metric(RECORDS_RECEIVED, name, source)) for name, source in sources.items()),
                ],
                right=[_labelled(_cdc_metric(RECORDS_APPENDED, name, source)) for name, source in sources.items()],
            ),
            cloudwatch.GraphWidget(
                title="Iterator age (ms)",
                left=[
                    functions[name].function.metric("IteratorAge", period=PERIOD, statistic="Maximum")
                    for name in consumers
                ],
            ),
            cloudwatch.GraphWidget(
                title="Dead-letter queue depth",
                left=[
                    c.dead_letter_queue.metric_approximate_number_of_messages_visible(period=PERIOD)
                    for c in consumers.values()
                ],
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Invocations / errors",
                left=[f.function.metric_invocations(period=PERIOD, statistic="Sum") for f in functions.values()],
                right=[f.function.metric_errors(period=PERIOD, statistic="Sum") for f in functions.values()],
            ),
            cloudwatch.GraphWidget(
                title="Duration p95 (ms)",
                left=[f.function.metric_duration(period=PERIOD, statistic="p95") for f in functions.values()],
            ),
            cloudwatch.GraphWidget(
                title="Quarantined records",
                left=[_labelled(_cdc_metric(RECORDS_QUARANTINED, name, source)) for name, source in sources.items()],
            ),
        )
        if athena_workgroup:
            dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title="Athena bytes scanned",
                    left=[
                        cloudwatch.MathExpression(
                            expression=(
                                'SEARCH(\'{AWS/Athena,QueryState,QueryType,WorkGroup} MetricName="ProcessedBytes" '
                                f"WorkGroup=\"{athena_workgroup}\"', 'Sum', 3600)"
                            ),
                            label="ProcessedBytes",
                            period=cdk.Duration.hours(1),
                        )
                    ],
                )
            )
        return dashboard


def _cdc_metric(metric_name: str, function: str, source: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=metric_name,
        dimensions_map={"service": function, "Source": source},
        period=PERIOD,
        statistic="Sum",
    )


def _labelled(metric: cloudwatch.Metric) -> cloudwatch.Metric:
    """Dashboard legend `<metric> <function>` (alarms keep unlabelled metrics: a label turns them into math)."""
    service = (metric.dimensions or {}).get("service", "")
    return metric.with_(label=f"{metric.metric_name} {service}")
