"""The shop's REST API (FastAPI): batch pulls of API-sourced entities and on-demand generation.

    GET  /api/<entity>?updated_since=<ISO-8601>&cursor=<opaque>&limit=N  -> {"items": [...], "next_cursor": ...}
    POST /api/generate/<entity>?count=N                                  -> {"items": [...]} (201)
    GET  /api                                                            -> entities and row counts
    GET  /docs                                                           -> OpenAPI docs

Rows use the files/API encoding of docs/source-formats.md (money as "12.30", timestamps ISO-8601 UTC, dates
YYYY-MM-DD) and are ordered by (updated_at, primary key). Campaigns start as the simulation's campaigns for the
configured seed/days; customers and products start empty and hold what POST /api/generate created (the shop's
real customers and products arrive through CDC). Generated rows are a deterministic function of (seed, id); their
`updated_at` is the server's clock at creation, later than every existing row, as a database would stamp it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, create_model

from generator.api.store import Cursor, CursorError, EntityStore, Page, to_us
from generator.config import SimulationConfig
from lakehouse.contract import MONEY, get_table

MAX_LIMIT = 1_000
DEFAULT_LIMIT = 100
MAX_GENERATE = 10_000
TIMESTAMP_EXAMPLE = "2026-11-01T00:00:00Z"

_JSON_TYPES: dict[str, Any] = {"string": str, "int32": int, "int64": int, "float64": float, "bool": bool}
_FORMATS = {MONEY: "decimal string, e.g. 12.30", "timestamp": "ISO-8601 UTC", "date": "YYYY-MM-DD"}


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def wall_clock_us() -> int:
    return time.time_ns() // 1_000


def _row_model(entity: str) -> type[BaseModel]:
    """A pydantic model of the entity's contract columns, so /docs shows each entity's shape."""
    fields: dict[str, Any] = {}
    for column in get_table(entity).columns:
        python_type = _JSON_TYPES.get(column.type, str)
        fields[column.name] = (python_type if not column.nullable else python_type | None, ...)
    return create_model(entity.title().replace("_", ""), **fields)


class ShopApi:
    """The API's state: one store per entity, the simulation config, a clock. Thread-safe."""

    def __init__(self, config: SimulationConfig, now_us: Callable[[], int] = wall_clock_us) -> None:
        from generator.encoding import Encoder
        from generator.entities import API_ENTITIES, campaigns_for

        self.config = config
        self.now_us = now_us
        self.entities = tuple(API_ENTITIES)
        self.stores = {name: EntityStore(name, get_table(name).primary_key) for name in self.entities}
        self._encoder = Encoder(threads=1)
        self._generate_lock = threading.Lock()
        self._add_rows("campaigns", campaigns_for(config))

    def store(self, entity: str) -> EntityStore:
        if entity not in self.stores:
            raise ApiError(404, f"unknown entity {entity!r}; valid entities: {', '.join(self.entities)}")
        return self.stores[entity]

    def _add_rows(self, entity: str, rows: Any) -> list[dict[str, Any]]:
        """Encode Arrow rows with the simulator's files/API encoder and upsert them."""
        encoded = [json.loads(line) for line in self._encoder.landing_records(entity, rows).to_pylist()]
        updated = rows.column("updated_at").cast("int64").to_pylist()
        store = self.stores[entity]
        for row, updated_us in zip(encoded, updated, strict=True):
            store.upsert(row, updated_us)
        return encoded

    def generate(self, entity: str, count: int) -> list[dict[str, Any]]:
        import pyarrow as pa

        from generator.columns import timestamps
        from generator.entities import generate_entity

        store = self.store(entity)
        if not 1 <= count <= MAX_GENERATE:
            raise ApiError(400, f"count must be between 1 and {MAX_GENERATE}; got {count}")
        with self._generate_lock:
            (last_id,) = store.max_key() or (0,)
            latest = store.max_updated_us
            now = max(self.now_us(), latest + 1 if latest is not None else 0)
            rows = generate_entity(entity, count, seed=self.config.seed, start_id=last_id + 1, as_of_us=now)
            stamped = timestamps(pa.array([now] * count, pa.int64()).to_numpy())
            rows = rows.set_column(rows.schema.get_field_index("updated_at"), "updated_at", stamped)
            return self._add_rows(entity, rows)

    def page(self, entity: str, *, limit: int, updated_since: str | None, cursor: str | None) -> Page:
        store = self.store(entity)
        if not 1 <= limit <= MAX_LIMIT:
            raise ApiError(400, f"limit must be between 1 and {MAX_LIMIT}; got {limit}")
        since_us = None
        if updated_since is not None:
            try:
                since_us = to_us(datetime.fromisoformat(updated_since))
            except ValueError:
                raise ApiError(
                    400,
                    f"updated_since {updated_since!r} is not an ISO-8601 timestamp; use e.g. {TIMESTAMP_EXAMPLE} "
                    "(a timestamp without offset is read as UTC)",
                ) from None
        try:
            position = Cursor.decode(cursor, entity) if cursor else None
            return store.page(limit=limit, updated_since_us=since_us, cursor=position)
        except CursorError as exc:
            raise ApiError(400, str(exc)) from None


