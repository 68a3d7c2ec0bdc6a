"""The Glue Data Catalog: registers the lake's Delta tables so Athena can query them natively (`glue`),
with column types mapped from the Delta schema to Hive (`types`)."""
