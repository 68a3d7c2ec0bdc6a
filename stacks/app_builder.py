"""Composes the stacks for one deployment profile (`-c profile=dev|prod|localstack`) and checks them with cdk-nag.

Context: `profile` (default dev), `alert_email` (optional subscriber of the alert topic). Account and region come
from the CDK CLI (`CDK_DEFAULT_ACCOUNT` / `CDK_DEFAULT_REGION`); without them the stacks are environment-agnostic.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.catalog.stack import CatalogStack, workgroup_name
from stacks.monitoring.stack import MonitoringStack
from stacks.processing.stack import ProcessingStack
from stacks.profiles import Profile, profile_from_context
from stacks.storage.stack import StorageStack
from stacks.streaming.stack import StreamingStack


@dataclass(frozen=True)
class LakehouseStacks:
    profile: Profile
    storage: StorageStack
    streaming: StreamingStack
    monitoring: MonitoringStack
    catalog: CatalogStack | None
    processing: ProcessingStack | None

    def all(self) -> list[cdk.Stack]:
        stacks = [self.storage, self.catalog, self.streaming, self.processing, self.monitoring]
        return [stack for stack in stacks if stack is not None]


def build_app(app: cdk.App) -> LakehouseStacks:
    profile = profile_from_context(app)
    env = cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION"))
    storage = StorageStack(app, profile.stack_name("storage"), profile=profile, env=env)
    catalog = processing = None
    if profile.analytics:
        catalog = CatalogStack(app, profile.stack_name("catalog"), profile=profile, env=env)
        processing = ProcessingStack(app, profile.stack_name("processing"), profile=profile, env=env)
    streaming = StreamingStack(app, profile.stack_name("streaming"), profile=profile, env=env)
    monitoring = MonitoringStack(
        app,
        profile.stack_name("monitoring"),
        profile=profile,
        streaming=streaming,
        athena_workgroup=workgroup_name(profile) if profile.analytics else None,
        alert_email=app.node.try_get_context("alert_email"),
        env=env,
    )
    stacks = LakehouseStacks(profile, storage, streaming, monitoring, catalog, processing)
    for dependent in (catalog, processing, streaming):
        if dependent is not None:
            dependent.add_stack_dependency(storage, "uses the buckets by name")
    for stack in stacks.all():
        cdk.Tags.of(stack).add("project", "lakehouse")
        cdk.Tags.of(stack).add("profile", profile.name)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stacks
