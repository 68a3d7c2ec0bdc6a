"""Demo stages "batch loads" and "catalog": the simulator's landing files (uploaded to the emulator's landing
bucket) and its REST API (served on loopback) load into the lake's silver layer with dlt, then every bronze and
silver Delta table is registered in the emulator's Glue Data Catalog.

Reads `ctx.results["simulation"]` (the simulate stage) and `ctx.results["lake_uri"]` / `["quarantine_uri"]` when
an earlier stage set them (the CDC stages' lake); otherwise creates the lake on the emulator and sets them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lakehouse.demo import DemoContext

DEMO_LANDING_URI = "s3://landing/landing"
DEMO_LAKE_URI = "s3://lake"
DEMO_QUARANTINE_URI = "s3://quarantine/quarantine"
NEW_CAMPAIGNS = 5


def _lake(ctx: DemoContext) -> tuple[str, str]:
    from generator.sinks.resources import ensure_resources

    if "lake_uri" not in ctx.results:
        ctx.results["lake_uri"] = DEMO_LAKE_URI
        ctx.results["quarantine_uri"] = DEMO_QUARANTINE_URI
    lake, quarantine = ctx.results["lake_uri"], ctx.results.get("quarantine_uri", DEMO_QUARANTINE_URI)
    buckets = [uri.removeprefix("s3://").split("/")[0] for uri in (lake, quarantine) if uri.startswith("s3://")]
    ensure_resources(ctx.emulator.aws, stream=None, table=None, buckets=buckets)
    return lake, quarantine


def _inject_truncated_file(landing_dir: Path) -> Path | None:
    """A copy of one landing file cut in half, so the demo shows the quarantine at work (a reviews file if there is
    one; short simulations may have none, then any landing table's)."""
    originals = sorted(landing_dir.glob("reviews/dt=*/part-*.jsonl.gz")) or sorted(
        landing_dir.glob("*/dt=*/part-*.jsonl.gz")
    )
    if not originals:
        return None
    broken = originals[-1].with_name("part-99999-truncated.jsonl.gz")
    raw = originals[-1].read_bytes()
    broken.write_bytes(raw[: len(raw) // 2])
    return broken


def batch_load_stage(ctx: DemoContext) -> list[str]:
    import httpx

    from generator.api import serve_in_thread
    from generator.config import SimulationConfig
    from generator.sinks.replay import replay_local_output
    from lakehouse.load.pipeline import LoadTarget, load_api, load_files

    simulation = ctx.results.get("simulation", {})
    out_dir = Path(simulation.get("out_dir", ctx.workdir / "source"))
    lines = []
    with ctx.emulator.activated():
        lake, quarantine = _lake(ctx)
        target = LoadTarget(lake, quarantine, ctx.emulator.aws)
        broken = _inject_truncated_file(out_dir / "landing")
        replay = replay_local_output(
            out_dir, ctx.emulator.aws, stream=None, table=None, landing_uri=DEMO_LANDING_URI, console=ctx.console
        )
        files = load_files(DEMO_LANDING_URI, target, on_step=lambda step: ctx.console.print(f"[dim]  dlt {step}"))
        again = load_files(DEMO_LANDING_URI, target)
        lines += [
            f"landing files: {replay.landing_files} files uploaded to {DEMO_LANDING_URI}"
            + (f" (incl. {broken.name}, truncated on purpose)" if broken else ""),
            f"  {files.summary()}",
            f"  second run: {again.loaded} rows, {sum(again.files.values())} files (incremental, state in the lake)",
        ]

        config = SimulationConfig(seed=ctx.config.seed, scale=ctx.config.scale, days=ctx.config.days)
        with serve_in_thread(config) as api_url:
            first = load_api(api_url, target)
            httpx.post(f"{api_url}/api/generate/campaigns", params={"count": NEW_CAMPAIGNS}).raise_for_status()
            second = load_api(api_url, target)
        lines += [
            f"REST API {api_url}: {first.summary()}",
            f"  after {NEW_CAMPAIGNS} new campaigns: {second.loaded} rows pulled (updated_since cursor)",
        ]
    ctx.results["batch_loads"] = {"files": files, "files_again": again, "api": first, "api_again": second}
    return lines


def catalog_stage(ctx: DemoContext) -> list[str]:
    from lakehouse.catalog.glue import sync_catalog

    with ctx.emulator.activated():
        lake, _ = _lake(ctx)
        result = sync_catalog(lake, ctx.emulator.aws)
        again = sync_catalog(lake, ctx.emulator.aws)
    ctx.results["catalog"] = result
    by_database: dict[str, list[str]] = {}
    for qualified in result.registered:
        database, _, table = qualified.partition(".")
        by_database.setdefault(database, []).append(table)
    return [
        f"Glue: {len(result.created)} created, {len(result.updated)} updated, {len(result.unchanged)} unchanged "
        f"(Athena-native Delta tables over {lake})",
        *(f"  {database}: {', '.join(tables)}" for database, tables in sorted(by_database.items())),
        f"  second sync: {len(again.unchanged)} unchanged, {len(again.created) + len(again.updated)} changed",
    ]
