"""lambdas/batch_load called in-process with a Step Functions-shaped event (no AWS: local folders)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from lakehouse.settings import LAKE_URI_ENV, LANDING_URI_ENV, QUARANTINE_URI_ENV
from lakehouse.sources.landing_files.samples import review, write_landing_file


@dataclass
class LambdaContext:
    function_name: str = "batch_load"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:batch_load"
    aws_request_id: str = "req-1"


@pytest.fixture
def handler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv(LAKE_URI_ENV, str(tmp_path / "lake"))
    monkeypatch.setenv(QUARANTINE_URI_ENV, str(tmp_path / "quarantine"))
    monkeypatch.setenv(LANDING_URI_ENV, str(tmp_path / "landing"))
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Lakehouse")
    from lambdas.batch_load import handler as module

    module.settings.cache_clear()
    yield module.handler
    module.settings.cache_clear()


def test_handler_loads_landing_files_and_reports(tmp_path: Path, handler) -> None:  # type: ignore[no-untyped-def]
    write_landing_file(tmp_path / "landing", "reviews", date(2026, 11, 1), [review(1), review(2)])
    result = handler({"source": "files", "tables": ["reviews"]}, LambdaContext())
    assert result["rows"] == {"reviews": 2} and result["loaded"] == 2 and result["quarantined_total"] == 0
    again = handler({"source": "files"}, LambdaContext())
    assert again["loaded"] == 0


def test_handler_rejects_a_request_without_source(handler) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="'source'"):
        handler({"tables": ["reviews"]}, LambdaContext())
