"""Continuous mode: emit the simulated shop's traffic live, at about N events per second, until stopped.

Events (Debezium change events, DynamoDB writes, landing-file records) come from the same deterministic
simulation as `lakehouse generate run`, in emit order, paced in wall-clock time. Each tick takes the events due,
delivers them to every target (Kinesis, DynamoDB, local JSONL files in the `generate run` layout) and flushes.
A stop request (Ctrl-C / SIGTERM, or the end of `--duration`) takes effect between ticks: the current batch is
delivered and flushed, landing records still buffered are written as whole files, files are closed. Nothing is
left half-written; a second Ctrl-C aborts at once.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import FrameType
from typing import IO, Literal

from generator.config import SimulationConfig
from generator.sinks.dynamodb import DynamoDBSink, write_request
from generator.sinks.kinesis import KinesisSink
from generator.sinks.objects import FolderSink, ObjectSink
from generator.sinks.replay import CDC_DIR, DYNAMODB_DIR, LANDING_DIR, kinesis_record
from generator.writers.landing import gzip_bytes

EventKind = Literal["cdc", "dynamodb", "landing"]
LINES_PER_PART = 1_000_000  # local part files roll like `generate run`'s


@dataclass(frozen=True)
class LiveEvent:
    kind: EventKind
    line: bytes  # one JSON document, no newline
    table: str = ""  # landing: the table
    day: str = ""  # landing: the event date partition, YYYY-MM-DD


class _PartFiles:
    """Appends whole batches of lines to `<dir>/part-NNNNN.jsonl`, never reopening a part an earlier run wrote."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._next_part = len(list(folder.glob("part-*.jsonl")))
        self._handle: IO[bytes] | None = None
        self._lines_in_part = 0
        self.paths: list[Path] = []

    def write(self, lines: list[bytes]) -> None:
        while lines:
            if self._handle is None or self._lines_in_part >= LINES_PER_PART:
                self._roll()
            assert self._handle is not None
            room = LINES_PER_PART - self._lines_in_part
            chunk, lines = lines[:room], lines[room:]
            self._handle.write(b"".join(line + b"\n" for line in chunk))  # one write: whole lines only
            self._lines_in_part += len(chunk)
        if self._handle is not None:
            self._handle.flush()

    def _roll(self) -> None:
        self.close()
        path = self.folder / f"part-{self._next_part:05d}.jsonl"
        self._next_part += 1
        self._handle = path.open("xb")
        self._lines_in_part = 0
        self.paths.append(path)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


@dataclass
class StreamCounts:
    cdc: int = 0
    dynamodb: int = 0
    landing: int = 0
    landing_files: int = 0

    @property
    def events(self) -> int:
        return self.cdc + self.dynamodb + self.landing


