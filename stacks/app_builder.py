"""Composes the stacks for one deployment profile. Issue 6 fills this in; for now one minimal stack."""

import aws_cdk as cdk
from constructs import Construct


class FoundationStack(cdk.Stack):
    """Placeholder so that `cdk synth` works from day one."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]


def build_app(app: cdk.App) -> None:
    profile = app.node.try_get_context("profile") or "dev"
    FoundationStack(app, f"lakehouse-{profile}-foundation")
