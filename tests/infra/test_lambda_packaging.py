"""Lambda assets: built without Docker for arm64/CPython 3.12, under the 250 MB unzipped limit (sizes printed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

from stacks.constructs.lambda_bundling import (
    DEPS_CACHE,
    LAMBDA_SIZE_LIMIT_BYTES,
    PACKAGING,
    RUNTIME_PROVIDED,
    FunctionSource,
    installed_dependencies,
    loaded_image,
    strip_shared_libraries,
    strip_tool,
    tree_size,
)
from tests.infra.cloud_assembly import CloudAssembly
from tests.infra.import_closure import client_services, provides, third_party_imports

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("cdk")]

FUNCTIONS = ("cdc_kinesis", "cdc_dynamodb", "silver_apply", "batch_load")
# Clients a library builds by itself: dlt's filesystem (s3fs through aiobotocore) for s3:// URLs, and the X-Ray SDK
# behind Powertools' Tracer, for its sampling rules, as soon as it is imported.
LIBRARY_CLIENTS = {"dlt": "s3", "aws_lambda_powertools": "xray"}

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
    assert set(sizes) == set(FUNCTIONS)
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


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_module_the_handler_imports_is_in_its_asset(function: str, assets: dict[str, Path]) -> None:
    asset = assets[function]
    missing = {
        name: sorted(importers)
        for name, importers in third_party_imports(asset, f"lambdas.{function}.handler").items()
        if not provides(asset, name) and name not in RUNTIME_PROVIDED
    }
    assert not missing, f"{function} imports packages its asset lacks: {missing}"


def test_asset_leaves_out_what_the_runtime_has_and_what_nothing_imports(assets: dict[str, Path]) -> None:
    for name, folder in assets.items():
        absent = ["pyarrow/tests", "pyarrow/include", "pyarrow/libarrow_flight.so.2600"]
        if not PACKAGING.get(name, None) or not PACKAGING[name].botocore_services:
            absent += ["boto3", "botocore"]
        for path in absent:
            assert not (folder / path).exists(), (name, path)
        assert not list(folder.rglob("__pycache__"))


@pytest.mark.parametrize("function", sorted(PACKAGING))
def test_declared_pruning_is_applied(function: str, assets: dict[str, Path]) -> None:
    """Only the declared service models, none of the dropped distributions, no symbol tables in native code."""
    asset, packaging = assets[function], PACKAGING[function]
    if packaging.botocore_services:
        models = {p.name for p in (asset / "botocore" / "data").iterdir() if p.is_dir()}
        assert models == set(packaging.botocore_services)
        assert (asset / "botocore" / "data" / "endpoints.json").is_file()
    dists = {p.name.split("-", 1)[0].lower() for p in asset.glob("*.dist-info")}
    for dropped in packaging.drop_distributions:
        assert dropped.replace("-", "_").lower() not in dists, dropped
    if packaging.strip_native:
        libraries = [p for p in asset.rglob("*.so*") if p.is_file()]
        assert libraries
        assert not [p for p in libraries if has_symbol_table(p)]


def has_symbol_table(path: Path) -> bool:
    """Whether a 64-bit little-endian ELF file has a SHT_SYMTAB section (the static symbol table strip removes)."""
    data = path.read_bytes()
    section_table = int.from_bytes(data[0x28:0x30], "little")
    entry_size, count = int.from_bytes(data[0x3A:0x3C], "little"), int.from_bytes(data[0x3C:0x3E], "little")
    types = (int.from_bytes(data[section_table + i * entry_size + 4 :][:4], "little") for i in range(count))
    return 2 in types  # SHT_SYMTAB


@pytest.mark.parametrize("function", sorted(f for f, p in PACKAGING.items() if p.botocore_services))
def test_every_service_the_code_builds_a_client_for_keeps_its_model(function: str, assets: dict[str, Path]) -> None:
    """Static half of the check (tests/infra/test_batch_load_runtime.py records what a real run loads): a
    `.client("<service>")` anywhere in the handler's import closure needs `botocore/data/<service>` in the asset,
    and so do the clients libraries build on their own (LIBRARY_CLIENTS)."""
    asset, handler = assets[function], f"lambdas.{function}.handler"
    needed = set(client_services(asset, handler))
    needed |= {LIBRARY_CLIENTS[name] for name in third_party_imports(asset, handler) if name in LIBRARY_CLIENTS}
    assert needed
    assert needed <= set(PACKAGING[function].botocore_services)
    for service in needed:
        assert (asset / "botocore" / "data" / service).is_dir(), service


def test_a_pin_without_an_arm64_wheel_fails_with_the_file_named(tmp_path: Path) -> None:
    (tmp_path / "lambdas").mkdir()
    (tmp_path / "lambdas" / "requirements.txt").write_text("lakehouse-no-such-package-for-lambda==0.0.1\n")
    (tmp_path / "constraints.txt").write_text("")
    source = FunctionSource("cdc_kinesis", tmp_path)
    with pytest.raises(RuntimeError, match=r"pip could not install lambdas/requirements.txt for Lambda arm64"):
        installed_dependencies(source)
    assert not (DEPS_CACHE / source.dependencies_hash()).exists()  # nothing cached for the failed pins


def test_stripped_libraries_load_and_work_and_changed_images_are_caught(tmp_path: Path) -> None:
    """The stripping the arm64 assets get, applied to this machine's PyYAML (a C extension with symbol tables): it
    shrinks, the loader-mapped bytes are unchanged, and the extension still imports and parses in a fresh process."""
    package = tmp_path / "site" / "yaml"
    shutil.copytree(Path(yaml.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    (extension,) = package.glob("_yaml.*.so")
    before, image = extension.stat().st_size, loaded_image(extension)
    assert has_symbol_table(extension)
    strip_shared_libraries(tmp_path / "site")
    assert extension.stat().st_size < before
    assert not has_symbol_table(extension)
    assert loaded_image(extension) == image
    check = (
        f"import yaml; assert yaml.__file__.startswith({str(package)!r}); assert yaml.__with_libyaml__; "
        "assert yaml.load('a: [1, 2]', Loader=yaml.CLoader) == {'a': [1, 2]}"
    )
    env = {"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", check], check=True, env=env)

    changed = extension.read_bytes()
    _, text = image[1]  # the executable segment
    offset = changed.index(text[4096:4160]) + 8
    extension.write_bytes(changed[:offset] + bytes([changed[offset] ^ 0xFF]) + changed[offset + 1 :])
    assert loaded_image(extension) != image


def test_a_missing_strip_tool_is_named_with_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuntimeError, match=r"needs llvm-strip .*apt-get install llvm"):
        strip_tool()
