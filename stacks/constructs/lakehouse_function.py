"""A lakehouse Lambda function: Python 3.12 on arm64, bundled without Docker, its own role and log group."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from lakehouse.settings import METRICS_NAMESPACE
from stacks.constructs.lambda_bundling import LAMBDA_PYTHON_VERSION, FunctionSource, lambda_code
from stacks.constructs.nag import acknowledge


class LakehouseFunction(Construct):
    """Exposes `function`, `role` and `log_group`. The handler is `lambdas.<name>.handler.handler`.

    The role gets only what the function is granted later plus writing to its own log group: no AWS managed
    policy, so nothing beyond the log group is implied."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        description: str,
        environment: dict[str, str],
        memory_mb: int = 1024,
        timeout: cdk.Duration = cdk.Duration.minutes(2),
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=removal_policy
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs the {name} Lambda function",
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler=f"lambdas.{name}.handler.handler",
            code=lambda_code(FunctionSource(name)),
            memory_size=memory_mb,
            timeout=timeout,
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "POWERTOOLS_SERVICE_NAME": name,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                **environment,
            },
        )
        self.log_group.grant_write(self.role)
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Only actions without resource-level permissions are granted on '*': xray:PutTraceSegments and "
            "xray:PutTelemetryRecords (active tracing) and, for a DynamoDB Streams consumer, dynamodb:ListStreams "
            "(added by the event source). tests/infra asserts that no other action is.",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            f"Pinned to Python {LAMBDA_PYTHON_VERSION}: dependencies are installed as arm64 wheels for exactly this "
            "version and the handlers are tested on it; upgrade it together with the requirements.",
        )
