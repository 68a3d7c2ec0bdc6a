"""The demo stage "marts": dbt builds the marts from the lake's silver tables into a DuckDB file, then the demo
prints the test results and a few headline numbers.

Reads `ctx.results["lake_uri"]` (the lake the CDC and batch-load stages filled); sets `ctx.results["marts"]`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lakehouse.demo import DemoContext
    from lakehouse.transform.runner import DbtProject, DbtRun

HEADLINES = {
    "revenue_by_month": """
        select strftime(month_start, '%Y-%m') as month, paid_orders, gross_revenue, refunds, net_revenue,
               round(average_order_value, 2) as aov
        from fct_monthly_revenue order by month_start""",
    "abandonment": """
        select sum(abandoned_carts) as abandoned, sum(converted_carts) as converted,
               sum(abandoned_carts) / nullif(sum(abandoned_carts) + sum(converted_carts), 0) as rate
        from fct_cart_abandonment_funnel""",
    "top_products": """
        select items.product_id, products.name, products.category, sum(items.line_total) as revenue,
               sum(items.quantity) as units
        from fct_order_items as items
        left join dim_products as products on products.product_id = items.product_id and products.is_current
        where items.is_paid
        group by all order by revenue desc limit 5""",
}


def marts_stage(ctx: DemoContext) -> list[str]:
    from lakehouse.transform.runner import DbtProject, progress_bar

    lake = ctx.results.get("lake_uri", str(ctx.workdir / "lake"))
    project = DbtProject(
        lake_uri=lake,
        duckdb_path=ctx.workdir / "marts.duckdb",
        work_dir=ctx.workdir / "dbt",
        aws=ctx.emulator.aws,  # used only when the lake is on the emulator's S3
    )
    with progress_bar("dbt build", ctx.console) as on_event:
        build = project.invoke("build", "--exclude-resource-type", "unit_test", "--quiet", callbacks=[on_event])
    with progress_bar("dbt unit tests", ctx.console) as on_event:
        unit = project.invoke("test", "--resource-type", "unit_test", "--quiet", callbacks=[on_event])
    lines = [_run_line("build", build), _run_line("unit tests", unit)]
    lines += [
        f"  [red]{n.resource_type} {n.name}: {n.status}[/] {(n.message or '')[:200]}" for n in _failed(build, unit)
    ]
    headlines = _headlines(project) if build.success else {}
    ctx.results["marts"] = {"duckdb_path": str(project.duckdb_path), "build": build, "unit_tests": unit, **headlines}
    return (
        lines
        + _headline_lines(headlines)
        + [
            f"query the marts: lakehouse query 'select * from fct_monthly_revenue' --duckdb {project.duckdb_path}"
            f" --lake {lake}"
        ]
    )


def _run_line(label: str, run: DbtRun) -> str:
    counts = run.counts()
    kinds = sorted({kind for kind, _ in counts})
    parts = [
        f"{sum(c for (k, _), c in counts.items() if k == kind)} {kind}s "
        f"({', '.join(f'{c} {status}' for (k, status), c in sorted(counts.items()) if k == kind)})"
        for kind in kinds
    ]
    colour = "green" if run.success else "red"
    return f"[{colour}]dbt {label}: {'OK' if run.success else 'FAILED'}[/] in {run.seconds:.1f}s: " + "; ".join(parts)


def _failed(*runs: DbtRun) -> list[Any]:
    return [n for run in runs for n in run.failed if n.status not in ("skipped",)]


def _headlines(project: DbtProject) -> dict[str, list[tuple[Any, ...]]]:
    with project.connect() as con:
        return {name: con.sql(sql).fetchall() for name, sql in HEADLINES.items()}


def _headline_lines(headlines: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    if not headlines:
        return []
    lines = ["revenue by month (paid orders, gross, refunds, net, average order value):"]
    lines += [
        f"  {m}: {n:,} orders, {g:,.2f} gross, {r:,.2f} refunds, {net:,.2f} net, AOV {a}"
        for m, n, g, r, net, a in headlines["revenue_by_month"]
    ]
    abandoned, converted, rate = headlines["abandonment"][0]
    lines.append(f"cart abandonment: {rate:.1%} ({abandoned:,} abandoned, {converted:,} converted carts)")
    lines.append("top products by revenue:")
    lines += [
        f"  #{pid} {name} ({category}): {revenue:,.2f} from {units:,} units"
        for pid, name, category, revenue, units in headlines["top_products"]
    ]
    return lines
