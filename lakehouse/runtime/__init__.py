"""The local runtime: an event-source poller that plays the part of Lambda's event source mappings.

It reads Kinesis shards and DynamoDB stream shards (on the emulator or any endpoint), builds events exactly as
Lambda delivers them, invokes the real handler in-process, honours `batchItemFailures`, and checkpoints to a
local JSON file only after a batch succeeded. See docs/silver-and-local-runtime.md.
"""

from lakehouse.runtime.checkpoint import CheckpointStore
from lakehouse.runtime.context import LocalLambdaContext
from lakehouse.runtime.poller import EventSourceMapping, Poller, PollStats
from lakehouse.runtime.sources import DynamoDBStreamSource, KinesisSource, StreamSource

__all__ = [
    "CheckpointStore",
    "DynamoDBStreamSource",
    "EventSourceMapping",
    "KinesisSource",
    "LocalLambdaContext",
    "PollStats",
    "Poller",
    "StreamSource",
]
