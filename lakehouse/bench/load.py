"""`lakehouse bench load`: dlt landing-file loads into Delta, beside a plain pyarrow.json + write_deltalake baseline.

N gzipped JSONL files of `reviews` are written once, then loaded (a) from a local folder into a local lake and
(b) from an emulated S3 landing bucket into an emulated S3 lake (moto server process). Each target reports dlt's
seconds per step (restore, extract, normalize, load) and rows/s, and the baseline's seconds and rows/s for the
same files: read each file with pyarrow.json (contract schema), concatenate, one write_deltalake. The baseline
does none of dlt's work (no quarantine, no dedup, no schema inference or evolution, no state, no merge), so the
ratio is the price of those features. `--profile` adds the functions with the most cumulative time in the local
dlt run (cProfile).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from lakehouse.aws import AwsConfig
from lakehouse.contract import get_table
from lakehouse.load.pipeline import FILES_PIPELINE, LoadTarget, create_missing_tables, load_files
from lakehouse.sources.landing_files import empty_landing_tables, landing_tables
from lakehouse.sources.landing_files.samples import review, write_landing_file

TABLE = "reviews"


def write_files(root: Path, files: int, rows_per_file: int) -> list[Path]:
    paths = []
    for n in range(files):
        first = n * rows_per_file + 1
        day = date(2026, 11, 1) + timedelta(days=n % 28)
        records = [review(i) for i in range(first, first + rows_per_file)]
        paths.append(write_landing_file(root, TABLE, day, records, part=n // 28))
    return paths


def baseline(read_bytes: Callable[[], list[bytes]], table_uri: str, storage_options: dict[str, str] | None) -> float:
    """Seconds for pyarrow.json over every file + one write_deltalake (no dlt)."""
    import pyarrow as pa
    import pyarrow.json as pj
    from deltalake import write_deltalake

    schema = get_table(TABLE).arrow_schema()
    started = time.perf_counter()
    parse = pj.ParseOptions(explicit_schema=schema)
    tables = [
        pj.read_json(pa.CompressedInputStream(pa.BufferReader(raw), "gzip"), parse_options=parse).cast(schema)
        for raw in read_bytes()
    ]
    write_deltalake(table_uri, pa.concat_tables(tables), mode="overwrite", storage_options=storage_options)
    return time.perf_counter() - started


def measure(landing_uri: str, target: LoadTarget, rows: int, baseline_seconds: float) -> dict[str, Any]:
    # Untimed: a first run into a fresh lake also creates the other landing tables empty; only the load is measured.
    others = [table for table in landing_tables() if table != TABLE]
    create_missing_tables(FILES_PIPELINE, others, empty_landing_tables, target)
    report = load_files(landing_uri, target, tables=[TABLE])
    if report.rows.get(TABLE) != rows:
        raise RuntimeError(f"dlt loaded {report.rows} rows, expected {rows}: the benchmark is not measuring a load")
    seconds = report.total_seconds
    return {
        "dlt_seconds": round(seconds, 3),
        "dlt_rows_per_s": round(rows / seconds),
        "dlt_steps_seconds": report.seconds,
        "baseline_seconds": round(baseline_seconds, 3),
        "baseline_rows_per_s": round(rows / baseline_seconds),
        "dlt_vs_baseline_x": round(seconds / baseline_seconds, 1),
    }


def _profile_top(action: Callable[[], Any], top: int) -> tuple[Any, list[list[Any]]]:
    profiler = cProfile.Profile()
    result = profiler.runcall(action)
    stats = pstats.Stats(profiler, stream=io.StringIO()).sort_stats("tottime")
    rows = []
    for (filename, line, function), (_, _, tottime, cumtime, _) in list(stats.stats.items()):  # type: ignore[attr-defined]
        rows.append([f"{Path(filename).name}:{line}:{function}", round(tottime, 3), round(cumtime, 3)])
    rows.sort(key=lambda r: r[1], reverse=True)
    return result, rows[:top]


def run(files: int, rows_per_file: int, s3: bool = True, profile: bool = False) -> dict[str, Any]:
    from lakehouse.emulator import moto_server

    rows = files * rows_per_file
    figures: dict[str, Any] = {"benchmark": "load", "table": TABLE, "files": files, "rows": rows}
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        root = Path(tmp)
        paths = write_files(root / "landing", files, rows_per_file)
        figures["landing_mb"] = round(sum(p.stat().st_size for p in paths) / 1e6, 2)

        local = LoadTarget(str(root / "lake"), str(root / "quarantine"), AwsConfig())
        base = baseline(lambda: [p.read_bytes() for p in paths], str(root / "baseline"), None)
        if profile:
            local_figures, top = _profile_top(lambda: measure(str(root / "landing"), local, rows, base), 15)
            local_figures["profile_tottime_top"] = top
        else:
            local_figures = measure(str(root / "landing"), local, rows, base)
        figures["local"] = local_figures

        if s3:
            with moto_server() as emulator, emulator.activated():
                figures["s3"] = _measure_s3(emulator.aws, root, paths, rows)
    return figures


def _measure_s3(aws: AwsConfig, root: Path, paths: list[Path], rows: int) -> dict[str, Any]:
    s3 = aws.client("s3")
    for bucket in ("landing", "lake", "quarantine"):
        s3.create_bucket(Bucket=bucket)
    keys = []
    for path in paths:
        key = "landing/" + path.relative_to(root / "landing").as_posix()
        s3.put_object(Bucket="landing", Key=key, Body=path.read_bytes())
        keys.append(key)
    base = baseline(
        lambda: [s3.get_object(Bucket="landing", Key=k)["Body"].read() for k in keys],
        "s3://lake/baseline",
        aws.delta_storage_options(),
    )
    return measure("s3://landing/landing", LoadTarget("s3://lake", "s3://quarantine/q", aws), rows, base)
