"""An S3 bucket with the project's baseline: encrypted, TLS only, no public access, access-logged, lifecycle."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.constructs.nag import acknowledge


class SecureBucket(Construct):
    """Exposes `bucket`. Objects move to Standard-IA after `infrequent_access_after` days; noncurrent versions
    (versioned buckets) expire after `noncurrent_expiry_days`; `expire_after_days` deletes current objects."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        removal_policy: cdk.RemovalPolicy,
        access_logs: s3.IBucket | None,
        access_log_prefix: str = "",
        versioned: bool = False,
        infrequent_access_after_days: int | None = 30,
        expire_after_days: int | None = None,
        noncurrent_expiry_days: int = 30,
    ) -> None:
        super().__init__(scope, construct_id)
        rules = [
            s3.LifecycleRule(
                id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=cdk.Duration.days(7)
            )
        ]
        if infrequent_access_after_days is not None:
            rules.append(
                s3.LifecycleRule(
                    id="standard-ia",
                    # IA bills every object as at least 128 KB: small Delta log files stay in Standard.
                    object_size_greater_than=128 * 1024,
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=cdk.Duration.days(infrequent_access_after_days),
                        )
                    ],
                )
            )
        if expire_after_days is not None:
            rules.append(s3.LifecycleRule(id="expire", expiration=cdk.Duration.days(expire_after_days)))
        if versioned:
            rules.append(
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=cdk.Duration.days(noncurrent_expiry_days),
                    expired_object_delete_marker=True,
                )
            )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=versioned,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=access_log_prefix or None,
            lifecycle_rules=rules,
            removal_policy=removal_policy,
        )
        if infrequent_access_after_days is not None:
            acknowledge(
                self.bucket,
                "CloudFormation-Validate::W9003",
                "CDK types LifecycleRule ObjectSizeGreaterThan as a number; CloudFormation reads it as its string.",
            )
