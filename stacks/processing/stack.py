"""EMR Serverless (Spark, arm64) for compaction and backfills, and the role its jobs run as. The Step Functions
that start the jobs come with the orchestration issue."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_emrserverless as emrs
from aws_cdk import aws_iam as iam
from constructs import Construct

from lakehouse.settings import BRONZE, SILVER
from stacks.catalog.stack import CATALOG_LAYERS, database_name
from stacks.constructs.nag import acknowledge_wildcard_resource
from stacks.constructs.s3_access import grant_prefix
from stacks.profiles import Profile
from stacks.storage.stack import LakeBuckets

EMR_RELEASE = "emr-7.9.0"
JOBS_PREFIX = "_jobs"  # job scripts, dependency archives and Spark event logs, inside the lake bucket


class ProcessingStack(cdk.Stack):
    """Exposes `application` and `job_role`."""

    def __init__(self, scope: Construct, construct_id: str, *, profile: Profile, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        lake = LakeBuckets.of(self, profile).lake
        self.application = emrs.CfnApplication(
            self,
            "Spark",
            name=f"lakehouse-{profile.name}",
            release_label=EMR_RELEASE,
            type="SPARK",
            architecture="ARM64",
            auto_start_configuration=emrs.CfnApplication.AutoStartConfigurationProperty(enabled=True),
            auto_stop_configuration=emrs.CfnApplication.AutoStopConfigurationProperty(
                enabled=True, idle_timeout_minutes=profile.emr_idle_timeout_minutes
            ),
            maximum_capacity=emrs.CfnApplication.MaximumAllowedResourcesProperty(
                cpu=f"{profile.emr_max_vcpu} vCPU", memory=f"{profile.emr_max_memory_gb} GB"
            ),
        )
        applications = f"arn:{self.partition}:emr-serverless:{self.region}:{self.account}:/applications/*"
        self.job_role = iam.Role(
            self,
            "JobRole",
            assumed_by=iam.ServicePrincipal(
                "emr-serverless.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": self.account},
                    "ArnLike": {"aws:SourceArn": applications},
                },
            ),
            description="Spark jobs on EMR Serverless: compaction, vacuum and backfills of the Delta lake",
        )
        for prefix, contents in (
            (BRONZE, "Delta bronze tables, compacted and vacuumed by jobs"),
            (SILVER, "Delta silver tables, compacted, vacuumed and backfilled by jobs"),
            (JOBS_PREFIX, "job scripts, dependency archives and Spark event logs"),
        ):
            grant_prefix(lake, self.job_role, prefix, write=True, contents=contents)
        catalog = f"arn:{self.partition}:glue:{self.region}:{self.account}"
        databases = [database_name(profile, layer) for layer in CATALOG_LAYERS]
        tables = [f"{catalog}:table/{name}/*" for name in databases]
        self.job_role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "glue:GetDatabase",
                    "glue:GetTable",
                    "glue:GetTables",
                    "glue:GetPartitions",
                    "glue:CreateTable",
                    "glue:UpdateTable",
                    "glue:BatchCreatePartition",
                ],
                resources=[
                    f"{catalog}:catalog",
                    *(f"{catalog}:database/{name}" for name in databases),
                    *tables,
                ],
            )
        )
        for table_arn in tables:
            acknowledge_wildcard_resource(
                self.job_role,
                table_arn,
                "Jobs register and update tables that Delta creates at run time; the database is the narrowest scope.",
            )
        cdk.CfnOutput(self, "SparkApplicationId", value=self.application.attr_application_id)
        cdk.CfnOutput(self, "SparkJobRoleArn", value=self.job_role.role_arn)
