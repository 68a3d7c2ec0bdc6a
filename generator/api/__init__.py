"""The simulated shop's REST API (FastAPI). See generator/api/app.py for the endpoints.

- `create_app(config, now_us=...)` -> FastAPI app (in-process: `fastapi.testclient.TestClient(create_app())`)
- `serve(config, host, port)`: run it with uvicorn until stopped
- `serve_in_thread(config)`: a context manager that runs it in a background thread on a free port and yields the
  base URL (for the demo and for tests that need a real HTTP server, e.g. dlt's REST API source)
"""

from generator.api.app import create_app
from generator.api.server import serve, serve_in_thread

__all__ = ["create_app", "serve", "serve_in_thread"]