def create_app(config: SimulationConfig | None = None, *, now_us: Callable[[], int] = wall_clock_us) -> FastAPI:
    """The API as an ASGI app: serve it with uvicorn, or test it in-process with fastapi.testclient.TestClient."""
    api = ShopApi(config or SimulationConfig(), now_us)
    app = FastAPI(
        title="Shop API (simulated)",
        version="1.0",
        description=(
            "Batch-pull endpoints of the simulated shop, ordered by (updated_at, primary key) with keyset "
            "cursors. Page with `next_cursor` until it is null; pull increments with `updated_since` (inclusive)."
        ),
    )
    app.state.shop = api

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(status_code=exc.status, content={"detail": exc.message})

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(part) for part in error['loc'][1:]) or 'request'}: {error['msg']} "
            f"(got {error.get('input')!r})"
            for error in exc.errors()
        ]
        return JSONResponse(status_code=422, content={"detail": "; ".join(problems)})

    @app.get("/api", summary="Entities and their row counts")
    def entities() -> dict[str, dict[str, int]]:
        return {"entities": {name: len(store) for name, store in api.stores.items()}}

    for entity in api.entities:
        _add_entity_routes(app, api, entity)

    @app.get("/api/{entity}", include_in_schema=False)
    def unknown_entity(entity: str) -> None:
        api.store(entity)  # raises the 404 that lists the valid entities

    @app.post("/api/generate/{entity}", include_in_schema=False)
    def unknown_generate(entity: str) -> None:
        api.store(entity)

    return app


def _add_entity_routes(app: FastAPI, api: ShopApi, entity: str) -> None:
    row_model = _row_model(entity)
    rows: Any = list[row_model]  # type: ignore[valid-type]  # a model built at runtime from the contract
    page_model = create_model(f"{row_model.__name__}Page", items=(rows, ...), next_cursor=(str | None, ...))
    created_model = create_model(f"{row_model.__name__}Created", items=(rows, ...))
    formats = ", ".join(f"{c.name}: {_FORMATS[c.type]}" for c in get_table(entity).columns if c.type in _FORMATS)

    def list_rows(
        updated_since: str | None = Query(
            None, description=f"Only rows with updated_at >= this ISO-8601 timestamp, e.g. {TIMESTAMP_EXAMPLE}."
        ),
        cursor: str | None = Query(None, description="The `next_cursor` of the previous page, unchanged."),
        limit: int = Query(DEFAULT_LIMIT, description=f"Rows per page, 1..{MAX_LIMIT}."),
    ) -> Any:
        page = api.page(entity, limit=limit, updated_since=updated_since, cursor=cursor)
        return {"items": page.items, "next_cursor": page.next_cursor}

    def generate(count: int = Query(1, description=f"How many rows to create, 1..{MAX_GENERATE}.")) -> Any:
        return {"items": api.generate(entity, count)}

    app.get(
        f"/api/{entity}",
        response_model=page_model,
        summary=f"Page through {entity} by (updated_at, primary key)",
        description=f"Encodings: {formats}.",
        tags=[entity],
    )(list_rows)
    app.post(
        f"/api/generate/{entity}",
        response_model=created_model,
        status_code=201,
        summary=f"Create new {entity} (deterministic for the server's seed)",
        tags=[entity],
    )(generate)
