"""The REST API in-process (FastAPI TestClient): keyset pagination, the cursor, updated_since, generation, 4xx."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from generator.api import create_app, serve_in_thread
from generator.api.store import Cursor
from generator.config import SimulationConfig
from lakehouse.contract import get_table

CLOCK_US = int(datetime(2026, 12, 10, tzinfo=UTC).timestamp()) * 1_000_000


def _client(seed: int = 42, days: int = 31) -> TestClient:
    return TestClient(create_app(SimulationConfig(seed=seed, days=days), now_us=lambda: CLOCK_US))


def _pages(client: TestClient, entity: str = "campaigns", **params: Any) -> list[dict[str, Any]]:
    pages = []
    cursor = None
    while True:
        response = client.get(f"/api/{entity}", params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None:
            return pages


def _order_key(row: dict[str, Any]) -> tuple[str, int]:
    return row["updated_at"], row["campaign_id"]


@pytest.fixture
def client() -> TestClient:
    return _client()


def test_pages_cover_every_row_once_in_updated_at_then_key_order(client: TestClient) -> None:
    total = client.get("/api").json()["entities"]["campaigns"]
    assert total >= 8
    pages = _pages(client, limit=3)
    rows = [row for page in pages for row in page["items"]]
    assert len(rows) == total and len({r["campaign_id"] for r in rows}) == total
    assert [_order_key(r) for r in rows] == sorted(_order_key(r) for r in rows)
    assert [len(p["items"]) for p in pages[:-1]] == [3] * (len(pages) - 1)
    assert set(rows[0]) == set(get_table("campaigns").column_names)


def test_last_page_has_no_cursor_even_when_it_is_full(client: TestClient) -> None:
    total = client.get("/api").json()["entities"]["campaigns"]
    (page,) = _pages(client, limit=total)
    assert len(page["items"]) == total and page["next_cursor"] is None


def test_the_cursor_survives_inserts_between_pages(client: TestClient) -> None:
    total = client.get("/api").json()["entities"]["campaigns"]
    first = client.get("/api/campaigns", params={"limit": 4}).json()
    created = client.post("/api/generate/campaigns", params={"count": 3}).json()["items"]
    rest = _pages(client, limit=4, cursor=first["next_cursor"])
    rows = first["items"] + [row for page in rest for row in page["items"]]
    assert len(rows) == total + 3 and len({r["campaign_id"] for r in rows}) == total + 3
    assert rows[-3:] == created  # new rows sort after every existing one
    assert [r["campaign_id"] for r in created] == [total + 1, total + 2, total + 3]


def test_updated_since_is_inclusive_and_accepts_offsets(client: TestClient) -> None:
    rows = _pages(client, limit=1000)[0]["items"]
    boundary = rows[4]["updated_at"]
    since = client.get("/api/campaigns", params={"updated_since": boundary}).json()["items"]
    assert since == [r for r in rows if r["updated_at"] >= boundary] and since[0] == rows[4]
    as_offset = datetime.fromisoformat(boundary).astimezone(datetime.fromisoformat("2026-01-01T00:00+01:00").tzinfo)
    assert client.get("/api/campaigns", params={"updated_since": as_offset.isoformat()}).json()["items"] == since
    naive = boundary.removesuffix("Z")
    assert client.get("/api/campaigns", params={"updated_since": naive}).json()["items"] == since


def test_incremental_pull_from_the_high_water_mark_gets_the_new_rows(client: TestClient) -> None:
    first_pull = [r for page in _pages(client, limit=5) for r in page["items"]]
    high_water_mark = max(r["updated_at"] for r in first_pull)
    created = client.post("/api/generate/campaigns", params={"count": 2}).json()["items"]
    increment = [r for page in _pages(client, limit=5, updated_since=high_water_mark) for r in page["items"]]
    # Inclusive bound: the row(s) at the mark come again (a merge on the key absorbs them), nothing is missed.
    assert increment == [r for r in first_pull if r["updated_at"] == high_water_mark] + created


def test_updated_since_and_cursor_combine(client: TestClient) -> None:
    rows = _pages(client, limit=1000)[0]["items"]
    boundary = rows[2]["updated_at"]
    paged = [r for page in _pages(client, limit=2, updated_since=boundary) for r in page["items"]]
    assert paged == rows[2:]


def test_the_same_seed_gives_the_same_rows_and_another_seed_does_not() -> None:
    def snapshot(seed: int) -> Any:
        client = _client(seed)
        return client.get("/api/campaigns").json(), client.post("/api/generate/products?count=5").json()

    assert snapshot(7) == snapshot(7)
    assert snapshot(7) != snapshot(8)


@pytest.mark.parametrize("entity", ["customers", "products", "campaigns"])
def test_generated_rows_follow_the_contract_and_are_listed(client: TestClient, entity: str) -> None:
    before = client.get("/api").json()["entities"][entity]
    response = client.post(f"/api/generate/{entity}", params={"count": 25})
    assert response.status_code == 201
    items = response.json()["items"]
    contract = get_table(entity)
    assert len(items) == 25 and all(list(item) == contract.column_names for item in items)
    pk = contract.primary_key[0]
    assert [item[pk] for item in items] == list(range(before + 1, before + 26))
    assert all(item["updated_at"].endswith("Z") for item in items)
    listed = [r for page in _pages(client, entity, limit=10) for r in page["items"]]
    assert listed[-25:] == items


def test_rows_use_the_api_encoding(client: TestClient) -> None:
    row = client.get("/api/campaigns", params={"limit": 1}).json()["items"][0]
    assert isinstance(row["budget"], str) and row["budget"].count(".") == 1 and len(row["budget"].split(".")[1]) == 2
    datetime.strptime(row["updated_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    datetime.strptime(row["start_date"], "%Y-%m-%d")


@pytest.mark.parametrize(
    ("method", "url", "status", "fix"),
    [
        ("get", "/api/orders", 404, "valid entities: customers, products, campaigns"),
        ("post", "/api/generate/orders?count=1", 404, "valid entities: customers, products, campaigns"),
        ("post", "/api/generate/campaigns?count=0", 400, "count must be between 1 and 10000; got 0"),
        ("post", "/api/generate/campaigns?count=10001", 400, "count must be between 1 and 10000; got 10001"),
        ("post", "/api/generate/campaigns?count=many", 422, "count: Input should be a valid integer"),
        ("get", "/api/campaigns?limit=0", 400, "limit must be between 1 and 1000; got 0"),
        ("get", "/api/campaigns?limit=5000", 400, "limit must be between 1 and 1000; got 5000"),
        ("get", "/api/campaigns?limit=ten", 422, "limit: Input should be a valid integer"),
        ("get", "/api/campaigns?updated_since=last-week", 400, "use e.g. 2026-11-01T00:00:00Z"),
        ("get", "/api/campaigns?updated_since=2026-13-01", 400, "is not an ISO-8601 timestamp"),
        ("get", "/api/campaigns?cursor=not-a-cursor", 400, "pass the `next_cursor` of the previous page unchanged"),
    ],
)
def test_bad_parameters_get_a_4xx_that_names_the_fix(
    client: TestClient, method: str, url: str, status: int, fix: str
) -> None:
    response = getattr(client, method)(url)
    assert response.status_code == status
    assert fix in response.json()["detail"]


def test_a_cursor_of_another_entity_or_shape_is_rejected(client: TestClient) -> None:
    client.post("/api/generate/products", params={"count": 3})
    products_cursor = client.get("/api/products", params={"limit": 1}).json()["next_cursor"]
    response = client.get("/api/campaigns", params={"cursor": products_cursor})
    assert response.status_code == 400 and "belongs to /api/products" in response.json()["detail"]
    wrong_shape = Cursor("campaigns", 0, (1, 2)).encode()
    response = client.get("/api/campaigns", params={"cursor": wrong_shape})
    assert response.status_code == 400 and "leave cursor out" in response.json()["detail"]


def test_openapi_docs_describe_each_entity(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/api/campaigns", "/api/generate/campaigns"} <= set(spec["paths"])
    params = {p["name"] for p in spec["paths"]["/api/campaigns"]["get"]["parameters"]}
    assert params == {"updated_since", "cursor", "limit"}
    assert set(spec["components"]["schemas"]["Campaigns"]["properties"]) == set(get_table("campaigns").column_names)


def test_serve_in_thread_answers_over_http() -> None:
    with serve_in_thread(SimulationConfig(days=7)) as base_url:
        response = httpx.get(f"{base_url}/api/campaigns", params={"limit": 2}, timeout=10)
        assert response.status_code == 200 and len(response.json()["items"]) == 2
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/api", timeout=2)