class StreamTargets:
    """Where live events go. Any combination; landing records need `out_dir` or `landing`."""

    def __init__(
        self,
        *,
        out_dir: Path | None = None,
        kinesis: KinesisSink | None = None,
        dynamodb: DynamoDBSink | None = None,
        landing: ObjectSink | None = None,
        run_id: str | None = None,
    ) -> None:
        if out_dir is None and kinesis is None and dynamodb is None and landing is None:
            raise ValueError("no target: give at least one of --out, --kinesis-stream, --dynamodb-table, --landing")
        self.kinesis = kinesis
        self.dynamodb = dynamodb
        self.cdc_files = _PartFiles(out_dir / CDC_DIR) if out_dir else None
        self.dynamodb_files = _PartFiles(out_dir / DYNAMODB_DIR) if out_dir else None
        self.landing = landing or (FolderSink(out_dir / LANDING_DIR) if out_dir else None)
        self.run_id = run_id or time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        self._landing_buffer: dict[tuple[str, str], list[bytes]] = defaultdict(list)
        self._landing_seq = itertools.count()
        self.counts = StreamCounts()

    def deliver(self, events: Iterable[LiveEvent]) -> None:
        cdc: list[bytes] = []
        writes: list[bytes] = []
        for event in events:
            if event.kind == "cdc":
                cdc.append(event.line)
            elif event.kind == "dynamodb":
                writes.append(event.line)
            elif self.landing is not None:
                self._landing_buffer[(event.table, event.day)].append(event.line)
                self.counts.landing += 1
        if cdc:
            if self.kinesis is not None:
                self.kinesis.put(kinesis_record(line, f"live:{self.counts.cdc + i}") for i, line in enumerate(cdc))
            if self.cdc_files is not None:
                self.cdc_files.write(cdc)
            self.counts.cdc += len(cdc)
        if writes:
            if self.dynamodb is not None:
                import json

                self.dynamodb.write(write_request(json.loads(line)) for line in writes)
            if self.dynamodb_files is not None:
                self.dynamodb_files.write(writes)
            self.counts.dynamodb += len(writes)

    def flush_landing(self) -> None:
        """Write buffered landing records as new gzipped part files (one per table and day), atomically."""
        if self.landing is None:
            return
        for (table, day), lines in sorted(self._landing_buffer.items()):
            key = f"{table}/dt={day}/part-live-{self.run_id}-{next(self._landing_seq):05d}.jsonl.gz"
            self.landing.put(key, gzip_bytes(b"".join(line + b"\n" for line in lines)))
            self.counts.landing_files += 1
        self._landing_buffer.clear()

    def close(self) -> None:
        self.flush_landing()
        for files in (self.cdc_files, self.dynamodb_files):
            if files is not None:
                files.close()


@dataclass
class StreamSummary:
    counts: StreamCounts
    seconds: float
    stopped_by: str  # "signal", "duration" or "source exhausted"
    files: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        c = self.counts
        rate = c.events / self.seconds if self.seconds else 0.0
        return [
            f"emitted {c.events:,} events in {self.seconds:.1f}s ({rate:,.0f}/s; stopped by {self.stopped_by}): "
            f"{c.cdc:,} change events, {c.dynamodb:,} DynamoDB writes, {c.landing:,} landing records in "
            f"{c.landing_files:,} files",
        ]


