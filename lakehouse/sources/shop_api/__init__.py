"""dlt source: the shop's REST API (`GET /api/<entity>?updated_since=&cursor=&limit=` -> {items, next_cursor}).

Built on dlt's REST API source: cursor pagination on `next_cursor`, and `updated_since` bound to an incremental
cursor on `updated_at` (dlt keeps the last value in its state, which the runner stores in the destination, and
drops rows at the boundary it has already seen), so the next run asks only for newer records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lakehouse.contract import SourceSystem, get_table, tables_from
from lakehouse.sources.empty_tables import empty_tables
from lakehouse.sources.hints import contract_columns, write_disposition

SOURCE_NAME = "shop_api"
EPOCH = "1970-01-01T00:00:00Z"


def api_entities() -> list[str]:
    return [t.name for t in tables_from(SourceSystem.API)]


def empty_api_tables(entities: Sequence[str]) -> Any:
    """A source (under this source's name) that creates `entities` empty with the columns a load gives them."""
    return empty_tables(SOURCE_NAME, [get_table(name) for name in entities], contract_columns)


def shop_api(base_url: str, entities: Sequence[str] | None = None, page_size: int = 500) -> Any:
    """A dlt source with one merge resource per API entity (default: every API table of the contract)."""
    from dlt.sources.rest_api import rest_api_source

    resources = []
    for name in entities or api_entities():
        contract = get_table(name)
        if contract.source != SourceSystem.API:
            raise ValueError(f"{name} is not an API table; API tables are: {', '.join(api_entities())}")
        resources.append(
            {
                "name": name,
                "primary_key": list(contract.primary_key),
                "write_disposition": write_disposition(contract),
                "columns": contract_columns(contract),
                "table_format": "delta",
                "endpoint": {
                    "path": f"api/{name}",
                    "data_selector": "items",
                    "params": {
                        "limit": page_size,
                        "updated_since": {
                            "type": "incremental",
                            "cursor_path": contract.event_time,
                            "initial_value": EPOCH,
                        },
                    },
                    "paginator": {"type": "cursor", "cursor_path": "next_cursor", "cursor_param": "cursor"},
                },
            }
        )
    config: Any = {"client": {"base_url": base_url.rstrip("/") + "/"}, "resources": resources}
    return rest_api_source(config, name=SOURCE_NAME)
