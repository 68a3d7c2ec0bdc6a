"""Reading a synthesized cloud assembly and deploying it into an emulator's CloudFormation (what `cdk deploy`
does, without the CLI): publish the file assets to the bootstrap bucket, then create each stack in order."""

from __future__ import annotations

import json
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BOOTSTRAP_QUALIFIER = "hnb659fds"
BOOTSTRAP_VERSION_PARAMETER = f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version"


@dataclass(frozen=True)
class CloudAssembly:
    outdir: Path

    def stack_names(self) -> list[str]:
        """Stacks in deployment order (the manifest's dependencies respected)."""
        manifest = json.loads((self.outdir / "manifest.json").read_text())
        artifacts = manifest["artifacts"]
        stacks = {name: a for name, a in artifacts.items() if a["type"] == "aws:cloudformation:stack"}
        ordered: list[str] = []

        def visit(name: str) -> None:
            if name in ordered:
                return
            for dependency in stacks[name].get("dependencies", []):
                if dependency in stacks:
                    visit(dependency)
            ordered.append(name)

        for name in stacks:
            visit(name)
        return ordered

    def template(self, stack: str) -> dict[str, Any]:
        return json.loads((self.outdir / f"{stack}.template.json").read_text())

    def file_assets(self, stack: str) -> list[tuple[Path, str, str]]:
        """(source path, bucket name pattern, object key) of every zip asset of `stack`."""
        assets = json.loads((self.outdir / f"{stack}.assets.json").read_text())
        found = []
        for asset in assets.get("files", {}).values():
            if asset["source"].get("packaging") != "zip":
                continue  # the template itself: passed inline when creating the stack
            for destination in asset["destinations"].values():
                found.append(
                    (self.outdir / asset["source"]["path"], destination["bucketName"], destination["objectKey"])
                )
        return found

    def asset_dirs(self, stack: str) -> dict[str, Path]:
        """Function construct path -> its bundled asset folder."""
        assets = json.loads((self.outdir / f"{stack}.assets.json").read_text())
        return {
            asset["displayName"]: self.outdir / asset["source"]["path"]
            for asset in assets.get("files", {}).values()
            if asset["source"].get("packaging") == "zip"
        }


def zip_dir(folder: Path, target: Path) -> Path:
    # Stored, not deflated: the emulator only keeps the bytes, and compressing 240 MB costs ~15 s of CPU.
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return target


def bootstrap(aws: Any, account: str, region: str) -> str:
    """The two things a `cdk bootstrap` environment provides that the templates rely on."""
    aws.client("ssm").put_parameter(Name=BOOTSTRAP_VERSION_PARAMETER, Value="30", Type="String", Overwrite=True)
    bucket = f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{region}"
    aws.client("s3").create_bucket(Bucket=bucket)
    return bucket


def publish_assets(assembly: CloudAssembly, stack: str, aws: Any, account: str, region: str, workdir: Path) -> int:
    s3 = aws.client("s3")
    published = 0
    for source, bucket_pattern, key in assembly.file_assets(stack):
        bucket = bucket_pattern.replace("${AWS::AccountId}", account).replace("${AWS::Region}", region)
        archive = zip_dir(source, workdir / key)
        # One PUT: the emulator assembles multipart uploads slowly (~3x the time for a 240 MB asset).
        with archive.open("rb") as body:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        archive.unlink()
        published += 1
    return published


def without_moto_quirks(template: dict[str, Any]) -> dict[str, Any]:
    """moto 5.2.5 fails creating an `AWS::KMS::Key` that has Tags (KeyError 'TagKey' in its tagging service):
    drop the tags of KMS keys, and nothing else."""
    patched = json.loads(json.dumps(template))
    for resource in patched["Resources"].values():
        if resource["Type"] == "AWS::KMS::Key":
            resource["Properties"].pop("Tags", None)
    return patched


def create_stack(aws: Any, name: str, template: dict[str, Any], *, timeout_s: float = 120) -> dict[str, Any]:
    """Create the stack and wait for a terminal status; returns the final DescribeStacks entry."""
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    deadline = time.monotonic() + timeout_s
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("IN_PROGRESS") or time.monotonic() > deadline:
            return dict(stack)
        time.sleep(0.5)
