"""dbt on the lakehouse: dbt sources generated from the table contract, the dbt runner (DuckDB locally, Athena in
AWS), the `marts` demo stage. The dbt project itself lives in dbt/."""
