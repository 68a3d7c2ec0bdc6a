"""User behaviour as DynamoDB write requests, one per line in write order (`<out>/dynamodb/part-*.jsonl`):
`{"op":"put","item":{...}}` or `{"op":"delete","key":{...}}` (docs/source-formats.md)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator
from contextlib import AbstractContextManager, closing, nullcontext
from pathlib import Path

import pyarrow as pa

from generator.columns import pieces
from generator.encoding import DYNAMODB_LINES_PER_PIECE, Encoder
from generator.writers.lines import RollingJsonl


class DynamoDBWriter:
    """`encoder` encodes the typed write requests in this writer's thread: give it its own (one DuckDB connection
    serves one thread at a time, and the simulation's router thread uses the simulation's encoder meanwhile).
    `turn` (`Simulation.dynamodb_turn`) is held while a piece is encoded and written: the router sorts the next
    slice's requests only between pieces, so the two largest working sets of a run never add up."""

    def __init__(self, out_dir: Path, encoder: Encoder, turn: AbstractContextManager[object] = nullcontext()) -> None:
        self.turn = turn
        self.files = RollingJsonl(str(out_dir / "dynamodb"))
        self.encoder = encoder
        self.counts: Counter[str] = Counter()  # table -> writes

    def write(self, writes: pa.Table) -> None:
        """One slice's sorted write requests, encoded to JSON and written a piece at a time (a slice's DynamoDB JSON
        is ~60 MB; its typed rows ~4x less)."""
        # closed whatever happens: a suspended generator would keep holding the turn, and the router thread,
        # waiting for it, would never finish
        with closing(self._lines(writes.column("item"))) as lines:
            self.files.write(lines, terminated=True)
        for table, n in zip(*_value_counts(writes.column("table")), strict=True):
            self.counts[table] += n

    def _lines(self, items: pa.ChunkedArray) -> Generator[pa.Array, None, None]:
        """The JSON lines a piece at a time, each piece encoded and written in one `turn` (held while this
        generator is suspended at the yield, i.e. until the consumer has written the piece and asks for the next)."""
        for piece in pieces(items, DYNAMODB_LINES_PER_PIECE):
            with self.turn:
                yield self.encoder.dynamodb_lines(piece, terminated=True)

    def close(self) -> None:
        self.files.close()


def _value_counts(column: pa.ChunkedArray) -> tuple[list[str], list[int]]:
    counts = column.value_counts()
    return counts.field("values").to_pylist(), counts.field("counts").to_pylist()
