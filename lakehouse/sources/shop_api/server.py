"""Serve an ASGI app (the simulator's REST API) with uvicorn on a free loopback port, in a background thread,
for the demo, the benchmark and tests: dlt's REST client talks real HTTP to it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lakehouse.emulator import free_port


@contextmanager
def serve_in_background(app: Any, *, timeout_s: float = 15.0) -> Iterator[str]:
    """Yield the base URL (http://127.0.0.1:<port>) while the app is served; stop the server on exit."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name=f"api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the API server on port {port} did not start within {timeout_s:.0f}s")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
