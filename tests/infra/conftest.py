"""CDK fixtures: each profile is synthesized at most once per test session.

Under pytest-xdist both workers share one synthesis: the assemblies live in the session's shared temp folder and a
file lock makes the second worker wait for and reuse the first one's. (The infra tests carry `xdist_group("cdk")`
for `--dist loadgroup`, but with pytest 9.2 and pytest-xdist 3.8 that grouping has no effect: xdist renames
`item._nodeid`, which pytest 9.2 no longer reads. So the tests must not rely on running in one worker.)"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
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


def _session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder shared by every worker of this test session (xdist gives each worker a subfolder of one root)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    shared = root / "cdk-assemblies"
    shared.mkdir(exist_ok=True)
    return shared


def shared_synthesis(folder: Path, profile: str) -> CloudAssembly:
    """The profile's assembly in `folder`, synthesized by whichever process gets there first."""
    outdir = folder / profile
    done = folder / f"{profile}.done"
    with (folder / f"{profile}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(outdir, ignore_errors=True)  # a half-written one from a failed attempt
            synthesize(profile, outdir, bundle=profile in BUNDLED_PROFILES)
            done.touch()
    return CloudAssembly(outdir)


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], CloudAssembly]:
    """`assembly("dev")` -> the synthesized cloud assembly of that profile (synthesized on first use)."""
    folder = _session_dir(tmp_path_factory)
    cache: dict[str, CloudAssembly] = {}

    def get(profile: str) -> CloudAssembly:
        if profile not in cache:
            cache[profile] = shared_synthesis(folder, profile)
        return cache[profile]

    return get


def resources(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def only(template: dict[str, Any], type_: str) -> dict[str, Any]:
    found = list(resources(template, type_).values())
    assert len(found) == 1, f"expected one {type_}, found {len(found)}"
    return found[0]["Properties"]
