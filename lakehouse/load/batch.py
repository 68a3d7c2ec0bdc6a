"""The batch-load entry point shared by lambdas/batch_load (Step Functions) and anything else that starts a load
from a request: `{"source": "files" | "api", "tables": [...]}`; locations come from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lakehouse.aws import AwsConfig
from lakehouse.load.pipeline import LoadTarget, load_api, load_files
from lakehouse.load.report import LoadReport
from lakehouse.settings import API_URL_ENV, LAKE_URI_ENV, LANDING_URI_ENV, QUARANTINE_URI_ENV, required_env

SOURCES = ("files", "api")


@dataclass(frozen=True)
class BatchLoadSettings:
    lake_uri: str
    quarantine_uri: str
    landing_uri: str | None
    api_url: str | None

    @classmethod
    def from_env(cls) -> BatchLoadSettings:
        return cls(
            lake_uri=required_env(LAKE_URI_ENV),
            quarantine_uri=required_env(QUARANTINE_URI_ENV),
            landing_uri=os.environ.get(LANDING_URI_ENV) or None,
            api_url=os.environ.get(API_URL_ENV) or None,
        )


def run_batch_load(request: Mapping[str, Any], settings: BatchLoadSettings) -> LoadReport:
    """Run one load as the request says; a bad request raises ValueError naming the fix."""
    source = request.get("source")
    if source not in SOURCES:
        raise ValueError(f"request needs 'source' set to one of {SOURCES}, got {source!r}")
    tables = request.get("tables") or None
    if tables is not None and not (isinstance(tables, list) and all(isinstance(t, str) for t in tables)):
        raise ValueError(f"'tables' must be a list of table names, got {tables!r}")
    target = LoadTarget(settings.lake_uri, settings.quarantine_uri, AwsConfig.from_env())
    if source == "files":
        if not settings.landing_uri:
            raise ValueError(f"set {LANDING_URI_ENV} to load landing files")
        return load_files(settings.landing_uri, target, tables=tables)
    if not settings.api_url:
        raise ValueError(f"set {API_URL_ENV} to pull from the API")
    return load_api(settings.api_url, target, entities=tables)
