#!/usr/bin/env python3
"""CDK composition root: builds every stack for the profile named in context (`-c profile=dev|prod|localstack`)."""

import aws_cdk as cdk

from stacks.app_builder import build_app

app = cdk.App()
build_app(app)
app.synth()
