"""What a batch load did: rows per table, files read, quarantined items and where the time went."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class LoadReport:
    pipeline: str
    destination: str  # the silver dataset URI
    rows: dict[str, int] = field(default_factory=dict)  # table (and child table) -> rows loaded this run
    files: dict[str, int] = field(default_factory=dict)  # table -> landing files read (files source only)
    quarantined: dict[str, int] = field(default_factory=dict)  # table -> items quarantined
    quarantine_files: list[str] = field(default_factory=list)
    load_ids: list[str] = field(default_factory=list)
    created_empty: list[str] = field(default_factory=list)  # tables created without rows (none loaded yet)
    # step -> seconds (restore, extract, normalize, load; create_empty when tables were created empty)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def loaded(self) -> int:
        return sum(self.rows.values())

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def add_creation(self, created: LoadReport | None) -> None:
        """Fold in the run that created missing tables empty (lakehouse.load.pipeline.create_missing_tables)."""
        if created is None:
            return
        self.created_empty = list(created.created_empty)
        self.load_ids += created.load_ids
        self.seconds["create_empty"] = round(created.total_seconds, 3)

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "loaded": self.loaded,
            "quarantined_total": self.quarantined_total,
            "total_seconds": round(self.total_seconds, 3),
        }

    def summary(self) -> str:
        tables = ", ".join(f"{t}={n}" for t, n in sorted(self.rows.items())) or "nothing new"
        line = f"{self.pipeline}: loaded {self.loaded} rows ({tables}) in {self.total_seconds:.1f}s"
        if self.created_empty:
            line += f"; created empty: {', '.join(self.created_empty)}"
        if self.quarantined_total:
            line += f"; quarantined {self.quarantined_total} ({', '.join(self.quarantine_files)})"
        return line
