"""AWS clients and storage options, pointed at real AWS or an emulator by one endpoint URL.

The same code runs in Lambda (no endpoint: real AWS), locally against a moto server process, or against
LocalStack. Settings come from the standard variables `AWS_ENDPOINT_URL` and `AWS_REGION`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class AwsConfig:
    endpoint_url: str | None = None
    region: str = DEFAULT_REGION

    @classmethod
    def from_env(cls) -> AwsConfig:
        return cls(
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
        )

    def client(self, service: str) -> Any:
        import boto3  # imported lazily: the CLI's --help stays fast

        session = boto3.session.Session()
        return session.client(service, region_name=self.region, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    def delta_storage_options(self) -> dict[str, str]:
        """Options for delta-rs (object_store) to reach S3 or the emulator."""
        options = {"AWS_REGION": self.region}
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            if os.environ.get(key):
                options[key] = os.environ[key]
        if self.endpoint_url:
            options["AWS_ENDPOINT_URL"] = self.endpoint_url
            options["AWS_ALLOW_HTTP"] = "true"
            options["AWS_S3_ALLOW_UNSAFE_RENAME"] = "true"
        return options


def is_s3_uri(uri: str) -> bool:
    return uri.startswith("s3://")
