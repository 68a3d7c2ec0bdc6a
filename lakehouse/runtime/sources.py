"""Event sources for the local poller: shard discovery, iterators, GetRecords, and the conversion of each
record into the exact shape a Lambda event source mapping delivers.

Kinesis record (Lambda):  {"kinesis": {"kinesisSchemaVersion", "partitionKey", "sequenceNumber",
  "data" (base64), "approximateArrivalTimestamp" (epoch seconds)}, "eventSource": "aws:kinesis",
  "eventVersion": "1.0", "eventID": "<shardId>:<sequenceNumber>", "eventName": "aws:kinesis:record",
  "invokeIdentityArn", "awsRegion", "eventSourceARN"}
DynamoDB Streams record (Lambda): {"eventID", "eventName" (INSERT|MODIFY|REMOVE), "eventVersion", "eventSource":
  "aws:dynamodb", "awsRegion", "dynamodb": {"ApproximateCreationDateTime" (epoch seconds), "Keys", "NewImage",
  "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType"}, "eventSourceARN"}
The `batchItemFailures[].itemIdentifier` Lambda expects back is the record's sequence number in both cases.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from lakehouse.runtime.context import LOCAL_ACCOUNT

KINESIS_GET_RECORDS_LIMIT = 10_000
DYNAMODB_GET_RECORDS_LIMIT = 1_000


@dataclass(frozen=True)
class Shard:
    shard_id: str
    parent_id: str | None = None


@dataclass(frozen=True)
class RecordsPage:
    records: list[dict[str, Any]]  # already in Lambda's shape
    next_iterator: str | None  # None: the shard is closed and fully read


class StreamSource(Protocol):
    arn: str
    max_get_records: int

    def shards(self) -> list[Shard]: ...

    def iterator(self, shard_id: str, after_sequence: str | None) -> str: ...

    def get_records(self, shard_id: str, iterator: str, limit: int) -> RecordsPage: ...

    @staticmethod
    def sequence_number(record: dict[str, Any]) -> str: ...


def _epoch_seconds(value: datetime | float | int) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def _iterator_request(shard_id: str, after_sequence: str | None) -> dict[str, str]:
    if after_sequence is None:
        return {"ShardId": shard_id, "ShardIteratorType": "TRIM_HORIZON"}
    return {"ShardId": shard_id, "ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": after_sequence}


def kinesis_lambda_record(
    shard_id: str, record: dict[str, Any], *, stream_arn: str, region: str, invoke_identity_arn: str
) -> dict[str, Any]:
    """A Kinesis GetRecords record (boto3 shape: bytes Data, datetime timestamp) as Lambda delivers it."""
    sequence = record["SequenceNumber"]
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": sequence,
            "data": base64.b64encode(record["Data"]).decode("ascii"),
            "approximateArrivalTimestamp": _epoch_seconds(record["ApproximateArrivalTimestamp"]),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": invoke_identity_arn,
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


class KinesisSource:
    max_get_records = KINESIS_GET_RECORDS_LIMIT

    def __init__(self, client: Any, stream_name: str, *, region: str, function_role: str = "lambda-role") -> None:
        self.client = client
        self.region = region
        summary = client.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
        self.arn: str = summary["StreamARN"]
        self.invoke_identity_arn = f"arn:aws:iam::{LOCAL_ACCOUNT}:role/{function_role}"

    def shards(self) -> list[Shard]:
        shards, token = [], None
        while True:
            response = (
                self.client.list_shards(NextToken=token) if token else self.client.list_shards(StreamARN=self.arn)
            )
            shards += [Shard(s["ShardId"], s.get("ParentShardId")) for s in response["Shards"]]
            token = response.get("NextToken")
            if not token:
                return shards

    def iterator(self, shard_id: str, after_sequence: str | None) -> str:
        return str(
            self.client.get_shard_iterator(StreamARN=self.arn, **_iterator_request(shard_id, after_sequence))[
                "ShardIterator"
            ]
        )

    def get_records(self, shard_id: str, iterator: str, limit: int) -> RecordsPage:
        # StreamARN is optional in the API but moto needs it to find the stream.
        response = self.client.get_records(
            ShardIterator=iterator, Limit=min(limit, self.max_get_records), StreamARN=self.arn
        )
        return RecordsPage(
            [self._lambda_record(shard_id, r) for r in response["Records"]], response.get("NextShardIterator")
        )

    def _lambda_record(self, shard_id: str, record: dict[str, Any]) -> dict[str, Any]:
        return kinesis_lambda_record(
            shard_id,
            record,
            stream_arn=self.arn,
            region=self.region,
            invoke_identity_arn=self.invoke_identity_arn,
        )

    @staticmethod
    def sequence_number(record: dict[str, Any]) -> str:
        return str(record["kinesis"]["sequenceNumber"])


class DynamoDBStreamSource:
    max_get_records = DYNAMODB_GET_RECORDS_LIMIT

    def __init__(self, dynamodb_client: Any, streams_client: Any, table_name: str, *, region: str) -> None:
        self.client = streams_client
        self.region = region
        table = dynamodb_client.describe_table(TableName=table_name)["Table"]
        if "LatestStreamArn" not in table:
            raise ValueError(f"DynamoDB table {table_name} has no stream; enable NEW_AND_OLD_IMAGES streams on it")
        self.arn: str = table["LatestStreamArn"]

    def shards(self) -> list[Shard]:
        shards, start = [], None
        while True:
            kwargs = {"StreamArn": self.arn, **({"ExclusiveStartShardId": start} if start else {})}
            description = self.client.describe_stream(**kwargs)["StreamDescription"]
            shards += [Shard(s["ShardId"], s.get("ParentShardId")) for s in description["Shards"]]
            start = description.get("LastEvaluatedShardId")
            if not start:
                return shards

    def iterator(self, shard_id: str, after_sequence: str | None) -> str:
        request = _iterator_request(shard_id, after_sequence)
        if "StartingSequenceNumber" in request:
            request["SequenceNumber"] = request.pop("StartingSequenceNumber")
        return str(self.client.get_shard_iterator(StreamArn=self.arn, **request)["ShardIterator"])

    def get_records(self, shard_id: str, iterator: str, limit: int) -> RecordsPage:
        response = self.client.get_records(ShardIterator=iterator, Limit=min(limit, self.max_get_records))
        return RecordsPage([self._lambda_record(r) for r in response["Records"]], response.get("NextShardIterator"))

    def _lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        stream_record = dict(record["dynamodb"])
        if "ApproximateCreationDateTime" in stream_record:
            stream_record["ApproximateCreationDateTime"] = float(
                int(_epoch_seconds(stream_record["ApproximateCreationDateTime"]))  # Lambda rounds to seconds
            )
        event = {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion", self.region),
            "dynamodb": stream_record,
            "eventSourceARN": self.arn,
        }
        if "userIdentity" in record:
            event["userIdentity"] = record["userIdentity"]
        return event

    @staticmethod
    def sequence_number(record: dict[str, Any]) -> str:
        return str(record["dynamodb"]["SequenceNumber"])
