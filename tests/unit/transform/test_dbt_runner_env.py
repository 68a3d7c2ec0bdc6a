"""The environment `DbtProject` gives dbt: the file log level defaults to info and can be raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.transform.runner import DbtProject


def project(tmp_path: Path) -> DbtProject:
    return DbtProject(lake_uri=str(tmp_path / "lake"), duckdb_path=tmp_path / "marts.duckdb")


def test_the_file_log_is_at_info_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    assert project(tmp_path).env()["DBT_LOG_LEVEL_FILE"] == "info"


def test_the_file_log_level_follows_dbts_own_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    assert project(tmp_path).env()["DBT_LOG_LEVEL_FILE"] == "debug"
