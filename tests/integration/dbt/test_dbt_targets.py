"""The same project on the other places it runs: silver on (emulated) S3 read by DuckDB, and the Athena target
compiled against the emulator with fake credentials, its SQL parsed as Trino."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlglot

from lakehouse.emulator import Emulator
from lakehouse.transform.runner import DbtProject
from tests.integration.dbt.silver_fixture import EXPECTED

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt")]


def test_duckdb_reads_silver_from_s3(emulator: Emulator, tmp_path: Path) -> None:
    emulator.aws.client("s3").create_bucket(Bucket="lake")
    from deltalake import write_deltalake

    import tests.integration.dbt.silver_fixture as fixture

    # Write the fixture's silver tables to the emulator's S3 (same tables as locally).
    storage = emulator.aws.delta_storage_options()
    for name, table_rows in fixture.rows().items():
        write_deltalake(f"s3://lake/silver/{name}", fixture.silver_table(name, table_rows), storage_options=storage)

    project = DbtProject(
        lake_uri="s3://lake", duckdb_path=tmp_path / "marts.duckdb", work_dir=tmp_path / "dbt", aws=emulator.aws
    )
    run = project.invoke("build", "--select", "+fct_orders", "--resource-type", "model", "--resource-type", "snapshot")
    assert run.success, run.summary() + "".join(f"\n{n.name}: {n.message}" for n in run.failed)
    with project.connect() as con:
        assert con.sql("select sum(gross_revenue) from fct_orders").fetchone()[0] == EXPECTED["gross_revenue"]
        # Staging views read silver live from S3, also from a fresh connection.
        assert con.sql("select count(*) from stg_shop__orders").fetchone()[0] == EXPECTED["orders"]


def test_athena_target_compiles_to_trino_sql_with_iceberg_marts(emulator: Emulator, tmp_path: Path) -> None:
    emulator.aws.client("s3").create_bucket(Bucket="lakehouse-athena-results")
    project = DbtProject(
        lake_uri="s3://lakehouse-lake",
        duckdb_path=tmp_path / "unused.duckdb",
        target="athena",
        work_dir=tmp_path / "dbt",
        aws=emulator.aws,
    )
    run = project.invoke("compile")
    assert run.success, run.summary()

    compiled = list((project.target_path / "compiled" / "lakehouse").rglob("*.sql"))
    assert len(compiled) > 150
    for path in compiled:
        sql = path.read_text()
        assert "delta_scan" not in sql, f"{path}: DuckDB-only SQL in the Athena target"
        sqlglot.parse(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)

    staging = (project.target_path / "compiled/lakehouse/models/staging/shop/stg_shop__orders.sql").read_text()
    assert '"awsdatacatalog"."lakehouse_silver"."orders"' in staging
    dates = (project.target_path / "compiled/lakehouse/models/marts/core/dim_dates.sql").read_text()
    assert "unnest(sequence(" in dates  # the athena__date_spine implementation was dispatched

    nodes = json.loads((project.target_path / "manifest.json").read_text())["nodes"]
    marts = [n for n in nodes.values() if n["resource_type"] == "model" and n["fqn"][1] == "marts"]
    assert marts and all(n["config"]["table_type"] == "iceberg" for n in marts)
    incremental = [n for n in marts if n["config"]["materialized"] == "incremental"]
    assert {n["name"] for n in incremental} == {
        "dim_customers",
        "dim_products",
        "dim_customer_lifetime_value",
        "dim_dates",
        "fct_orders",
        "fct_order_items",
        "fct_payments",
        "fct_inventory_movements",
        "fct_sessions",
        "fct_daily_revenue",
        "fct_payment_failure_rates",
        "fct_average_order_value",
        "fct_cart_abandonment_funnel",
    }
    assert all(n["config"]["incremental_strategy"] == "merge" for n in incremental)
    attribution = nodes["model.lakehouse.int_orders_attributed"]["config"]  # the one incremental intermediate model
    assert (attribution["materialized"], attribution["table_type"]) == ("incremental", "iceberg")
