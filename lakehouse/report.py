"""The demo's closing report: one PNG with what people would rather look at than read.

Panels: daily orders and net revenue (the Black Friday peak shows), the session funnel, rows per table through
the CDC path (events -> bronze -> silver, reconciled), and where the demo's time went per stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lakehouse.demo import DemoContext

FUNNEL_STEPS = ("sessions", "viewed product", "added to cart", "started checkout", "ordered")


def marts_figures(duckdb_path: Path) -> dict[str, Any]:
    """Read the figures the report draws from the marts (read-only: the file stays usable by `lakehouse query`)."""
    import duckdb

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        daily = con.sql(
            "select date_day, orders_placed, net_revenue from marts.marts.fct_daily_revenue"
            " where orders_placed > 0 or net_revenue <> 0 order by date_day"
        ).fetchall()
        funnel = con.sql(
            "select sum(sessions), sum(sessions_viewed_product), sum(sessions_added_to_cart),"
            " sum(sessions_started_checkout), sum(sessions_converted) from marts.marts.fct_cart_abandonment_funnel"
        ).fetchone()
    return {"daily": daily, "funnel": [int(v or 0) for v in (funnel or ())]}


def draw_report(
    path: Path,
    *,
    daily: list[tuple[Any, int, Any]],
    funnel: list[int],
    table_rows: dict[str, tuple[int, int, int]],
    stage_seconds: dict[str, float],
) -> Path:
    """Write the four-panel PNG; `table_rows` maps table -> (events, bronze rows, silver rows)."""
    import matplotlib

    matplotlib.use("Agg")  # no display here, and none needed
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(14, 9), constrained_layout=True)
    revenue_ax, funnel_ax, tables_ax, stages_ax = axes.flat

    days = [d for d, _, _ in daily]
    revenue_ax.bar(days, [float(r) for _, _, r in daily], color="#4C72B0", label="net revenue")
    revenue_ax.set_title("Daily net revenue (bars) and orders placed (line)")
    revenue_ax.tick_params(axis="x", rotation=45)
    orders_ax = revenue_ax.twinx()
    orders_ax.plot(days, [o for _, o, _ in daily], color="#DD8452", marker=".", label="orders placed")
    orders_ax.set_ylabel("orders")

    funnel_ax.barh(list(FUNNEL_STEPS)[::-1], funnel[::-1], color="#55A868")
    funnel_ax.set_title("Session funnel (fct_cart_abandonment_funnel)")
    for y, value in enumerate(funnel[::-1]):
        funnel_ax.annotate(f"{value:,}", (value, y), xytext=(3, 0), textcoords="offset points", va="center")

    names = list(table_rows)
    positions = range(len(names))
    width = 0.27
    for offset, (label, index) in zip((-width, 0, width), (("events", 0), ("bronze", 1), ("silver", 2)), strict=True):
        tables_ax.barh([p + offset for p in positions], [table_rows[n][index] for n in names], width, label=label)
    tables_ax.set_yticks(list(positions), names)
    tables_ax.set_xscale("log")
    tables_ax.legend()
    tables_ax.set_title("CDC path per table: change events -> bronze rows -> silver rows")

    stages_ax.barh(list(stage_seconds)[::-1], list(stage_seconds.values())[::-1], color="#8172B3")
    stages_ax.set_xlabel("seconds")
    stages_ax.set_title(f"Demo stages ({sum(stage_seconds.values()):.0f} s in all)")

    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def report_stage(ctx: DemoContext) -> list[str]:
    """Draw `<workdir>/report.png` from the marts and the earlier stages' figures."""
    marts = ctx.results.get("marts", {})
    if not marts.get("build") or not marts["build"].success:
        return ["no report: the marts did not build"]
    figures = marts_figures(Path(marts["duckdb_path"]))
    events = ctx.results.get("simulation", {}).get("events", {})
    cdc = ctx.results.get("cdc", {})
    reconciliation, bronze = cdc.get("reconciliation", {}), cdc.get("bronze_rows", {})
    table_rows = {
        name: (events.get(name, 0), bronze.get(name, 0), result.actual_rows) for name, result in reconciliation.items()
    }
    path = draw_report(
        ctx.workdir / "report.png",
        daily=figures["daily"],
        funnel=figures["funnel"],
        table_rows=table_rows,
        stage_seconds=dict(ctx.results.get("stage_seconds", {})),
    )
    return [f"report: {path} (daily revenue, session funnel, rows per table, time per stage)"]
