"""One small silver lake and one dbt build per test module; dbt tests share an xdist group (one worker)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from lakehouse.transform.runner import DbtProject, DbtRun
from tests.integration.dbt.silver_fixture import write_silver


@dataclass(frozen=True)
class Built:
    project: DbtProject
    first_build: DbtRun


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """Silver from the hand-checked fixture, then `dbt build` (models, snapshots, data tests) on DuckDB."""
    root = tmp_path_factory.mktemp("dbt")
    write_silver(str(root / "lake"))
    project = DbtProject(lake_uri=str(root / "lake"), duckdb_path=root / "marts.duckdb", work_dir=root / "dbt")
    run = project.invoke("build", "--exclude-resource-type", "unit_test")
    assert run.success, run.summary() + "\n" + "\n".join(f"{n.name}: {n.message}" for n in run.failed)
    yield Built(project, run)


@pytest.fixture
def built_project(built: Built) -> DbtProject:
    return built.project


def scalar(project: DbtProject, sql: str) -> object:
    with project.connect() as con:
        return con.sql(sql).fetchone()[0]
