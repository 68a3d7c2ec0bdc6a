"""`lakehouse generate serve` as a real process: answers over HTTP, stops on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx

from lakehouse.emulator import free_port


def test_serve_answers_and_stops_on_sigint() -> None:
    port = free_port()
    command = [sys.executable, "-c", "from lakehouse.cli import main; main()", "generate", "serve"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--seed", "9", "--days", "14"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[1].decode()
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/campaigns", params={"limit": 2}, timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the API did not answer within 60s"
                time.sleep(0.2)
        assert response.status_code == 200 and len(response.json()["items"]) == 2
        assert httpx.get(f"http://127.0.0.1:{port}/docs", timeout=5).status_code == 200
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
