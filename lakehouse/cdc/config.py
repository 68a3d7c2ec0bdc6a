"""CDC consumer settings, parsed once from the environment (names in lakehouse/settings.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from lakehouse.aws import AwsConfig, is_s3_uri
from lakehouse.settings import LAKE_URI_ENV, QUARANTINE_URI_ENV


@dataclass(frozen=True)
class CdcSettings:
    lake_uri: str  # s3://<lake-bucket> or a local folder
    quarantine_uri: str  # s3://<quarantine-bucket>/quarantine or a local folder
    aws: AwsConfig = field(default_factory=AwsConfig)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CdcSettings:
        env = os.environ if environ is None else environ
        missing = [name for name in (LAKE_URI_ENV, QUARANTINE_URI_ENV) if not env.get(name)]
        if missing:
            raise RuntimeError(
                f"environment variable(s) {', '.join(missing)} not set: the CDC consumer needs the lake root and "
                "the quarantine URI (a local folder or s3://bucket/prefix); see lakehouse/settings.py"
            )
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or AwsConfig.region
        return cls(
            lake_uri=env[LAKE_URI_ENV],
            quarantine_uri=env[QUARANTINE_URI_ENV],
            aws=AwsConfig(endpoint_url=env.get("AWS_ENDPOINT_URL") or None, region=region),
        )

    def delta_storage_options(self) -> dict[str, str] | None:
        return self.aws.delta_storage_options() if is_s3_uri(self.lake_uri) else None
