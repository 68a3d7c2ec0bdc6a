"""Names of the environment variables shared by the Lambdas, the CDK stacks and the local runtime, and the
lake layout. One place, so that a stack and the handler it configures cannot disagree on a name."""

from __future__ import annotations

import os

# Environment variable names (the CDK stacks set these on the functions; the local runtime sets them too).
LAKE_URI_ENV = "LAKEHOUSE_LAKE_URI"  # root of the lake: s3://<lake-bucket> or a local folder
QUARANTINE_URI_ENV = "LAKEHOUSE_QUARANTINE_URI"  # s3://<quarantine-bucket>/quarantine or a local folder
LANDING_URI_ENV = "LAKEHOUSE_LANDING_URI"  # s3://<landing-bucket>/landing or a local folder
API_URL_ENV = "LAKEHOUSE_API_URL"  # base URL of the shop's REST API for batch pulls
KINESIS_STREAM_ENV = "LAKEHOUSE_CDC_STREAM"
DYNAMODB_TABLE_ENV = "LAKEHOUSE_BEHAVIOUR_TABLE"

METRICS_NAMESPACE = "Lakehouse"  # CloudWatch namespace of every function's Powertools metrics

DEFAULT_KINESIS_STREAM = "cdc"
DEFAULT_DYNAMODB_TABLE = "user-behaviour"

# Lake layout: <lake>/<layer>/<table>. dlt loads files and API tables straight into silver (merge on key).
BRONZE = "bronze"
SILVER = "silver"
LAYERS = (BRONZE, SILVER)


def table_uri(lake_uri: str, layer: str, table: str) -> str:
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; use one of {LAYERS}")
    return f"{lake_uri.rstrip('/')}/{layer}/{table}"


def required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"environment variable {name} is not set; see lakehouse/settings.py for what it holds")
    return value
