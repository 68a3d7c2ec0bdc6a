"""CDC ingestion into Delta bronze: decoders, the change model, the bronze writer and the quarantine.

Entry points:
- Lambda handlers: `lambdas.cdc_kinesis.handler.handler`, `lambdas.cdc_dynamodb.handler.handler`
  (`handler(event, context)`; env `LAKEHOUSE_LAKE_URI`, `LAKEHOUSE_QUARANTINE_URI`, AWS_ENDPOINT_URL optional).
- Without Lambda: `CdcIngestService(CdcSettings(lake_uri, quarantine_uri)).ingest_kinesis_event(event)` /
  `.ingest_dynamodb_event(event)` -> `BatchOutcome` (lakehouse.cdc.ingest).
- Bronze layout: `lakehouse.cdc.bronze.bronze_schema(contract)`, `ensure_bronze_table(uri, contract, options)`,
  `BronzeWriter(lake_uri, storage_options).append(table, bronze_rows(...).table, batch_id=...)`.
See docs/cdc.md.
"""
