"""Push the simulator's local output (docs/source-formats.md) into Kinesis, DynamoDB and S3, streaming.

    out/cdc/part-*.jsonl                        -> Kinesis (partition key `table:pk`, data = the line as written)
    out/dynamodb/part-*.jsonl                   -> DynamoDB BatchWriteItem (puts and deletes, in order)
    out/landing/<table>/dt=*/part-*.jsonl.gz    -> S3 (or a folder), same relative keys

Files are read line by line and sent batch by batch, so memory does not grow with the output's size. A line that
is not valid JSON is still sent to Kinesis (partition key `unparseable:<file>:<line>`): the consumers quarantine
it, nothing disappears on the way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.sinks.dynamodb import DynamoDBSink, WriteRequest, write_request
from generator.sinks.kinesis import KinesisSink, Record
from generator.sinks.objects import ObjectSink, object_sink, split_s3_uri
from generator.sinks.resources import ensure_resources
from lakehouse.aws import AwsConfig, is_s3_uri
from lakehouse.contract import get_table
from lakehouse.settings import DEFAULT_DYNAMODB_TABLE, DEFAULT_KINESIS_STREAM

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

CDC_DIR = "cdc"
DYNAMODB_DIR = "dynamodb"
LANDING_DIR = "landing"
_PROGRESS_EVERY_LINES = 1000


def cdc_partition_key(event: dict[str, Any]) -> str:
    """`<table>:<primary key values joined by '|'>` of a Debezium change event (plain or schema/payload-wrapped)."""
    if "payload" in event and "schema" in event:
        event = event["payload"]
    table = event["source"]["table"]
    row = event.get("after") or event.get("before")
    if row is None:
        raise ValueError(f"change event on {table!r} has neither 'after' nor 'before'")
    return f"{table}:" + "|".join(str(row[column]) for column in get_table(table).primary_key)


def part_files(folder: Path, pattern: str) -> list[Path]:
    return sorted(path for path in folder.glob(pattern) if path.is_file())


def _lines(paths: list[Path], advance: Callable[[int], None]) -> Iterator[tuple[Path, int, bytes]]:
    """(file, 1-based line number, line without newline) of every non-empty line, reporting bytes read."""
    pending_bytes = 0
    for path in paths:
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                pending_bytes += len(line)
                if number % _PROGRESS_EVERY_LINES == 0:
                    advance(pending_bytes)
                    pending_bytes = 0
                stripped = line.rstrip(b"\r\n")
                if stripped.strip():
                    yield path, number, stripped
    advance(pending_bytes)


def kinesis_record(line: bytes, where: str) -> Record:
    """(partition key, line) for one change event; `unparseable:<where>` keys a line that is not a change event."""
    try:
        return cdc_partition_key(json.loads(line)), line
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"unparseable:{where}"[:256], line


def kinesis_records(paths: list[Path], advance: Callable[[int], None] = lambda _: None) -> Iterator[Record]:
    for path, number, line in _lines(paths, advance):
        yield kinesis_record(line, f"{path.name}:{number}")


def dynamodb_requests(paths: list[Path], advance: Callable[[int], None] = lambda _: None) -> Iterator[WriteRequest]:
    for path, number, line in _lines(paths, advance):
        try:
            yield write_request(json.loads(line))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a DynamoDB change line ({exc})") from exc


def _tracker(progress: Progress | None, description: str, paths: list[Path]) -> Callable[[int], None]:
    if progress is None:
        return lambda _: None
    task = progress.add_task(description, total=sum(path.stat().st_size for path in paths) or 1)
    return lambda n: progress.advance(task, n)


def replay_cdc(out_dir: Path, sink: KinesisSink, *, progress: Progress | None = None) -> int:
    """Send every change event of `out_dir/cdc/part-*.jsonl`, in file and line order; returns the count."""
    paths = part_files(Path(out_dir) / CDC_DIR, "part-*.jsonl")
    return sink.put(kinesis_records(paths, _tracker(progress, f"cdc -> kinesis:{sink.stream_name}", paths)))


def replay_dynamodb(out_dir: Path, sink: DynamoDBSink, *, progress: Progress | None = None) -> int:
    """Write every change of `out_dir/dynamodb/part-*.jsonl`, in order; returns the count."""
    paths = part_files(Path(out_dir) / DYNAMODB_DIR, "part-*.jsonl")
    return sink.write(dynamodb_requests(paths, _tracker(progress, f"dynamodb -> {sink.table_name}", paths)))


def replay_landing(out_dir: Path, sink: ObjectSink, *, progress: Progress | None = None) -> int:
    """Upload every file under `out_dir/landing/` with its relative key; returns the number of files."""
    root = Path(out_dir) / LANDING_DIR
    paths = part_files(root, "**/*.jsonl.gz")
    advance = _tracker(progress, "landing files", paths)
    for path in paths:
        sink.put_file(path.relative_to(root).as_posix(), path)
        advance(path.stat().st_size)
    return len(paths)


@dataclass
class ReplaySummary:
    cdc_records: int = 0
    dynamodb_writes: int = 0
    landing_files: int = 0
    retried_entries: int = 0
    seconds: float = 0.0
    targets: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"replayed {self.cdc_records:,} change events, {self.dynamodb_writes:,} DynamoDB writes and "
            f"{self.landing_files:,} landing files in {self.seconds:.1f}s "
            f"({self.retried_entries:,} entries re-sent after partial failures)",
            *(f"  -> {target}" for target in self.targets),
        ]


def replay_local_output(
    out_dir: Path,
    aws: AwsConfig,
    *,
    stream: str | None = DEFAULT_KINESIS_STREAM,
    table: str | None = DEFAULT_DYNAMODB_TABLE,
    landing_uri: str | None = None,
    create_resources: bool = True,
    shards: int = 1,
    show_progress: bool = True,
    console: Console | None = None,
) -> ReplaySummary:
    """Replay a `lakehouse generate run --out DIR` folder into AWS (or an emulator). None skips a target.

    With `create_resources` the stream, table and landing bucket are created when missing (emulators only; in AWS
    the CDK stacks own them)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise FileNotFoundError(f"{out_dir} does not exist; write it first with `lakehouse generate run --out DIR`")
    if create_resources:
        buckets = [split_s3_uri(landing_uri)[0]] if landing_uri and is_s3_uri(landing_uri) else []
        ensure_resources(aws, stream=stream, table=table, buckets=buckets, shards=shards)
    summary = ReplaySummary()
    started = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, disable=not show_progress) as progress:
        if stream:
            kinesis = KinesisSink(aws.client("kinesis"), stream)
            summary.cdc_records = replay_cdc(out_dir, kinesis, progress=progress)
            summary.retried_entries += kinesis.stats.retried_entries
            summary.targets.append(f"kinesis stream {stream}: {summary.cdc_records:,} records")
        if table:
            dynamodb = DynamoDBSink(aws.client("dynamodb"), table)
            summary.dynamodb_writes = replay_dynamodb(out_dir, dynamodb, progress=progress)
            summary.retried_entries += dynamodb.stats.retried_entries
            summary.targets.append(f"dynamodb table {table}: {summary.dynamodb_writes:,} writes")
        if landing_uri:
            summary.landing_files = replay_landing(out_dir, object_sink(landing_uri, aws), progress=progress)
            summary.targets.append(f"landing {landing_uri}: {summary.landing_files:,} files")
    summary.seconds = time.perf_counter() - started
    return summary
