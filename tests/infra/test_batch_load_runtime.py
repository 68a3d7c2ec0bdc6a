"""batch_load with only its asset's modules: the pruned asset still runs real loads (landing files on S3, a bad
file quarantined, Delta silver written; then the shop API's campaigns) against a moto server. Complements the static
checks in test_lambda_packaging.py; the arm64 binaries themselves cannot run here (see docs/deploy.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from datetime import date
from importlib import metadata
from pathlib import Path

import pytest

from generator.api import serve_in_thread
from generator.config import SimulationConfig
from lakehouse.emulator import Emulator
from lakehouse.settings import API_URL_ENV, LAKE_URI_ENV, LANDING_URI_ENV, QUARANTINE_URI_ENV
from lakehouse.sources.landing_files.samples import encode_jsonl_gz, landing_key, review
from stacks.constructs.lambda_bundling import PACKAGING, PROJECT_ROOT, FunctionSource, installed_dependencies
from stacks.streaming.stack import DLT_DATA_DIR_ENV
from tests.infra.asset_sandbox import build_view

pytestmark = [pytest.mark.infra, pytest.mark.integration, pytest.mark.xdist_group("cdk")]


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
    emulator: Emulator, dependencies: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
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
    files, api = outcome["results"]
    assert files["rows"] == {"reviews": 20}
    assert files["quarantined_total"] == 1
    assert api["rows"]["campaigns"] > 0
    for table in ("reviews", "campaigns"):
        assert s3.list_objects_v2(Bucket="lake", Prefix=f"silver/{table}/_delta_log/")["KeyCount"] > 0
    assert set(outcome["service_models"]) == {"s3", "xray"}  # the X-Ray SDK's sampling client, at import
    assert set(outcome["service_models"]) <= set(PACKAGING["batch_load"].botocore_services)
