"""Buckets: landing (raw files), lake (Delta bronze/silver), quarantine, Athena results, and their access logs.

Bucket names are deterministic (`Profile.bucket_name`): other stacks import them by name with `LakeBuckets.of`,
so no stack export ties the stacks together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.constructs.nag import acknowledge
from stacks.constructs.secure_bucket import SecureBucket
from stacks.profiles import Profile

ATHENA_RESULTS_EXPIRY_DAYS = 7
ACCESS_LOG_EXPIRY_DAYS = 90
LANDING, LAKE, QUARANTINE, ATHENA_RESULTS, ACCESS_LOGS = (
    "landing",
    "lake",
    "quarantine",
    "athena-results",
    "access-logs",
)


@dataclass(frozen=True)
class LakeBuckets:
    landing: s3.IBucket
    lake: s3.IBucket
    quarantine: s3.IBucket
    athena_results: s3.IBucket

    @classmethod
    def of(cls, scope: Construct, profile: Profile) -> LakeBuckets:
        """The storage stack's buckets, referenced by name from another stack."""

        def named(purpose: str) -> s3.IBucket:
            return s3.Bucket.from_bucket_name(scope, f"{purpose.title()}Bucket", profile.bucket_name(purpose))

        return cls(named(LANDING), named(LAKE), named(QUARANTINE), named(ATHENA_RESULTS))


class StorageStack(cdk.Stack):
    """Exposes `buckets` (LakeBuckets) and `access_logs`."""

    def __init__(self, scope: Construct, construct_id: str, *, profile: Profile, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        policy = profile.removal_policy
        access_logs = SecureBucket(
            self,
            "AccessLogs",
            bucket_name=profile.bucket_name(ACCESS_LOGS),
            removal_policy=policy,
            access_logs=None,
            infrequent_access_after_days=None,
            expire_after_days=ACCESS_LOG_EXPIRY_DAYS,
        )
        self.access_logs = access_logs.bucket
        acknowledge(
            access_logs,
            "AwsSolutions-S1",
            "This is the server-access-log bucket of the other buckets; logging it into itself would loop.",
        )

        def bucket(purpose: str, **settings: Any) -> s3.IBucket:
            return SecureBucket(
                self,
                purpose.title().replace("-", ""),
                bucket_name=profile.bucket_name(purpose),
                removal_policy=policy,
                access_logs=self.access_logs,
                access_log_prefix=f"{purpose}/",
                **settings,
            ).bucket

        self.buckets = LakeBuckets(
            landing=bucket(LANDING),
            # Versioned: an overwritten or vacuumed Delta file can be restored for 30 days.
            lake=bucket(LAKE, versioned=True),
            quarantine=bucket(QUARANTINE),
            athena_results=bucket(
                ATHENA_RESULTS, infrequent_access_after_days=None, expire_after_days=ATHENA_RESULTS_EXPIRY_DAYS
            ),
        )
        for purpose in (LANDING, LAKE, QUARANTINE, ATHENA_RESULTS):
            cdk.CfnOutput(self, f"{purpose.title().replace('-', '')}BucketName", value=profile.bucket_name(purpose))
