"""dlt REST API loads from the simulator's API (served over real HTTP on loopback) into Delta."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from generator.api import serve_in_thread
from generator.config import SimulationConfig
from lakehouse.load.pipeline import LoadTarget, load_api


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
