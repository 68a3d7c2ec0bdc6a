"""dlt sources, one package per source system (as in dlt's verified sources).

- `landing_files`: gzipped JSONL landing files in date partitions (a folder or an S3 prefix), with quarantine.
- `shop_api`: the simulator's REST API (cursor pagination, `updated_since` incremental).

Column hints come from the table contract (`contract_columns`), so dlt types silver columns as the contract says.
"""

from lakehouse.sources.hints import contract_columns, write_disposition

__all__ = ["contract_columns", "write_disposition"]
