"""Simulator benchmark: rows per second with all realism on, peak memory, and a row-by-row Faker baseline.

What counts:
- `rows`: rows of the final state of every contract table (the snapshot), i.e. the data set, like dbgen's rows.
  `events` counts what the sources emit on top (Debezium changes incl. updates/deletes, DynamoDB writes incl.
  the second put of a session or cart, landing records).
- `arrow_*`: the whole simulation (entities, lifecycles, late events, routing, before/after row images) built as
  contract-typed Arrow tables, WITHOUT JSON encoding and without writing files.
- `files_*`: `generate_local` end to end: the same, plus JSON encoding (Debezium, DynamoDB JSON, landing records),
  gzip, Parquet and writing to a temporary folder (deleted afterwards). Run for `files_days` (disk use!).
- `peak_rss_mb`: the highest resident set size sampled (every 20 ms) during the arrow phase, whole process;
  `files_peak_rss_mb`: the high-water mark (VmHWM) of the process that runs the files phase (a fresh one).
- `faker_row_by_row_rows_per_s`: seeded Faker building customer rows (dicts) one by one, ~2 s.
- `*_cpu_s` / `*_rows_per_cpu_s`: the same divided by the process's CPU time (user + system, all threads and
  child processes) instead of wall-clock time: on shared cores (see `load_avg_1m`) wall-clock figures measure the
  neighbours too. The simulation uses two threads (simulation + router), so CPU seconds exceed wall seconds when
  the second core is free.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from generator.memory import ARROW_POOL_ENV, chosen_arrow_pool
from lakehouse.envvars import temporary_environment
from lakehouse.memory import own_peak_rss_mb

Progress = Callable[[str, int, int], None]  # (phase, days done, days total)


@contextmanager
def peak_rss() -> Iterator[dict[str, float]]:
    """Samples the process RSS in a thread; the result dict gets `peak_mb` when the block ends."""
    import psutil

    process = psutil.Process()
    result = {"peak_mb": process.memory_info().rss / 2**20}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            result["peak_mb"] = max(result["peak_mb"], process.memory_info().rss / 2**20)
            stop.wait(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()
        result["peak_mb"] = max(result["peak_mb"], process.memory_info().rss / 2**20)


def _cpu_seconds() -> float:
    import psutil

    times = psutil.Process().cpu_times()  # children: the pool builder process (generator.pools), once joined
    return float(times.user + times.system + times.children_user + times.children_system)


def faker_row_by_row(seconds: float = 2.0, seed: int = 42) -> tuple[float, float]:
    """Customer rows per second (wall clock, CPU time), built one at a time with seeded Faker (the naive way).

    Like for like: the same 12 columns as the simulator's `customers` rows (lakehouse/contract.py), and like the
    simulator each row comes from one country's locale (picked per row), not from a multi-locale proxy that picks
    a locale for every attribute (~40% slower, and incoherent rows)."""
    import random

    from faker import Faker

    locales = ["de_DE", "fr_FR", "nl_NL", "en_GB"]
    fake = Faker(locales)
    fake.seed_instance(seed)
    by_locale = [fake[locale] for locale in locales]
    pick = random.Random(seed)
    segments = ["new", "regular", "vip", "bargain_hunter", "dormant"]
    rows, started, cpu_started = 0, time.perf_counter(), _cpu_seconds()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(100):
            local = by_locale[pick.randrange(len(by_locale))]
            first, last = local.first_name(), local.last_name()
            _row = {
                "customer_id": rows,
                "email": f"{first}.{last}{rows}@example.com".lower(),
                "first_name": first,
                "last_name": last,
                "phone": local.phone_number(),
                "segment": local.random_element(segments),
                "street": local.street_address(),
                "city": local.city(),
                "postal_code": local.postcode(),
                "country": local.current_country_code(),
                "created_at": local.date_time_this_year(),
                "updated_at": local.date_time_this_year(),
            }
            rows += 1
    return rows / elapsed, rows / max(_cpu_seconds() - cpu_started, 1e-9)


def _arrow_phase(config: Any, progress: Progress | None) -> dict[str, Any]:
    from generator.simulation import Simulation

    started, cpu_started = time.perf_counter(), _cpu_seconds()
    simulation = Simulation(config, encode=False)
    rows = events = orders = 0
    for piece in simulation.run():
        rows += sum(t.num_rows for parts in piece.snapshot.values() for t in parts)
        events += piece.cdc.num_rows + piece.dynamodb.num_rows + piece.landing.num_rows
        orders += piece.orders
        days = (piece.window[1] - config.start_us) // 86_400_000_000
        del piece  # counted: freed now, not when the next slice is handed out (a third slice held meanwhile)
        if progress:
            progress("arrow", days, config.days)
    rows += sum(t.num_rows for _, t in simulation.final_snapshot())
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_started
    return {"rows": rows, "events": events, "orders": orders, "seconds": seconds, "cpu": cpu}


def _files_phase(config: Any, progress: Progress | None) -> dict[str, Any]:
    from generator.run import generate_local

    out = Path(tempfile.mkdtemp(prefix="bench-generator-"))
    try:
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        summary = generate_local(config, out, progress=lambda d, t: progress("files", d, t) if progress else None)
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_started
        written = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {
        "rows": summary.total_rows,
        "events": summary.total_events,
        "orders": summary.orders,
        "seconds": seconds,
        "cpu": cpu,
        "bytes_written": written,
    }


def _files_phase_in_own_process(config: Any, progress: Progress | None) -> dict[str, Any]:
    """`_files_phase` in a fresh (spawned) process: its peak RSS is its own high-water mark (`VmHWM`, exact), not
    the arrow phase's leftovers, and the simulator's jemalloc decay applies (it is fixed per allocator arena when
    the arena is created, so in-process the arrow phase's setting stayed in force)."""
    import multiprocessing
    import queue as queues

    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    child = context.Process(target=_files_phase_child, args=(config, messages), name="bench-generator-files")
    # The child is a fresh interpreter: jemalloc can still become Arrow's C++ default pool there, as the
    # `lakehouse` command makes it (generator/memory.py), also when this benchmark is called from Python.
    with temporary_environment({ARROW_POOL_ENV: chosen_arrow_pool()}):
        child.start()
    try:
        while True:
            try:
                kind, payload = messages.get(timeout=1.0)
            except queues.Empty:
                if not child.is_alive():
                    raise RuntimeError(f"the end-to-end benchmark process died (exit code {child.exitcode})") from None
                continue
            if kind == "progress":
                if progress:
                    progress("files", *payload)
            elif kind == "error":
                raise RuntimeError(f"the end-to-end benchmark failed: {payload}")
            else:
                return dict(payload)
    except BaseException:  # e.g. Ctrl-C: the child's run is abandoned with it
        child.terminate()
        raise
    finally:
        child.join(timeout=60)


def _files_phase_child(config: Any, messages: Any) -> None:
    from generator.pools import pools

    _stop_with_parent()
    try:
        pools(config.seed)  # built before the clock starts, as in the parent (the arrow phase counts them)
        result = _files_phase(config, lambda _phase, done, total: messages.put(("progress", (done, total))))
        result["peak_mb"] = own_peak_rss_mb()
        messages.put(("result", result))
    except Exception as error:  # reported to the parent, which raises it
        messages.put(("error", repr(error)))


def _stop_with_parent() -> None:
    """If the benchmark's parent dies (SIGTERM, SIGKILL), stop too and delete the temporary output (Linux only):
    a multiprocessing child outlives its parent otherwise, writing GBs to /tmp for nobody."""
    import contextlib
    import ctypes
    import signal
    import sys

    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(1))  # SystemExit runs the cleanup `finally`s
    # No prctl (not Linux): the parent's Ctrl-C handling still terminates the child.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def run(
    scale: float,
    days: int,
    seed: int = 42,
    files_days: int | None = 31,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Figures for one JSON line. `files_days=None` skips the end-to-end (files) phase; 0 = same days."""
    from generator.config import SimulationConfig
    from generator.pools import pools

    figures: dict[str, Any] = {"benchmark": "generator", "scale": scale, "days": days, "seed": seed}
    faker_wall, faker_cpu = faker_row_by_row()
    figures["faker_row_by_row_rows_per_s"] = round(faker_wall)
    figures["faker_row_by_row_rows_per_cpu_s"] = round(faker_cpu)
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    pools(seed)  # the seeded Faker pools: a fixed cost, counted in the arrow phase's seconds below
    pool_seconds, pool_cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started

    with peak_rss() as memory:
        arrow = _arrow_phase(SimulationConfig(seed=seed, scale=scale, days=days), progress)
    arrow["seconds"] += pool_seconds
    arrow["cpu"] += pool_cpu
    figures |= {
        "rows": arrow["rows"],
        "events": arrow["events"],
        "orders": arrow["orders"],
        "seconds": round(arrow["seconds"], 2),
        "rows_per_s": round(arrow["rows"] / arrow["seconds"]),
        "events_per_s": round(arrow["events"] / arrow["seconds"]),
        "peak_rss_mb": round(memory["peak_mb"]),
        "cpu_s": round(arrow["cpu"], 2),
        "rows_per_cpu_s": round(arrow["rows"] / arrow["cpu"]),
        "counts": "rows = final-state rows of all 17 contract tables; arrow phase = full simulation to Arrow, "
        "no JSON encoding, no files",
    }
    figures["speedup_vs_faker"] = round(figures["rows_per_s"] / figures["faker_row_by_row_rows_per_s"], 1)
    figures["speedup_vs_faker_cpu"] = round(figures["rows_per_cpu_s"] / figures["faker_row_by_row_rows_per_cpu_s"], 1)
    if files_days is not None:
        config = SimulationConfig(seed=seed, scale=scale, days=files_days or days)
        files = _files_phase_in_own_process(config, progress)
        figures |= {
            "files_days": config.days,
            "files_rows": files["rows"],
            "files_events": files["events"],
            "files_seconds": round(files["seconds"], 2),
            "files_rows_per_s": round(files["rows"] / files["seconds"]),
            "files_events_per_s": round(files["events"] / files["seconds"]),
            "files_mb_written": round(files["bytes_written"] / 2**20),
            "files_peak_rss_mb": round(files["peak_mb"]),
            "files_cpu_s": round(files["cpu"], 2),
            "files_rows_per_cpu_s": round(files["rows"] / files["cpu"]),
        }
    figures["cpus"] = os.cpu_count()
    figures["load_avg_1m"] = round(os.getloadavg()[0], 1)  # other processes share these cores
    return figures
