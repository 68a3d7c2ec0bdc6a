"""Docker-free bundling of a Python Lambda function for arm64 (CDK `ILocalBundling`).

The asset of function `<name>` is `lakehouse/` + `lambdas/__init__.py` + `lambdas/<name>/` + its pinned
dependencies, installed with pip for the Lambda platform (`--platform manylinux..._aarch64 --only-binary=:all:`).
Installed dependencies are pruned (what every function leaves out, then what `PACKAGING` declares for one function),
cached under `.cache/lambda-deps/<hash>/` (hash of the requirements, the constraints, the pip arguments and the
pruning) and hard-linked into each asset, so a warm synth copies no bytes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEPS_CACHE = PROJECT_ROOT / ".cache" / "lambda-deps"
LAMBDA_PYTHON_VERSION = "3.12"
LAMBDA_SIZE_LIMIT_BYTES = 262_144_000  # 250 MB unzipped, function code and layers together

# The Python 3.12 runtime runs on Amazon Linux 2023 (glibc 2.34): every manylinux tag up to 2.34 loads there.
# pip does not widen `--platform` to older manylinux tags by itself, and some wheels ship only newer ones.
LAMBDA_PLATFORMS = ("manylinux2014_aarch64", *(f"manylinux_2_{minor}_aarch64" for minor in range(17, 35)))

RUNTIME_PROVIDED = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "urllib3",
    "dateutil",
    "python_dateutil",
    "six.py",
    "six",
)

# Files no Lambda imports: test suites, C headers and Cython sources, Arrow Flight (RPC), duplicate copies of
# versioned shared libraries (wheels cannot hold symlinks; the extensions load only the `.so.<abi>` name).
PRUNE_DIRS = ("pyarrow/tests", "pyarrow/include", "pyarrow/src", "deltalake/tests", "bin")
PRUNE_GLOBS = (
    "**/__pycache__",
    "**/*.pyx",
    "**/*.pxd",
    "**/*.pxi",
    "pyarrow/*flight*",
    "pyarrow/_pyarrow_cpp_tests*",
    "pyarrow/libarrow_python.so",
    "pyarrow/libarrow_python.so.*.*.*",
    "pyarrow/libarrow_python_parquet_encryption.so",
    "pyarrow/libarrow_python_parquet_encryption.so.*.*.*",
    # pyarrow's own S3 client (16 MB): delta-rs and dlt bring their own; `pyarrow.fs` tolerates its absence.
    "pyarrow/_s3fs*",
    "pyarrow/libarrow_s3.so*",
)
# The Lambda runtime ships boto3 and its closure; bundling a second copy would cost 33 MB of the 250.
RUNTIME_PROVIDED_GLOBS = tuple(f"{name}{suffix}" for name in RUNTIME_PROVIDED for suffix in ("", "-*.dist-info"))
BOTOCORE_ALWAYS_LOADED = ("_retry.json", "endpoints.json", "partitions.json", "sdk-default-configuration.json")
STRIP_TOOLS = ("llvm-strip", "llvm-strip-18", "llvm-strip-17", "llvm-strip-16", "llvm-strip-15", "llvm-strip-14")


@dataclass(frozen=True)
class Packaging:
    """What one function's asset leaves out beyond the common pruning above, declared per function in PACKAGING.

    `botocore_services`: empty -> the function uses the runtime's boto3/botocore (left out of the asset). Non-empty ->
    the asset keeps the boto3/botocore its pins install (aiobotocore accepts only the botocore it pins, which the
    runtime's need not be) with only these services' models in `botocore/data/`: ~27 MB of models otherwise. Safe
    because the function's folder comes first on `sys.path` (/var/task before /var/runtime), so the runtime's boto3
    is never imported with this botocore, and a client for any other service would fail loudly (UnknownServiceError),
    never silently. tests/infra checks every service our code builds a client for is kept.
    `drop_distributions`: distributions the pins install that the function never imports (removed by their RECORD).
    `strip_native`: drop symbol tables and debug info from shared libraries (`llvm-strip --strip-all`); a file is
    replaced only if every segment the loader maps is byte-identical afterwards (checked here), so code and data
    are unchanged; only stack traces in a native crash lose function names.
    """

    botocore_services: tuple[str, ...] = ()
    drop_distributions: tuple[str, ...] = ()
    strip_native: bool = False


PACKAGING = {
    "batch_load": Packaging(
        # s3: s3fs (through aiobotocore) and the quarantine writer; xray: the X-Ray SDK builds a client for its
        # sampling rules when Powertools' Tracer loads it (found by tests/infra/test_batch_load_runtime.py);
        # sts: botocore's credential chain outside Lambda (assume-role, web identity).
        botocore_services=("s3", "sts", "xray"),
        # setuptools: packaging tool (dlt requires it, imports it only in its CLI); pytz: croniter's optional
        # timezone backend; GitPython (gitdb, smmap): dlt's git-hosted sources; markdown-it: rich's Markdown view.
        drop_distributions=("setuptools", "pytz", "gitpython", "gitdb", "smmap", "markdown-it-py", "mdurl"),
        strip_native=True,
    ),
}


@dataclass(frozen=True)
class FunctionSource:
    """Where one function's code and pins live in the repository."""

    name: str
    root: Path = PROJECT_ROOT

    @property
    def function_dir(self) -> Path:
        return self.root / "lambdas" / self.name

    @property
    def requirements(self) -> Path:
        own = self.function_dir / "requirements.txt"
        return own if own.exists() else self.shared_requirements

    @property
    def shared_requirements(self) -> Path:
        """A function's own requirements may include the shared set with `-r ../requirements.txt`."""
        return self.root / "lambdas" / "requirements.txt"

    @property
    def constraints(self) -> Path:
        return self.root / "constraints.txt"

    @property
    def packaging(self) -> Packaging:
        return PACKAGING.get(self.name, Packaging())

    def code_files(self) -> Iterable[Path]:
        """Every source file that goes into the asset, in a stable order."""
        yield self.root / "lambdas" / "__init__.py"
        for folder in (self.root / "lakehouse", self.function_dir):
            if folder.exists():
                yield from sorted(p for p in folder.rglob("*") if p.is_file() and _is_source(p))

    def pip_arguments(self) -> list[str]:
        platforms = [arg for tag in LAMBDA_PLATFORMS for arg in ("--platform", tag)]
        return [
            *platforms,
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            LAMBDA_PYTHON_VERSION,
            "--no-compile",  # .pyc written by this interpreter would be for the wrong Python version
        ]

    def dependencies_hash(self) -> str:
        digest = hashlib.sha256()
        for path in (self.requirements, self.shared_requirements, self.constraints):
            digest.update(path.read_bytes())
        digest.update(" ".join((*self.pip_arguments(), *PRUNE_DIRS, *PRUNE_GLOBS, repr(self.packaging))).encode())
        return digest.hexdigest()[:16]

    def asset_hash(self) -> str:
        """Changes whenever the code or the pinned dependencies change, and only then."""
        digest = hashlib.sha256(self.dependencies_hash().encode())
        for path in self.code_files():
            digest.update(str(path.relative_to(self.root)).encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()


def _is_source(path: Path) -> bool:
    return "__pycache__" not in path.parts and path.suffix not in {".pyc", ".pyo"}


def installed_dependencies(source: FunctionSource, *, log: Any = sys.stderr) -> Path:
    """The cached, pruned dependency tree for `source`, installing it on a cache miss."""
    target = DEPS_CACHE / source.dependencies_hash()
    if target.exists():
        return target
    DEPS_CACHE.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="installing-", dir=DEPS_CACHE))
    print(f"lambda bundling: pip install {source.requirements.relative_to(source.root)} for arm64 ...", file=log)
    command = [
        *(sys.executable, "-m", "pip", "install", "--quiet", "--target", str(staging), *source.pip_arguments()),
        *("--requirement", str(source.requirements), "--constraint", str(source.constraints)),
    ]
    try:
        if subprocess.run(command, check=False).returncode != 0:
            raise RuntimeError(
                f"pip could not install {source.requirements.relative_to(source.root)} for Lambda arm64 / Python "
                f"{LAMBDA_PYTHON_VERSION} (its error is above). Every pin needs a manylinux aarch64 wheel; "
                "the first synth also needs PyPI access."
            )
        prune(staging, source.packaging)
        # Atomic publish: a concurrent synth either sees no entry or a complete one.
        staging.rename(target)
    except OSError:
        if not target.exists():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def prune(site_packages: Path, packaging: Packaging = Packaging()) -> None:
    for relative in PRUNE_DIRS:
        shutil.rmtree(site_packages / relative, ignore_errors=True)
    globs = PRUNE_GLOBS if packaging.botocore_services else (*PRUNE_GLOBS, *RUNTIME_PROVIDED_GLOBS)
    for pattern in globs:
        for path in list(site_packages.glob(pattern)):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    if packaging.botocore_services:
        keep_service_models(site_packages, packaging.botocore_services)
    for distribution in packaging.drop_distributions:
        drop_distribution(site_packages, distribution)
    if packaging.strip_native:
        strip_shared_libraries(site_packages)


