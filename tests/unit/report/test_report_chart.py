from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from lakehouse.report import draw_report


def test_report_is_a_png_with_every_panel_drawn(tmp_path: Path) -> None:
    path = draw_report(
        tmp_path / "report.png",
        daily=[(date(2026, 11, 27), 75, Decimal("11800.50")), (date(2026, 11, 28), 60, Decimal("9000.00"))],
        funnel=[6164, 4779, 3818, 1133, 1133],
        table_rows={"orders": (4123, 4123, 1133), "customers": (2264, 2264, 2158)},
        stage_seconds={"simulate": 3.6, "marts (dbt)": 21.4},
    )
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (14 * 90, 9 * 90)
