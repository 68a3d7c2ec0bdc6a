"""Local writers, one module per sink: cdc (Debezium JSONL), dynamodb (write-request JSONL), landing (gzipped
JSONL in date partitions) and snapshot (Parquet ground truth). Each takes the simulation's slice outputs in order
and writes as it goes, so memory does not grow with the run."""