def keep_service_models(site_packages: Path, services: tuple[str, ...]) -> None:
    """Only `services` in botocore's (and boto3's resource) models; the shared endpoint and retry files stay."""
    for data in (site_packages / "botocore" / "data", site_packages / "boto3" / "data"):
        if not data.is_dir():
            continue
        for entry in data.iterdir():
            if entry.is_dir() and entry.name not in services:
                shutil.rmtree(entry)


def _normalized(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def drop_distribution(site_packages: Path, name: str) -> None:
    """Remove every file an installed distribution put there (its RECORD), so no metadata claims it is present."""
    for dist_info in site_packages.glob("*.dist-info"):
        if _normalized(dist_info.name.split("-", 1)[0]) != _normalized(name):
            continue
        folders: set[Path] = set()
        for line in (dist_info / "RECORD").read_text().splitlines():
            path = site_packages / line.split(",", 1)[0]
            if path.is_file() and site_packages in path.resolve().parents:
                path.unlink()
                folders.update(p for p in path.parents if site_packages in p.parents)
        shutil.rmtree(dist_info, ignore_errors=True)
        for folder in sorted(folders, key=lambda p: -len(p.parts)):  # deepest first
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        return
    raise RuntimeError(f"cannot drop {name}: it is not installed (update PACKAGING in {Path(__file__).name})")


def strip_tool() -> str:
    for name in STRIP_TOOLS:
        if found := shutil.which(name):
            return found
    raise RuntimeError(
        "stripping arm64 shared libraries needs llvm-strip (any LLVM; `apt-get install llvm`), which reads every "
        "ELF architecture"
    )


def loaded_image(path: Path) -> list[tuple[bytes, bytes]]:
    """(program header, the file bytes it maps) for each segment of a 64-bit little-endian ELF file, with the
    section-header fields of the ELF header zeroed (stripping moves the section header table, which is not loaded)."""
    data = bytearray(path.read_bytes())
    data[0x28:0x30] = bytes(8)  # e_shoff
    data[0x3A:0x40] = bytes(6)  # e_shentsize, e_shnum, e_shstrndx
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    image = []
    for index in range(phnum):
        start = phoff + index * phentsize
        _type, _flags, offset, _vaddr, _paddr, filesz = struct.unpack_from("<IIQQQQ", data, start)
        image.append((bytes(data[start : start + phentsize]), bytes(data[offset : offset + filesz])))
    return image


def _is_elf64_le(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(6) == b"\x7fELF\x02\x01"


def strip_shared_libraries(site_packages: Path) -> None:
    tool = strip_tool()
    for path in sorted(site_packages.rglob("*.so*")):
        if not path.is_file() or path.is_symlink() or not _is_elf64_le(path):
            continue
        stripped = path.with_name(path.name + ".stripped")
        subprocess.run([tool, "--strip-all", "-o", str(stripped), str(path)], check=True)
        if stripped.stat().st_size < path.stat().st_size and loaded_image(stripped) == loaded_image(path):
            stripped.replace(path)
        else:
            stripped.unlink()


def tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system
        shutil.copy2(src, dst)


@jsii.implements(cdk.ILocalBundling)
class LocalPythonBundling:
    """Builds the asset on this machine; CDK falls back to Docker only if this returns False (it never does)."""

    def __init__(self, source: FunctionSource) -> None:
        self.source = source

    def try_bundle(self, output_dir: str, *_args: Any, **_kwargs: Any) -> bool:
        out = Path(output_dir)
        deps = installed_dependencies(self.source)
        shutil.copytree(deps, out, dirs_exist_ok=True, copy_function=_link_or_copy)
        for path in self.source.code_files():
            destination = out / path.relative_to(self.source.root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
        size = tree_size(out)
        print(f"lambda bundling: {self.source.name}: {size / 1e6:.1f} MB unzipped", file=sys.stderr)
        return True


def lambda_code(source: FunctionSource) -> cdk.aws_lambda.Code:
    """A Lambda asset bundled locally; hashed on the code and pins, so unchanged functions are not re-uploaded."""
    return cdk.aws_lambda.Code.from_asset(
        str(source.function_dir if source.function_dir.exists() else source.root / "lambdas"),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=source.asset_hash(),
        bundling=cdk.BundlingOptions(
            # Never pulled: local bundling always succeeds. CDK requires an image to be named.
            image=cdk.DockerImage.from_registry("public.ecr.aws/sam/build-python3.12"),
            local=LocalPythonBundling(source),
        ),
    )
