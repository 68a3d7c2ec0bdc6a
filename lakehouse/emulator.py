"""The local AWS emulator: a moto server in its own process (delta-rs hangs against an in-process one).

Used by `make demo`, the integration tests and the benchmarks. Fake credentials only; nothing leaves the machine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from lakehouse.aws import DEFAULT_REGION, AwsConfig
from lakehouse.envvars import temporary_environment

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Emulator:
    endpoint_url: str
    region: str = DEFAULT_REGION

    @property
    def aws(self) -> AwsConfig:
        return AwsConfig(endpoint_url=self.endpoint_url, region=self.region)

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3, delta-rs, dlt and dbt at this emulator."""
        return {
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    def activated(self) -> AbstractContextManager[None]:
        """Point boto3, delta-rs, dlt and dbt at this emulator for the length of a block."""
        return temporary_environment(self.env())

    def reset(self) -> None:
        """Drop every resource (moto's reset API); cheaper than a new process between tests."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()


@contextmanager
def moto_server(port: int | None = None, *, timeout_s: float = 30.0) -> Iterator[Emulator]:
    """Start `moto_server` on loopback, wait until it answers, stop it on exit."""
    port = port or free_port()
    env = {**os.environ, **FAKE_CREDENTIALS, "MOTO_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(endpoint, process, timeout_s)
        yield Emulator(endpoint_url=endpoint)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_up(endpoint: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with code {process.returncode} before answering")
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"moto server at {endpoint} did not answer within {timeout_s:.0f}s")
