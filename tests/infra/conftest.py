"""CDK fixtures: each profile is synthesized at most once per test session, into a session temp folder.

All infra tests carry `xdist_group("cdk")`, so under `pytest -n 2 --dist loadgroup` one worker runs them all and
the synthesis is not repeated in the other worker."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stacks.constructs.lambda_bundling import PROJECT_ROOT
from tests.infra.cloud_assembly import CloudAssembly

# Profiles whose assets the tests inspect or deploy; the others synthesize templates only (much less I/O).
BUNDLED_PROFILES = ("dev", "localstack")


def synthesize(profile: str, outdir: Path, *, bundle: bool = True) -> CloudAssembly:
    """What `cdk synth -c profile=<profile>` does: the app with cdk.json's context (`bundle=False`: what
    `cdk synth --exclusively` does for stacks it does not bundle)."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import aws_cdk as cdk

    from stacks.app_builder import build_app

    context: dict[str, Any] = json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]
    context = {**context, "profile": profile, **({} if bundle else {"aws:cdk:bundling-stacks": []})}
    app = cdk.App(outdir=str(outdir), context=context)
    build_app(app)
    app.synth()
    return CloudAssembly(outdir)


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], CloudAssembly]:
    """`assembly("dev")` -> the synthesized cloud assembly of that profile (synthesized on first use)."""
    cache: dict[str, CloudAssembly] = {}

    def get(profile: str) -> CloudAssembly:
        if profile not in cache:
            outdir = tmp_path_factory.mktemp(f"cdk-{profile}")
            cache[profile] = synthesize(profile, outdir, bundle=profile in BUNDLED_PROFILES)
        return cache[profile]

    return get


def resources(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def only(template: dict[str, Any], type_: str) -> dict[str, Any]:
    found = list(resources(template, type_).values())
    assert len(found) == 1, f"expected one {type_}, found {len(found)}"
    return found[0]["Properties"]
