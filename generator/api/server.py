"""Run the API with uvicorn: in the foreground (`lakehouse generate serve`) or in a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from generator.api.app import create_app
from generator.config import SimulationConfig


def serve(config: SimulationConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
    import uvicorn

    uvicorn.run(create_app(config), host=host, port=port, log_level="info")


@contextmanager
def serve_in_thread(
    config: SimulationConfig | None = None, host: str = "127.0.0.1", port: int | None = None, timeout_s: float = 20.0
) -> Iterator[str]:
    """Start the API on a free port (or `port`) in a daemon thread, yield its base URL, stop it on exit."""
    import uvicorn

    from lakehouse.emulator import free_port

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(config), host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=f"shop-api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the shop API did not start on {host}:{port} within {timeout_s:.0f}s")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
