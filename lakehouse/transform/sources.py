"""Generate dbt source declarations from the table contract, so the contract stays the single declaration.

`lakehouse dbt sources` writes dbt/models/staging/<source>/_<source>__sources.yml; a unit test fails when the
committed files drift from lakehouse/contract.py.
"""

from __future__ import annotations

from pathlib import Path

from lakehouse.contract import TABLES, SourceSystem, TableContract, get_table, tables_from

# dbt source name per source system (staging models are named stg_<source>__<entity>s).
SOURCE_NAMES: dict[SourceSystem, str] = {
    SourceSystem.OLTP: "shop",
    SourceSystem.DYNAMODB: "web",
    SourceSystem.FILES: "files",
    SourceSystem.API: "api",
}
SOURCE_DESCRIPTIONS: dict[SourceSystem, str] = {
    SourceSystem.OLTP: "The orders database (PostgreSQL), captured with Debezium CDC and applied to silver.",
    SourceSystem.DYNAMODB: "User behaviour from the DynamoDB single table, captured from DynamoDB Streams.",
    SourceSystem.FILES: "Landing files (gzipped JSONL), loaded by dlt.",
    SourceSystem.API: "The shop's REST API, pulled in batches by dlt.",
}
# Column types as dbt documents them (portable names that DuckDB and Trino both accept).
SQL_TYPES = {
    "string": "varchar",
    "int32": "integer",
    "int64": "bigint",
    "float64": "double",
    "bool": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "decimal(12,2)": "decimal(12,2)",
}
HEADER = (
    "# Generated from lakehouse/contract.py by `lakehouse dbt sources`. Do not edit: change the contract.\n"
    "# Foreign keys only warn: sources land independently (CDC, streams, files), so a child may arrive before its\n"
    "# parent, and erasure requests delete customers that orders still reference. Marts test them strictly.\n"
)
# DuckDB reads each silver Delta table in place (delta_scan); Athena reads the Glue table of the same name.
EXTERNAL_LOCATION = "delta_scan('{{ env_var('LAKEHOUSE_LAKE_URI', 'lake').rstrip('/') }}/silver/{identifier}')"
SILVER_SCHEMA = "{{ env_var('LAKEHOUSE_SILVER_DATABASE', 'lakehouse_silver') }}"


def source_name(table: TableContract) -> str:
    return SOURCE_NAMES[table.source]


def sources_path(dbt_dir: Path, source: SourceSystem) -> Path:
    name = SOURCE_NAMES[source]
    return dbt_dir / "models" / "staging" / name / f"_{name}__sources.yml"


def _q(text: str) -> str:
    """A YAML double-quoted scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fk_test(table: TableContract, column: str) -> list[str]:
    target_table, _, target_column = table.foreign_keys[column].partition(".")
    target = get_table(target_table)
    return [
        "              - relationships:",
        "                  arguments:",
        f"                    to: {_q(f'source({source_name(target)!r}, {target.name!r})')}",
        f"                    field: {target_column}",
        "                  config:",
        "                    severity: warn",
    ]


def render_sources(source: SourceSystem) -> str:
    lines = [
        HEADER.rstrip("\n"),
        "version: 2",
        "",
        "sources:",
        f"  - name: {SOURCE_NAMES[source]}",
        f"    description: {_q(SOURCE_DESCRIPTIONS[source])}",
        f"    schema: {_q(SILVER_SCHEMA)}",
        "    meta:",
        f"      external_location: {_q(EXTERNAL_LOCATION)}",
        "    tables:",
    ]
    for table in tables_from(source):
        lines += [
            f"      - name: {table.name}",
            f"        description: {_q(table.description)}",
            "        meta:",
            f"          primary_key: [{', '.join(table.primary_key)}]",
            f"          event_time: {table.event_time}",
        ]
        if len(table.primary_key) > 1:
            lines += [
                "        data_tests:",
                "          - unique_combination:",
                "              arguments:",
                f"                columns: [{', '.join(table.primary_key)}]",
            ]
        lines.append("        columns:")
        for column in table.columns:
            lines += [f"          - name: {column.name}", f"            data_type: {SQL_TYPES[column.type]}"]
            if column.description:
                lines.append(f"            description: {_q(column.description)}")
            tests: list[str] = []
            if column.name in table.primary_key:
                tests.append("              - not_null")
                if len(table.primary_key) == 1:
                    tests.append("              - unique")
            if column.name in table.foreign_keys:
                tests += _fk_test(table, column.name)
            if tests:
                lines += ["            data_tests:", *tests]
    return "\n".join(lines) + "\n"


def write_sources(dbt_dir: Path) -> list[Path]:
    """Write one sources yml per source system; returns the paths written."""
    written = []
    for source in SOURCE_NAMES:
        path = sources_path(dbt_dir, source)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_sources(source))
        written.append(path)
    return written


def stale_sources(dbt_dir: Path) -> list[Path]:
    """The sources files that differ from what the contract generates (empty when in sync)."""
    return [
        sources_path(dbt_dir, s)
        for s in SOURCE_NAMES
        if not sources_path(dbt_dir, s).exists() or sources_path(dbt_dir, s).read_text() != render_sources(s)
    ]


assert set(SOURCE_NAMES) == {t.source for t in TABLES.values()}, "every source system needs a dbt source name"
