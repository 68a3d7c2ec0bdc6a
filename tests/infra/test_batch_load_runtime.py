"""batch_load with only its asset's modules: the pruned asset still runs real loads (landing files on S3, a bad
file quarantined, Delta silver written; then the shop API's campaigns) against a moto server. Complements the static
checks in test_lambda_packaging.py; the arm64 binaries themselves cannot run here (see docs/deploy.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from datetime import date
from fnmatch import fnmatchcase
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from generator.api import serve_in_thread
from generator.config import SimulationConfig
from lakehouse.emulator import Emulator
from lakehouse.settings import API_URL_ENV, LAKE_URI_ENV, LANDING_URI_ENV, QUARANTINE_URI_ENV
from lakehouse.sources.landing_files.samples import encode_jsonl_gz, landing_key, review
from stacks.constructs.lambda_bundling import PACKAGING, PROJECT_ROOT, FunctionSource, installed_dependencies
from stacks.streaming.stack import DLT_DATA_DIR_ENV
from tests.infra.asset_sandbox import build_view
from tests.infra.cloud_assembly import CloudAssembly
from tests.infra.conftest import resources

pytestmark = [pytest.mark.infra, pytest.mark.integration, pytest.mark.xdist_group("cdk")]

# S3 API operation -> the IAM action that authorizes it (AWS's "Actions defined by Amazon S3" table).
IAM_ACTION = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "DeleteObject": "s3:DeleteObject",
    "DeleteObjects": "s3:DeleteObject",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
}


def _bucket_purpose(arn: Any) -> tuple[str, str] | None:
    """(bucket purpose, key pattern or "" for the bucket) of a synthesized dev bucket ARN: ("lake", "silver/*")."""
    if not (isinstance(arn, dict) and "Fn::Join" in arn):
        return None
    parts = arn["Fn::Join"][1]
    names = [p for p in parts if isinstance(p, str) and p.startswith(":s3:::lakehouse-dev-")]
    if not names:
        return None
    purpose = names[0].removeprefix(":s3:::lakehouse-dev-").removesuffix("-")
    last = parts[-1]
    return purpose, last.removeprefix("/") if isinstance(last, str) and last.startswith("/") else ""


def permitted(statements: list[dict[str, Any]], operation: str, bucket: str, key: str) -> bool:
    """Whether an Allow statement of the role covers the call (buckets named by purpose, as in the sandbox run)."""
    action = IAM_ACTION[operation]
    for statement in statements:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if statement["Effect"] != "Allow" or action not in actions:
            continue
        for purpose, pattern in filter(None, map(_bucket_purpose, targets)):
            if purpose != bucket:
                continue
            if action != "s3:ListBucket":
                if pattern and fnmatchcase(key, pattern):
                    return True
                continue
            prefixes = statement.get("Condition", {}).get("StringLike", {}).get("s3:prefix")
            if prefixes is None:
                return True  # unconditioned: HeadBucket and any listing
            if operation != "HeadBucket" and any(fnmatchcase(key, p) for p in prefixes):
                return True
    return False


@pytest.fixture(scope="module")
def dependencies() -> Path:
    """batch_load's pruned dependency tree (what its asset holds besides the project code)."""
    return installed_dependencies(FunctionSource("batch_load"))


def test_the_virtualenv_runs_the_same_versions_as_the_asset(dependencies: Path) -> None:
    """The sandbox loads allowed modules from the virtualenv: meaningful only if they are the asset's versions."""
    differing = {}
    for dist_info in dependencies.glob("*.dist-info"):
        name, version = dist_info.name.removesuffix(".dist-info").split("-", 1)
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # a module the venv lacks cannot be imported by the sandbox either: the run would fail
        if installed != version:
            differing[name] = (version, installed)
    assert not differing, f"asset vs virtualenv versions: {differing}"


def test_handler_runs_a_load_with_only_the_modules_in_its_asset(
    emulator: Emulator,
    dependencies: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    assembly: Callable[[str], CloudAssembly],
) -> None:
    s3 = emulator.aws.client("s3")
    for bucket in ("landing", "lake", "quarantine"):
        s3.create_bucket(Bucket=bucket)
    good = encode_jsonl_gz([review(i) for i in range(1, 21)])
    s3.put_object(Bucket="landing", Key=f"landing/{landing_key('reviews', date(2026, 11, 1), 0)}", Body=good)
    s3.put_object(Bucket="landing", Key=f"landing/{landing_key('reviews', date(2026, 11, 2), 0)}", Body=good[:40])
    view = tmp_path / "asset"
    assert not build_view(dependencies, Path(sysconfig.get_paths()["purelib"]), view)
    for package in ("lakehouse", "lambdas"):  # the project code, as the bundler copies it
        os.symlink(PROJECT_ROOT / package, view / package)
    env = {
        **os.environ,
        **emulator.env(),
        LAKE_URI_ENV: "s3://lake",
        QUARANTINE_URI_ENV: "s3://quarantine/quarantine",
        LANDING_URI_ENV: "s3://landing/landing",
        DLT_DATA_DIR_ENV: str(tmp_path / ".dlt"),
        "POWERTOOLS_TRACE_DISABLED": "1",  # no X-Ray daemon here
        "PYTHONPATH": str(view),
    }
    sandbox = Path(__file__).with_name("asset_sandbox.py")
    command = [sys.executable, "-S", "-P", str(sandbox), "lambdas.batch_load.handler"]
    events = [{"source": "files", "tables": ["reviews"]}, {"source": "api", "tables": ["campaigns"]}]
    with serve_in_thread(SimulationConfig(scale=0.001, days=7, seed=7)) as api_url:
        run = subprocess.run(
            [*command, json.dumps(events)],
            cwd=tmp_path,
            env={**env, API_URL_ENV: api_url},
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert run.returncode == 0, run.stderr[-4000:]
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    with capsys.disabled():
        print(f"\n[batch_load sandbox] botocore service models loaded: {outcome['service_models']}")
        print("[batch_load sandbox] S3 calls through botocore:", *outcome["s3_calls"], sep="\n  ")
    files, api = outcome["results"]
    assert files["rows"] == {"reviews": 20}
    assert files["quarantined_total"] == 1
    assert api["rows"]["campaigns"] > 0
    for table in ("reviews", "campaigns"):
        assert s3.list_objects_v2(Bucket="lake", Prefix=f"silver/{table}/_delta_log/")["KeyCount"] > 0
    assert set(outcome["service_models"]) == {"s3", "xray"}  # the X-Ray SDK's sampling client, at import
    assert set(outcome["service_models"]) <= set(PACKAGING["batch_load"].botocore_services)

    # Every S3 call made through botocore is allowed by the deployed role (the dev template's statements).
    template = assembly("dev").template("lakehouse-dev-streaming")
    statements = [
        statement
        for logical_id, policy in resources(template, "AWS::IAM::Policy").items()
        if logical_id.startswith("BatchLoadRole")
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert outcome["s3_calls"]
    denied = [call for call in outcome["s3_calls"] if not permitted(statements, *call)]
    assert not denied, f"S3 calls the batch_load role would be refused: {denied}"
    prefix_listing_only = [s for s in statements if not (s["Action"] == "s3:ListBucket" and "Condition" not in s)]
    assert not permitted(prefix_listing_only, "HeadBucket", "lake", "")  # why the bucket-wide listing is granted
