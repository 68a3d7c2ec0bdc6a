"""Silver apply as a service: settings from the environment, one request = one or more tables.

Used by the `silver_apply` Lambda (a Step Functions Map item `{"table": "orders"}`), the CLI and the demo.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from lakehouse.aws import AwsConfig, is_s3_uri
from lakehouse.contract import get_table
from lakehouse.settings import LAKE_URI_ENV
from lakehouse.silver.apply import ApplyPolicy, ApplyReport, apply_table, cdc_tables

# Process environment for silver apply (the Lambda's configuration, the benchmark's child process): delta-rs'
# merge allocates from many threads, and glibc's per-thread arenas then hold ~25% more memory than the data
# needs; two arenas and the system allocator for Arrow bring 1M changes into a 1M-row table from ~1.1 GB to
# ~0.85 GB peak RSS. Must be set before the process starts.
PROCESS_ENVIRONMENT = {"MALLOC_ARENA_MAX": "2", "ARROW_DEFAULT_MEMORY_POOL": "system"}


@dataclass(frozen=True)
class SilverSettings:
    lake_uri: str
    aws: AwsConfig

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SilverSettings:
        env = os.environ if environ is None else environ
        if not env.get(LAKE_URI_ENV):
            raise RuntimeError(
                f"environment variable {LAKE_URI_ENV} is not set: silver apply needs the lake root "
                "(a local folder or s3://bucket); see lakehouse/settings.py"
            )
        return cls(lake_uri=env[LAKE_URI_ENV], aws=AwsConfig.from_env())

    def storage_options(self) -> dict[str, str] | None:
        return self.aws.delta_storage_options() if is_s3_uri(self.lake_uri) else None


def tables_of_request(event: Mapping[str, Any]) -> list[str]:
    """`{"table": "orders"}`, `{"tables": [...]}` or `{}` (every CDC table)."""
    if "table" in event:
        names = [str(event["table"])]
    elif "tables" in event:
        names = [str(t) for t in event["tables"]]
    else:
        names = [c.name for c in cdc_tables()]
    owned = {c.name for c in cdc_tables()}
    for name in names:
        get_table(name)  # unknown names fail with the list of contract tables
        if name not in owned:
            raise ValueError(f"{name} is not a CDC table (dlt loads it into silver); CDC tables: {sorted(owned)}")
    return names


def report_dict(report: ApplyReport) -> dict[str, Any]:
    return {**asdict(report), "noop": report.noop}


def apply_request(
    event: Mapping[str, Any], settings: SilverSettings, policy: ApplyPolicy = ApplyPolicy()
) -> dict[str, Any]:
    reports = [
        apply_table(get_table(name), settings.lake_uri, storage_options=settings.storage_options(), policy=policy)
        for name in tables_of_request(event)
    ]
    return {"tables": [report_dict(r) for r in reports]}
