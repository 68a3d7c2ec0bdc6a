"""OLTP change stream as Debezium JSON, one event per line in LSN order (`<out>/cdc/part-*.jsonl`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa

from generator.encoding import Encoder
from generator.writers.lines import RollingJsonl

FIRST_LSN = 33_554_432  # a plausible PostgreSQL WAL position to start from
FIRST_TX = 1_000


class CdcWriter:
    def __init__(self, out_dir: Path, encoder: Encoder) -> None:
        self.files = RollingJsonl(str(out_dir / "cdc"))
        self.encoder = encoder
        self.next_lsn = FIRST_LSN
        self.next_tx = FIRST_TX
        self.counts: Counter[tuple[str, str]] = Counter()  # (table, op) -> events

    def write(self, events: pa.Table) -> pa.Table:
        """Assign positions to one slice's sorted events and append them; returns the encoded lines."""
        if events.num_rows == 0:
            return events
        encoded = self.encoder.cdc_lines(events, self.next_lsn, self.next_tx)
        self.files.write(encoded.column("line"))
        self.next_lsn = int(encoded.column("lsn")[-1].as_py()) + 1
        self.next_tx = int(encoded.column("tx_id")[-1].as_py()) + 1
        for row in events.group_by(["table", "op"]).aggregate([("op", "count")]).to_pylist():
            self.counts[(row["table"], row["op"])] += row["op_count"]
        return encoded

    def close(self) -> None:
        self.files.close()
