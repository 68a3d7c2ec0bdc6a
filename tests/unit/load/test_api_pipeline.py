"""dlt REST API loads from the simulator's API (served over real HTTP on loopback) into Delta."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from generator.api import serve_in_thread
from generator.config import SimulationConfig
from lakehouse.load.pipeline import LoadTarget, create_missing_api_tables, load_api


@pytest.fixture
def api_url() -> Iterator[str]:
    with serve_in_thread(SimulationConfig(scale=0.001, days=7, seed=7)) as url:
        yield url


def campaigns(target: LoadTarget) -> pa.Table:
    return DeltaTable(f"{target.silver_uri}/campaigns").to_pyarrow_table().sort_by("campaign_id")


def test_cursor_pages_then_only_records_updated_since_the_last_run(api_url: str, local_target: LoadTarget) -> None:
    served = httpx.get(f"{api_url}/api").json()["entities"]["campaigns"]
    assert served > 2  # more than one page of 2

    first = load_api(api_url, local_target, page_size=2)
    assert first.rows == {"campaigns": served}
    table = campaigns(local_target)
    assert table.num_rows == served
    assert table.schema.field("budget").type == pa.decimal128(12, 2)
    assert table.schema.field("start_date").type == pa.date32()

    second = load_api(api_url, local_target, page_size=2)
    assert second.rows == {} and second.load_ids == []

    created = httpx.post(f"{api_url}/api/generate/campaigns", params={"count": 3}).json()["items"]
    third = load_api(api_url, local_target, page_size=2)
    assert third.rows == {"campaigns": 3}
    ids = campaigns(local_target)["campaign_id"].to_pylist()
    assert len(ids) == served + 3 == len(set(ids))
    assert {c["campaign_id"] for c in created} <= set(ids)


def test_first_pull_into_a_pre_created_empty_table_merges_and_then_is_incremental(
    api_url: str, local_target: LoadTarget
) -> None:
    created = create_missing_api_tables(local_target)
    assert created is not None and created.created_empty == ["campaigns"] and created.rows == {}
    assert create_missing_api_tables(local_target) is None  # exists now
    empty = campaigns(local_target)
    assert empty.num_rows == 0 and {"_dlt_load_id", "_dlt_id"} <= set(empty.column_names)
    assert empty.schema.field("budget").type == pa.decimal128(12, 2)

    served = httpx.get(f"{api_url}/api").json()["entities"]["campaigns"]
    first = load_api(api_url, local_target)
    assert first.rows == {"campaigns": served} and first.created_empty == []
    assert campaigns(local_target).num_rows == served

    second = load_api(api_url, local_target)
    assert second.rows == {} and second.load_ids == []  # the updated_since cursor survived the pre-creation

    httpx.post(f"{api_url}/api/generate/campaigns", params={"count": 2}).raise_for_status()
    third = load_api(api_url, local_target)
    ids = campaigns(local_target)["campaign_id"].to_pylist()
    assert third.rows == {"campaigns": 2} and len(ids) == served + 2 == len(set(ids))
