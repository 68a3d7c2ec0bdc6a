"""Register every Delta table of the lake in the Glue Data Catalog, one database per layer.

Athena reads Delta tables natively from an EXTERNAL_TABLE whose parameters say `table_type=DELTA`; it takes the
schema from the Delta log, but Glue consumers (Lake Formation, views, the console, crawlers' users) read the
columns in the catalog, so they are kept equal to the Delta schema: a sync after a schema change updates the
table, and a sync with nothing changed makes no call that writes. dlt's own `_dlt_*` tables are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lakehouse.aws import AwsConfig, is_s3_uri
from lakehouse.catalog.types import hive_type
from lakehouse.settings import LAYERS

DEFAULT_DATABASE_PREFIX = "lakehouse"
DELTA_PARAMETERS = {"table_type": "DELTA", "spark.sql.sources.provider": "delta", "EXTERNAL": "TRUE"}
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"


def database_name(layer: str, prefix: str = DEFAULT_DATABASE_PREFIX) -> str:
    return f"{prefix}_{layer}"


@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)  # "<database>.<table>"
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def registered(self) -> list[str]:
        return sorted(self.created + self.updated + self.unchanged)

    def as_dict(self) -> dict[str, list[str]]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def list_delta_tables(lake_uri: str, layer: str, aws: AwsConfig) -> list[str]:
    """Names of the Delta tables (folders with a `_delta_log`) directly under `<lake>/<layer>/`, minus dlt's."""
    root = f"{lake_uri.rstrip('/')}/{layer}"
    names: list[str] = []
    if is_s3_uri(root):
        s3 = aws.client("s3")
        bucket, _, prefix = root.removeprefix("s3://").partition("/")
        prefix = f"{prefix}/" if prefix else ""
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                name = common["Prefix"][len(prefix) :].rstrip("/")
                log = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}{name}/_delta_log/", MaxKeys=1)
                if log.get("KeyCount", 0):
                    names.append(name)
    elif os.path.isdir(root):
        names = [n for n in os.listdir(root) if os.path.isdir(os.path.join(root, n, "_delta_log"))]
    return sorted(n for n in names if not n.startswith("_dlt"))


def table_input(name: str, location: str, delta_schema: Any, description: str | None = None) -> dict[str, Any]:
    """The Glue TableInput for a Delta table at `location` with the given deltalake schema."""
    columns = [{"Name": f.name, "Type": hive_type(f.type)} for f in delta_schema.fields]
    table: dict[str, Any] = {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": dict(DELTA_PARAMETERS),
        "StorageDescriptor": {
            "Columns": columns,
            "Location": location,
            "InputFormat": PARQUET_INPUT,
            "OutputFormat": PARQUET_OUTPUT,
            # Spark reads the table path from the SerDe parameters (Athena's Delta docs).
            "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE, "Parameters": {"path": location}},
        },
    }
    if description:
        table["Description"] = description
    return table


def _location(lake_uri: str, layer: str, table: str) -> str:
    root = lake_uri.rstrip("/")
    if not is_s3_uri(root):
        root = "file://" + os.path.abspath(root)
    return f"{root}/{layer}/{table}"


def _differs(existing: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """True when the catalog's definition is not the wanted one (only the fields this module owns)."""
    sd, want_sd = existing.get("StorageDescriptor", {}), wanted["StorageDescriptor"]
    existing_columns = [{"Name": c["Name"], "Type": c["Type"]} for c in sd.get("Columns", [])]
    params = existing.get("Parameters", {})
    return (
        existing.get("TableType") != wanted["TableType"]
        or existing_columns != want_sd["Columns"]
        or sd.get("Location") != want_sd["Location"]
        or any(params.get(k) != v for k, v in wanted["Parameters"].items())
        or sd.get("SerdeInfo", {}).get("Parameters", {}).get("path") != want_sd["Location"]
    )


def sync_catalog(
    lake_uri: str,
    aws: AwsConfig | None = None,
    layers: tuple[str, ...] = LAYERS,
    database_prefix: str = DEFAULT_DATABASE_PREFIX,
    on_table: Callable[[str], None] | None = None,
) -> SyncResult:
    """Create or update a Glue table for every Delta table under `<lake>/<layer>/`; idempotent."""
    from deltalake import DeltaTable

    aws = aws or AwsConfig.from_env()
    glue = aws.client("glue")
    storage_options = aws.delta_storage_options() if is_s3_uri(lake_uri) else None
    result = SyncResult()
    for layer in layers:
        database = database_name(layer, database_prefix)
        _ensure_database(glue, database, layer)
        for table in list_delta_tables(lake_uri, layer, aws):
            delta = DeltaTable(f"{lake_uri.rstrip('/')}/{layer}/{table}", storage_options=storage_options)
            wanted = table_input(table, _location(lake_uri, layer, table), delta.schema(), delta.metadata().description)
            qualified = f"{database}.{table}"
            try:
                existing = glue.get_table(DatabaseName=database, Name=table)["Table"]
            except glue.exceptions.EntityNotFoundException:
                glue.create_table(DatabaseName=database, TableInput=wanted)
                result.created.append(qualified)
            else:
                if _differs(existing, wanted):
                    glue.update_table(DatabaseName=database, TableInput=wanted)
                    result.updated.append(qualified)
                else:
                    result.unchanged.append(qualified)
            if on_table:
                on_table(qualified)
    return result


def _ensure_database(glue: Any, database: str, layer: str) -> None:
    try:
        glue.get_database(Name=database)
    except glue.exceptions.EntityNotFoundException:
        glue.create_database(
            DatabaseInput={"Name": database, "Description": f"The lakehouse {layer} layer (Delta tables)."}
        )
