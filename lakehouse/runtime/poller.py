"""The local event source mapping: poll shards, invoke a handler in-process, checkpoint after success.

Semantics follow Lambda's event source mappings for Kinesis and DynamoDB Streams with
`ReportBatchItemFailures`:
- a batch holds up to `batch_size` records of ONE shard, in shard order; with a batching window the mapping
  keeps reading the shard until the batch is full, the window has passed or the shard has nothing more;
- the handler's response `{"batchItemFailures": [{"itemIdentifier": <sequence number>}]}` makes the mapping
  checkpoint just before the FIRST failed record and redeliver from it (the records after it too); an
  unknown or empty identifier, or an exception, fails the whole batch;
- the checkpoint advances only after a successful invocation, so a crash between the handler's commit and the
  checkpoint redelivers the batch (at-least-once: the handlers and silver apply are idempotent);
- after `max_retry_attempts` retries of the same record the failing batch is discarded to the on-failure
  destination (here a local JSONL file next to the checkpoint, like the ESM's SQS DLQ metadata) and the shard
  moves on; -1 retries forever, as Lambda's default does;
- parent shards are drained before their children (resharding), and a closed, fully read shard is remembered.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakehouse.runtime.checkpoint import CheckpointStore
from lakehouse.runtime.context import LocalLambdaContext
from lakehouse.runtime.sources import Shard, StreamSource

log = logging.getLogger(__name__)
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class EventSourceMapping:
    function_name: str
    batch_size: int = 100
    batching_window_s: float = 0.0
    max_retry_attempts: int = 10  # -1: until the record expires (forever, locally)
    parallel_shards: bool = False  # interleave shards round-robin instead of draining one shard at a time

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 10_000:
            raise ValueError(f"batch_size must be within 1..10000 (Lambda's limit), got {self.batch_size}")
        if not 0 <= self.batching_window_s <= 300:
            raise ValueError(f"batching_window_s must be within 0..300 seconds, got {self.batching_window_s}")


@dataclass
class PollStats:
    invocations: int = 0
    records_delivered: int = 0  # including redeliveries
    records_succeeded: int = 0
    partial_failures: int = 0
    handler_errors: int = 0
    discarded: int = 0  # sent to the on-failure file after exhausting retries
    shards: int = 0

    def add(self, other: PollStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _ShardState:
    shard: Shard
    iterator: str | None = None
    buffer: list[dict[str, Any]] = field(default_factory=list)
    exhausted: bool = False  # the shard is closed and every record was read
    idle: bool = False  # the last read returned nothing
    failed_sequence: str | None = None
    attempts: int = 0


class Poller:
    def __init__(
        self,
        source: StreamSource,
        handler: Handler,
        mapping: EventSourceMapping,
        checkpoints: CheckpointStore,
        *,
        on_failure_path: Path | None = None,
        rng: random.Random | None = None,
        region: str = "us-east-1",
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.source = source
        self.handler = handler
        self.mapping = mapping
        self.checkpoints = checkpoints
        self.on_failure_path = on_failure_path or checkpoints.path.with_suffix(".failures.jsonl")
        self.rng = rng  # shuffles the shard order each round (tests: cross-shard reordering)
        self.region = region
        self.on_batch = on_batch
        self.stats = PollStats()
        self._states: dict[str, _ShardState] = {}

    # ------------------------------------------------------------------ driving
    def drain(self, *, max_rounds: int | None = None) -> PollStats:
        """Invoke until every shard has nothing left (closed shards: read to the end)."""
        rounds = 0
        while self.poll_round():
            rounds += 1
            if max_rounds is not None and rounds >= max_rounds:
                break
        return self.stats

    def follow(self, *, idle_sleep_s: float = 1.0, stop: Callable[[], bool] = lambda: False) -> PollStats:
        """Keep polling like a mapping does, until `stop()` says so."""
        while not stop():
            if not self.poll_round():
                time.sleep(idle_sleep_s)
        return self.stats

    def poll_round(self) -> bool:
        """One invocation per ready shard (or one shard drained, if not parallel). True if anything was delivered."""
        ready = self._ready_shards()
        if self.rng:
            self.rng.shuffle(ready)
        delivered = False
        for state in ready:
            while True:
                invoked = self._step(state)
                delivered |= invoked
                if not invoked or self.mapping.parallel_shards:
                    break
        return delivered

    # ------------------------------------------------------------------ shards
    def _ready_shards(self) -> list[_ShardState]:
        shards = self.source.shards()
        self.stats.shards = len(shards)
        known = {s.shard_id for s in shards}
        ready = []
        for shard in shards:
            state = self._states.setdefault(shard.shard_id, _ShardState(shard))
            if state.exhausted or self.checkpoints.is_closed(self.source.arn, shard.shard_id):
                state.exhausted = True
                continue
            parent = shard.parent_id
            if parent and parent in known and not self._parent_done(parent):
                continue  # Lambda reads a parent to its end before its children
            ready.append(state)
        return ready

    def _parent_done(self, parent_id: str) -> bool:
        state = self._states.get(parent_id)
        return (state is not None and state.exhausted) or self.checkpoints.is_closed(self.source.arn, parent_id)

    # ------------------------------------------------------------------ one invocation
    def _step(self, state: _ShardState) -> bool:
        self._fill(state)
        if not state.buffer:
            if state.iterator is None and not state.idle:
                state.exhausted = True
                self.checkpoints.close(self.source.arn, state.shard.shard_id)
            return False
        batch = state.buffer[: self.mapping.batch_size]
        first_failed = self._invoke(batch)
        if first_failed is None:
            self._succeeded(state, batch)
        else:
            self._failed(state, batch, first_failed)
        if self.on_batch:
            self.on_batch(len(batch))
        return True

    def _fill(self, state: _ShardState) -> None:
        """Read the shard into the buffer up to the batch size, honouring the batching window."""
        shard_id = state.shard.shard_id
        if state.iterator is None and not state.buffer and not state.exhausted:
            state.iterator = self.source.iterator(shard_id, self.checkpoints.sequence(self.source.arn, shard_id))
        state.idle = False
        window_ends = time.monotonic() + self.mapping.batching_window_s
        reads = 0
        while state.iterator is not None and len(state.buffer) < self.mapping.batch_size:
            try:
                page = self.source.get_records(shard_id, state.iterator, self.mapping.batch_size - len(state.buffer))
            except Exception as error:
                if type(error).__name__ != "ExpiredIteratorException" and "ExpiredIterator" not in str(error):
                    raise
                # Iterators expire after 5 minutes: restart from the checkpoint and drop what was read past it.
                state.buffer.clear()
                state.iterator = self.source.iterator(shard_id, self.checkpoints.sequence(self.source.arn, shard_id))
                continue
            reads += 1
            state.buffer += page.records
            state.iterator = page.next_iterator
            if not page.records:
                state.idle = state.iterator is not None
                break
            if time.monotonic() >= window_ends and reads >= 1:
                break

    def _invoke(self, batch: list[dict[str, Any]]) -> int | None:
        """Call the handler; return the index of the first failed record, or None if all succeeded."""
        self.stats.invocations += 1
        self.stats.records_delivered += len(batch)
        context = LocalLambdaContext(function_name=self.mapping.function_name, region=self.region)
        try:
            response = self.handler({"Records": batch}, context)
        except Exception:
            log.exception(
                "%s raised; the whole batch of %d records will be retried", self.mapping.function_name, len(batch)
            )
            self.stats.handler_errors += 1
            return 0
        failures = (response or {}).get("batchItemFailures") or [] if isinstance(response, dict) else []
        if not failures:
            return None
        self.stats.partial_failures += 1
        positions = {self.source.sequence_number(r): i for i, r in enumerate(batch)}
        indexes = [positions.get(str(f.get("itemIdentifier") or "")) for f in failures]
        if any(i is None for i in indexes):
            return 0  # Lambda treats an unknown or empty identifier as a failure of the whole batch
        return min(i for i in indexes if i is not None)

    def _succeeded(self, state: _ShardState, batch: list[dict[str, Any]]) -> None:
        self._checkpoint(state, batch[-1])
        del state.buffer[: len(batch)]
        self.stats.records_succeeded += len(batch)
        state.failed_sequence, state.attempts = None, 0

    def _failed(self, state: _ShardState, batch: list[dict[str, Any]], first_failed: int) -> None:
        if first_failed > 0:
            self._checkpoint(state, batch[first_failed - 1])
            self.stats.records_succeeded += first_failed
        del state.buffer[:first_failed]  # redeliver from the first failed record
        sequence = self.source.sequence_number(batch[first_failed])
        state.attempts = state.attempts + 1 if sequence == state.failed_sequence else 1
        state.failed_sequence = sequence
        retries = state.attempts - 1
        if self.mapping.max_retry_attempts >= 0 and retries >= self.mapping.max_retry_attempts:
            discarded = batch[first_failed:]
            self._send_to_on_failure(state, discarded)
            self._checkpoint(state, discarded[-1])
            del state.buffer[: len(discarded)]
            state.failed_sequence, state.attempts = None, 0

    def _checkpoint(self, state: _ShardState, record: dict[str, Any]) -> None:
        self.checkpoints.advance(self.source.arn, state.shard.shard_id, self.source.sequence_number(record))

    def _send_to_on_failure(self, state: _ShardState, records: list[dict[str, Any]]) -> None:
        """Like the mapping's on-failure destination: metadata of the discarded batch (not the payloads)."""
        self.stats.discarded += len(records)
        entry = {
            "eventSourceARN": self.source.arn,
            "shardId": state.shard.shard_id,
            "startSequenceNumber": self.source.sequence_number(records[0]),
            "endSequenceNumber": self.source.sequence_number(records[-1]),
            "batchSize": len(records),
            "retryAttempts": self.mapping.max_retry_attempts,
            "function": self.mapping.function_name,
        }
        log.error("discarding %d records after %d retries: %s", len(records), self.mapping.max_retry_attempts, entry)
        self.on_failure_path.parent.mkdir(parents=True, exist_ok=True)
        with self.on_failure_path.open("a") as f:
            f.write(json.dumps(entry) + "\n")