def run_stream(
    events: Iterator[LiveEvent],
    targets: StreamTargets,
    *,
    rate: float,
    stop: threading.Event,
    duration_s: float | None = None,
    tick_s: float = 0.5,
    landing_every_s: float = 60.0,
    max_batch: int = 50_000,
    on_tick: Callable[[StreamCounts], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> StreamSummary:
    """Deliver `events` at about `rate` per second until `stop` is set, the duration ends or the events run out.
    The targets are closed (buffers written, files closed) before this returns, also on an error."""
    if rate <= 0:
        raise ValueError(f"rate must be > 0 events per second; got {rate}")
    # The first event costs the simulation's warm-up (imports, the first slice): pace from when it is ready.
    first = next(events, None)
    events = itertools.chain([first] if first is not None else [], events)
    started = clock()
    emitted = 0
    stopped_by = "signal"
    last_landing_flush = started
    try:
        while not stop.is_set():
            elapsed = clock() - started
            if duration_s is not None and elapsed >= duration_s:
                stopped_by = "duration"
                break
            horizon = elapsed + tick_s if duration_s is None else min(elapsed + tick_s, duration_s)
            due = min(int(rate * horizon) - emitted, max_batch)
            if due > 0:
                batch = list(itertools.islice(events, due))
                targets.deliver(batch)
                emitted += len(batch)
                if len(batch) < due:
                    stopped_by = "source exhausted"
                    break
            if clock() - last_landing_flush >= landing_every_s:
                targets.flush_landing()
                last_landing_flush = clock()
            if on_tick is not None:
                on_tick(targets.counts)
            stop.wait(max(0.0, started + elapsed + tick_s - clock()))
    finally:
        targets.close()
    files = [*(targets.cdc_files.paths if targets.cdc_files else [])]
    files += targets.dynamodb_files.paths if targets.dynamodb_files else []
    return StreamSummary(counts=targets.counts, seconds=clock() - started, stopped_by=stopped_by, files=files)


@contextmanager
def stop_on_signals(on_first: Callable[[], None] | None = None) -> Iterator[threading.Event]:
    """An Event set by the first SIGINT/SIGTERM; a second SIGINT raises KeyboardInterrupt (abort). Handlers are
    restored on exit. Must be entered from the main thread."""
    stop = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        if on_first is not None:
            on_first()

    for sig in previous:
        signal.signal(sig, handle)
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


STREAM_DAYS = 3650  # "until stopped": ten simulated years; at realistic rates the stream is stopped long before
STREAM_ORDERS_PER_SLICE = 1_000  # small slices: the first events go out within a second or two


def stream_config(config: SimulationConfig) -> SimulationConfig:
    """The simulation behind a live stream: the same seed and scale over a long horizon, in small slices."""
    import dataclasses

    return dataclasses.replace(config, days=STREAM_DAYS, orders_per_slice=STREAM_ORDERS_PER_SLICE)


def simulation_events(config: SimulationConfig) -> Iterator[LiveEvent]:
    """Every event of the simulation for `config`, slice by slice, interleaved in emit order (change events
    keep their transaction order). Lazy: memory holds one slice."""
    import numpy as np
    import pyarrow as pa

    from generator.columns import pieces
    from generator.encoding import DYNAMODB_LINES_PER_PIECE, Encoder, debezium_events
    from generator.simulation import Simulation
    from generator.writers.cdc import FIRST_LSN, FIRST_TX

    simulation = Simulation(config)
    dynamodb_encoder = Encoder()  # this thread's DuckDB connection (the simulation's router thread uses its own)
    next_lsn, next_tx = FIRST_LSN, FIRST_TX  # positions as `generate run` assigns them: the same events
    outputs = simulation.run()
    try:
        for output in outputs:
            cdc = debezium_events(output.cdc, next_lsn, next_tx)
            if cdc.num_rows:
                next_lsn = int(cdc.column("lsn")[-1].as_py()) + 1
                next_tx = int(cdc.column("tx_id")[-1].as_py()) + 1
            landing = output.landing.sort_by([("emit_us", "ascending"), ("seq", "ascending")])
            emit = np.concatenate(
                [
                    output.cdc.column("emit_us").to_numpy(),
                    output.dynamodb.column("emit_us").to_numpy(),
                    landing.column("emit_us").to_numpy(),
                ]
            )
            kinds = np.repeat(np.arange(3), [cdc.num_rows, output.dynamodb.num_rows, landing.num_rows])
            offsets = np.concatenate([np.arange(n) for n in (cdc.num_rows, output.dynamodb.num_rows, landing.num_rows)])
            order = np.argsort(emit, kind="stable")  # stable: each source keeps its own order
            cdc_lines = cdc.column("line")
            dynamodb_lines = pa.chunked_array(
                [
                    dynamodb_encoder.dynamodb_lines(items)
                    for items in pieces(output.dynamodb.column("item"), DYNAMODB_LINES_PER_PIECE)
                ],
                pa.string(),
            )
            landing_lines, landing_tables, landing_days = (landing.column(c) for c in ("line", "table", "day"))
            for kind, offset in zip(kinds[order].tolist(), offsets[order].tolist(), strict=True):
                if kind == 0:
                    yield LiveEvent("cdc", cdc_lines[offset].as_py().encode())
                elif kind == 1:
                    yield LiveEvent("dynamodb", dynamodb_lines[offset].as_py().encode())
                else:
                    day = date(1970, 1, 1) + timedelta(days=landing_days[offset].as_py())
                    yield LiveEvent(
                        "landing",
                        landing_lines[offset].as_py().encode(),
                        landing_tables[offset].as_py(),
                        day.isoformat(),
                    )
    finally:  # stopped early (Ctrl-C): the router thread stops before the encoders close
        outputs.close()
        dynamodb_encoder.close()
        if simulation.encoder is not None:
            simulation.encoder.close()
