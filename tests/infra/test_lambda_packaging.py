"""Lambda assets: built without Docker for arm64/CPython 3.12, under the 250 MB unzipped limit (sizes printed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stacks.constructs.lambda_bundling import (
    DEPS_CACHE,
    LAMBDA_SIZE_LIMIT_BYTES,
    PROJECT_ROOT,
    RUNTIME_PROVIDED,
    FunctionSource,
    installed_dependencies,
    tree_size,
)
from stacks.streaming.stack import NOT_DEPLOYABLE_AS_ZIP
from tests.infra.cloud_assembly import CloudAssembly
from tests.infra.import_closure import provides, third_party_imports

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("cdk")]

EM_AARCH64 = 183  # ELF e_machine


@pytest.fixture(scope="module")
def assets(assembly: Callable[[str], CloudAssembly]) -> dict[str, Path]:
    """Function name -> bundled asset folder, from the dev assembly."""
    found = {}
    for folder in assembly("dev").asset_dirs("lakehouse-dev-streaming").values():
        (handler,) = [p for p in (folder / "lambdas").iterdir() if p.is_dir() and p.name != "__pycache__"]
        found[handler.name] = folder
    return found


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return int.from_bytes(header[18:20], "little")


def test_each_function_fits_the_unzipped_limit(assets: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    sizes = {name: tree_size(folder) for name, folder in assets.items()}
    with capsys.disabled():
        for name, size in sorted(sizes.items()):
            print(
                f"\n[lambda asset] {name}: {size / 1e6:.1f} MB unzipped (limit {LAMBDA_SIZE_LIMIT_BYTES / 1e6:.1f} MB)"
            )
    assert set(sizes) == {"cdc_kinesis", "cdc_dynamodb", "silver_apply"}
    for name, size in sizes.items():
        assert size < LAMBDA_SIZE_LIMIT_BYTES, f"{name}: {size / 1e6:.1f} MB unzipped"


def test_asset_holds_the_handler_the_domain_library_and_arm64_dependencies(assets: dict[str, Path]) -> None:
    for name, folder in assets.items():
        assert (folder / "lambdas" / "__init__.py").is_file()
        assert (folder / "lambdas" / name / "handler.py").is_file(), name
        assert (folder / "lakehouse" / "settings.py").is_file()
        assert not (folder / "lakehouse" / "__pycache__").exists()
        for package in ("deltalake", "pyarrow", "aws_lambda_powertools"):
            assert (folder / package).is_dir(), (name, package)
        assert elf_machine(folder / "deltalake" / "_internal.abi3.so") == EM_AARCH64
        (pyarrow_lib,) = (folder / "pyarrow").glob("lib.cpython-*.so")
        assert pyarrow_lib.name == "lib.cpython-312-aarch64-linux-gnu.so"
        assert elf_machine(pyarrow_lib) == EM_AARCH64


@pytest.mark.parametrize(
    "function",
    [
        "cdc_kinesis",
        "cdc_dynamodb",
        "silver_apply",
    ],
)
def test_every_module_the_handler_imports_is_in_its_asset(function: str, assets: dict[str, Path]) -> None:
    asset = assets[function]
    missing = {
        name: sorted(importers)
        for name, importers in third_party_imports(asset, f"lambdas.{function}.handler").items()
        if not provides(asset, name) and name not in RUNTIME_PROVIDED
    }
    assert not missing, f"{function} imports packages its asset lacks: {missing}"


def test_asset_leaves_out_what_the_runtime_has_and_what_nothing_imports(assets: dict[str, Path]) -> None:
    for folder in assets.values():
        for absent in ("boto3", "botocore", "pyarrow/tests", "pyarrow/include", "pyarrow/libarrow_flight.so.2600"):
            assert not (folder / absent).exists(), absent
        assert not list(folder.rglob("__pycache__"))


def test_functions_that_do_not_fit_are_measured_and_left_out(
    assembly: Callable[[str], CloudAssembly], capsys: pytest.CaptureFixture[str]
) -> None:
    """batch_load (dlt) is over the limit: measured here so that the claim in docs/deploy.md stays true."""
    template = assembly("dev").template("lakehouse-dev-streaming")
    handlers = {
        r["Properties"]["Handler"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    }
    for name in NOT_DEPLOYABLE_AS_ZIP:
        assert f"lambdas.{name}.handler.handler" not in handlers
        source = FunctionSource(name, PROJECT_ROOT)
        size = tree_size(installed_dependencies(source)) + sum(p.stat().st_size for p in source.code_files())
        with capsys.disabled():
            print(f"\n[lambda asset] {name}: {size / 1e6:.1f} MB unzipped: not deployable as a zip function")
        assert size > LAMBDA_SIZE_LIMIT_BYTES, f"{name} now fits ({size / 1e6:.1f} MB): deploy it"


def test_a_pin_without_an_arm64_wheel_fails_with_the_file_named(tmp_path: Path) -> None:
    (tmp_path / "lambdas").mkdir()
    (tmp_path / "lambdas" / "requirements.txt").write_text("lakehouse-no-such-package-for-lambda==0.0.1\n")
    (tmp_path / "constraints.txt").write_text("")
    source = FunctionSource("cdc_kinesis", tmp_path)
    with pytest.raises(RuntimeError, match=r"pip could not install lambdas/requirements.txt for Lambda arm64"):
        installed_dependencies(source)
    assert not (DEPS_CACHE / source.dependencies_hash()).exists()  # nothing cached for the failed pins
