"""Deployment profiles, chosen with `-c profile=dev|prod|localstack`. Everything that differs between them is here."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk


@dataclass(frozen=True, kw_only=True)
class Profile:
    name: str
    # Kinesis capacity: a number of provisioned shards, or None for on-demand.
    kinesis_shards: int | None
    # Glue, Athena and EMR Serverless: LocalStack Community (and moto's CloudFormation) lack them.
    analytics: bool
    # Data buckets and the DynamoDB table survive `cdk destroy` when True.
    retain_data: bool
    # Cost guards.
    monthly_budget_usd: int | None = 100  # None: no AWS Budgets budget (an emulator has no bill)
    athena_bytes_scanned_cutoff: int = 10 * 1024**3  # per query
    emr_max_vcpu: int = 16
    emr_max_memory_gb: int = 64
    emr_idle_timeout_minutes: int = 15

    @property
    def removal_policy(self) -> cdk.RemovalPolicy:
        return cdk.RemovalPolicy.RETAIN if self.retain_data else cdk.RemovalPolicy.DESTROY

    def stack_name(self, concern: str) -> str:
        return f"lakehouse-{self.name}-{concern}"

    def bucket_name(self, purpose: str) -> str:
        """Deterministic, so other stacks, dbt profiles and people can name a bucket without a stack export."""
        return f"lakehouse-{self.name}-{purpose}-{cdk.Aws.ACCOUNT_ID}-{cdk.Aws.REGION}"


PROFILES: dict[str, Profile] = {
    "dev": Profile(name="dev", kinesis_shards=1, analytics=True, retain_data=False),
    "prod": Profile(name="prod", kinesis_shards=None, analytics=True, retain_data=True),
    # LocalStack Community ignores CloudFormation types it lacks today and will reject them by default later:
    # leave out what it lacks (Glue, Athena, EMR Serverless) and the budget, which has no meaning there.
    "localstack": Profile(
        name="localstack", kinesis_shards=1, analytics=False, retain_data=False, monthly_budget_usd=None
    ),
}


def profile_from_context(app: cdk.App) -> Profile:
    name = app.node.try_get_context("profile") or "dev"
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}: pass -c profile=<one of {', '.join(PROFILES)}>") from None
