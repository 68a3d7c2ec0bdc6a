"""Run the API with uvicorn: in the foreground (`lakehouse generate serve`) or in a background thread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from generator.api.app import create_app
from generator.config import SimulationConfig


def serve(config: SimulationConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
    import uvicorn

    uvicorn.run(create_app(config), host=host, port=port, log_level="info")


@contextmanager
def serve_in_thread(config: SimulationConfig | None = None) -> Iterator[str]:
    """The API for `config` on a free loopback port in a background thread; yields the base URL."""
    from lakehouse.sources.shop_api.server import serve_in_background

    with serve_in_background(create_app(config)) as base_url:
        yield base_url
