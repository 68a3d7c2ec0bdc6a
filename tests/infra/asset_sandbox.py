"""Run a Lambda handler on this machine with only the Python modules its (arm64) asset holds.

The asset's native code cannot run on x86_64, but its set of modules can be reproduced: `build_view` makes a folder
with the asset's layout in which every file is the asset's own, except native libraries and extensions, which are
this machine's builds of the same package versions (symlinks into the virtualenv). Run with `python -S` and
`PYTHONPATH=<view>`, Python sees the standard library and that folder only, as Lambda sees /var/task first: a module
the bundler pruned (or never installed) is missing here too, and `find_spec` answers as it would there.

Usage: python -S -P tests/infra/asset_sandbox.py <handler module> '<JSON list of events>'
Prints one JSON line: {"results": [...], "service_models": [...], "s3_calls": [...]}: the botocore service models
loaded during the runs, and every S3 call made through botocore or aiobotocore (s3fs, the quarantine writer) as
[operation, bucket, key or prefix]; delta-rs's own Rust S3 client is not seen.
"""

from __future__ import annotations

import importlib
import importlib.abc
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

# Removed from the standard library in Python 3.12 (the Lambda runtime); this machine's 3.11 still has them.
REMOVED_IN_312 = frozenset({"distutils", "asynchat", "asyncore", "imp", "smtpd"})


def _is_native(path: Path) -> bool:
    return path.suffix == ".so" or ".so." in path.name


def build_view(asset: Path, site_packages: Path, view: Path) -> list[str]:
    """The asset's layout with this machine's native files; returns the native files that have no counterpart."""
    missing = []
    for path in asset.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(asset)
        target = view / relative
        source = path
        if _is_native(path):
            if ".cpython-" in path.name or ".abi3." in path.name:
                stem = path.name.split(".")[0]  # the ABI tag differs: _yaml.cpython-312-aarch64... -> _yaml.*.so
                matches = sorted((site_packages / relative.parent).glob(f"{stem}.*so"))
            else:
                matches = [site_packages / relative] if (site_packages / relative).is_file() else []
            if not matches:
                missing.append(str(relative))
                continue
            source = matches[0]
            target = target.with_name(source.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(source.resolve(), target)
    return missing


class RemovedIn312(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> None:
        if fullname.split(".")[0] in REMOVED_IN_312:
            raise ModuleNotFoundError(f"No module named {fullname!r} (not in Python 3.12)", name=fullname)
        return None


class Context:
    function_name = "sandbox"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:sandbox"
    aws_request_id = "sandbox"


def main(handler_module: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    sys.meta_path.insert(0, RemovedIn312())
    service_models: set[str] = set()
    import botocore.loaders  # fails if the asset has no botocore

    load = botocore.loaders.Loader.load_service_model

    def recording(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        service_models.add(service_name)
        return load(self, service_name, *args, **kwargs)

    botocore.loaders.Loader.load_service_model = recording  # type: ignore[method-assign]
    s3_calls = record_s3_calls()
    handler = importlib.import_module(handler_module).handler
    results = [handler(event, Context()) for event in events]
    return {"results": results, "service_models": sorted(service_models), "s3_calls": sorted(s3_calls)}


def record_s3_calls() -> set[tuple[str, str, str]]:
    import aiobotocore.client
    import botocore.client

    calls: set[tuple[str, str, str]] = set()

    def note(client: Any, operation: str, params: dict[str, Any]) -> None:
        if client.meta.service_model.service_name == "s3":
            calls.add((operation, params.get("Bucket", ""), params.get("Key", params.get("Prefix", ""))))

    sync_call = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]
    async_call = aiobotocore.client.AioBaseClient._make_api_call

    def recording_sync(self: Any, operation: str, params: dict[str, Any]) -> Any:
        note(self, operation, params)
        return sync_call(self, operation, params)

    async def recording_async(self: Any, operation: str, params: dict[str, Any]) -> Any:
        note(self, operation, params)
        return await async_call(self, operation, params)

    botocore.client.BaseClient._make_api_call = recording_sync  # type: ignore[attr-defined]
    aiobotocore.client.AioBaseClient._make_api_call = recording_async
    return calls


if __name__ == "__main__":
    module, request = sys.argv[1:3]
    print(json.dumps(main(module, json.loads(request)), default=str))
