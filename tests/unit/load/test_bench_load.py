from __future__ import annotations

from lakehouse.bench.load import run


def test_benchmark_reports_dlt_steps_and_the_baseline_for_the_same_rows() -> None:
    figures = run(files=2, rows_per_file=50, s3=False)
    assert (figures["files"], figures["rows"]) == (2, 100)
    local = figures["local"]
    assert set(local["dlt_steps_seconds"]) == {"restore", "extract", "normalize", "load"}
    assert local["dlt_rows_per_s"] > 0 and local["baseline_rows_per_s"] > 0
    assert "s3" not in figures
