"""OLTP change stream as Debezium JSON, one event per line in LSN order (`<out>/cdc/part-*.jsonl`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa

from generator.encoding import debezium_lines, debezium_positions
from generator.writers.lines import LINES_PER_PIECE, RollingJsonl

FIRST_LSN = 33_554_432  # a plausible PostgreSQL WAL position to start from
FIRST_TX = 1_000


class CdcWriter:
    def __init__(self, out_dir: Path) -> None:
        self.files = RollingJsonl(str(out_dir / "cdc"))
        self.next_lsn = FIRST_LSN
        self.next_tx = FIRST_TX
        self.counts: Counter[tuple[str, str]] = Counter()  # (table, op) -> events

    def write(self, events: pa.Table) -> None:
        """Assign positions to one slice's sorted events and append them. The lines are built and written
        LINES_PER_PIECE events at a time: a slice's events are ~100 MB of JSON, and building all their lines at
        once held a second copy."""
        if events.num_rows == 0:
            return
        positions = debezium_positions(events, self.next_lsn, self.next_tx)
        self.files.write(
            debezium_lines(events, positions, first, LINES_PER_PIECE)
            for first in range(0, events.num_rows, LINES_PER_PIECE)
        )
        self.next_lsn = int(positions.lsn[-1]) + 1
        self.next_tx = int(positions.tx_id[-1]) + 1
        for row in events.group_by(["table", "op"]).aggregate([("op", "count")]).to_pylist():
            self.counts[(row["table"], row["op"])] += row["op_count"]

    def close(self) -> None:
        self.files.close()
