"""Glue databases for the bronze, silver and gold layers, and the Athena workgroup that queries them."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from constructs import Construct

from lakehouse.settings import BRONZE, SILVER
from stacks.profiles import Profile
from stacks.storage.stack import LakeBuckets

GOLD = "gold"  # dbt marts (Iceberg, written by Athena)
CATALOG_LAYERS = (BRONZE, SILVER, GOLD)


def database_name(profile: Profile, layer: str) -> str:
    return f"lakehouse_{profile.name}_{layer}"


def workgroup_name(profile: Profile) -> str:
    return f"lakehouse-{profile.name}"


class CatalogStack(cdk.Stack):
    """Exposes `databases` (layer -> CfnDatabase) and `workgroup`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        profile: Profile,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        buckets = LakeBuckets.of(self, profile)
        lake, athena_results = buckets.lake, buckets.athena_results
        self.databases = {
            layer: glue.CfnDatabase(
                self,
                f"{layer.title()}Database",
                catalog_id=self.account,
                database_input=glue.CfnDatabase.DatabaseInputProperty(
                    name=database_name(profile, layer),
                    description=f"Lakehouse {layer} layer ({profile.name})",
                    location_uri=lake.s3_url_for_object(layer),
                ),
            )
            for layer in CATALOG_LAYERS
        }
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=workgroup_name(profile),
            description="Lakehouse queries: enforced result location and encryption, per-query scan cutoff",
            recursive_delete_option=not profile.retain_data,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=profile.athena_bytes_scanned_cutoff,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=athena_results.s3_url_for_object("results/"),
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )
        for layer in self.databases:
            cdk.CfnOutput(self, f"{layer.title()}DatabaseName", value=database_name(profile, layer))
        cdk.CfnOutput(self, "AthenaWorkGroupName", value=self.workgroup.ref)
