"""The dbt sources are generated from the contract: the committed files must match, and every contract table
must have a staging model that reads it."""

from __future__ import annotations

import re

import yaml

from lakehouse.contract import TABLES
from lakehouse.transform.runner import DBT_PROJECT_DIR
from lakehouse.transform.sources import SOURCE_NAMES, render_sources, sources_path, stale_sources


def test_committed_sources_match_the_contract() -> None:
    stale = stale_sources(DBT_PROJECT_DIR)
    assert not stale, f"regenerate with `lakehouse dbt sources`: {[str(p) for p in stale]}"


def test_every_contract_table_and_column_is_declared_with_key_tests() -> None:
    declared = {}
    for source in SOURCE_NAMES:
        document = yaml.safe_load(render_sources(source))
        for table in document["sources"][0]["tables"]:
            declared[table["name"]] = table
    assert set(declared) == set(TABLES)
    for name, contract in TABLES.items():
        columns = {c["name"]: c for c in declared[name]["columns"]}
        assert list(columns) == contract.column_names
        for key in contract.primary_key:
            assert "not_null" in columns[key]["data_tests"]
        for column, target in contract.foreign_keys.items():
            relationship = next(t["relationships"] for t in columns[column]["data_tests"] if "relationships" in t)
            assert relationship["arguments"]["field"] == target.split(".")[1]
            assert f"'{target.split('.')[0]}'" in relationship["arguments"]["to"]


def test_every_contract_table_has_a_staging_model() -> None:
    staging_sql = {p.stem: p.read_text() for p in (DBT_PROJECT_DIR / "models" / "staging").rglob("stg_*.sql")}
    for name, contract in TABLES.items():
        source = SOURCE_NAMES[contract.source]
        readers = [m for m, sql in staging_sql.items() if re.search(rf"source\('{source}', '{name}'\)", sql)]
        assert len(readers) == 1, f"{name}: expected one staging model reading it, found {readers}"
        assert readers[0].startswith(f"stg_{source}__"), readers[0]
        assert (sources_path(DBT_PROJECT_DIR, contract.source)).exists()


def test_every_model_has_its_own_yml() -> None:
    models = list((DBT_PROJECT_DIR / "models").rglob("*.sql"))
    assert len(models) > 30
    missing = [m.name for m in models if not m.with_suffix(".yml").exists()]
    assert not missing, f"models without a yml beside them: {missing}"
