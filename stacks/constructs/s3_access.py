"""Least-privilege S3 grants on one key prefix, with explicit actions (no `s3:*`, `s3:GetObject*`, `s3:List*`)."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from stacks.constructs.nag import acknowledge_wildcard_resource

READ_ACTIONS = ("s3:GetObject",)
# Delta on S3: new data files and log entries (PutObject with If-None-Match), vacuum/overwrite deletes files.
WRITE_ACTIONS = ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")


def grant_prefix(bucket: s3.IBucket, grantee: iam.IRole, prefix: str, *, write: bool, contents: str) -> None:
    """Read (and optionally write) objects under `<bucket>/<prefix>/`, and list only that prefix. `contents` says
    what lives there (it becomes the reason of the cdk-nag acknowledgement of the `<prefix>/*` resource)."""
    prefix = prefix.strip("/")
    objects = bucket.arn_for_objects(f"{prefix}/*")
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
        )
    )
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=[*READ_ACTIONS, *(WRITE_ACTIONS if write else ())],
            resources=[objects],
        )
    )
    scope: IConstruct = grantee
    acknowledge_wildcard_resource(
        scope,
        objects,
        f"Objects under {prefix}/ ({contents}) are created at run time with names not known at deploy time; "
        "the key prefix is the narrowest ARN, and every action is named.",
    )


def grant_bucket_exists_check(bucket: s3.IBucket, grantee: iam.IRole) -> None:
    """`s3:ListBucket` on the bucket without a prefix condition: what S3 requires for HeadBucket, whose request has no
    `s3:prefix`. It lets the grantee list key names in the whole bucket, still not read or write any object."""
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn])
    )
