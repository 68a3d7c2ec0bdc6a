"""Streaming AWS sinks for the simulator, and replay of its local output into AWS or an emulator.

Entry points (all memory bounded; nothing is dropped silently: exhausted retries raise `DeliveryError`):

- `KinesisSink(client, stream).put(records: Iterable[(partition_key, data_bytes)]) -> int`
- `DynamoDBSink(client, table).write(requests: Iterable[BatchWriteItem request]) -> int`
  (`write_request(line)` converts a line of the simulator's local DynamoDB output)
- `S3Sink(client, bucket, prefix)` / `FolderSink(root)`: `.put(key, body)`, `.put_file(key, path)`;
  `object_sink(uri, aws)` picks one from `s3://...` or a folder
- `ensure_resources(aws, stream=..., table=..., buckets=...)`: the stream, the DynamoDB table and buckets on an
  emulator, idempotently
- `replay_local_output(out_dir, aws, stream=..., table=..., landing_uri=...) -> ReplaySummary`, and the
  per-source `replay_cdc`, `replay_dynamodb`, `replay_landing`
"""

from generator.sinks.dynamodb import DynamoDBSink, write_request
from generator.sinks.kinesis import KinesisSink
from generator.sinks.objects import FolderSink, ObjectSink, S3Sink, object_sink
from generator.sinks.replay import (
    ReplaySummary,
    cdc_partition_key,
    replay_cdc,
    replay_dynamodb,
    replay_landing,
    replay_local_output,
)
from generator.sinks.resources import Resources, ensure_resources
from generator.sinks.retry import DeliveryError, RetryPolicy, SinkStats

__all__ = [
    "DeliveryError",
    "DynamoDBSink",
    "FolderSink",
    "KinesisSink",
    "ObjectSink",
    "ReplaySummary",
    "Resources",
    "RetryPolicy",
    "S3Sink",
    "SinkStats",
    "cdc_partition_key",
    "ensure_resources",
    "object_sink",
    "replay_cdc",
    "replay_dynamodb",
    "replay_landing",
    "replay_local_output",
    "write_request",
]
