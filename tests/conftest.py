"""Shared fixtures. Integration tests get one moto server process per test session (per xdist worker)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from lakehouse.emulator import Emulator, moto_server

# Node 20 is end-of-life for jsii: without this every CDK synthesis prints a large banner (see docs/toolchain.md).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[Emulator]:
    """A moto server process for the whole session."""
    with moto_server() as emulator:
        yield emulator


@pytest.fixture
def emulator(moto_endpoint: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The session's moto server, reset before each test, with the environment pointing at it."""
    moto_endpoint.reset()
    for key, value in moto_endpoint.env().items():
        monkeypatch.setenv(key, value)
    yield moto_endpoint


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach real AWS: fake credentials unless a test sets an emulator endpoint."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", os.environ.get("LAKEHOUSE_TEST_KEY", "testing"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(autouse=True)
def _isolate_powertools_state() -> Iterator[None]:
    """Handler modules keep module-level Powertools objects across tests in one worker. With metrics disabled
    (the local runtime's quiet mode) Powertools' flush never clears the metric set, which all Metrics instances
    share, and a Logger keeps the level it was built with: reset both after each test so none leaks into the next."""
    yield
    import logging
    import sys

    for name, module in list(sys.modules.items()):
        if name.startswith("lambdas.") and name.endswith(".handler"):
            if metrics := getattr(module, "metrics", None):
                metrics.clear_metrics()
            if logger := getattr(module, "logger", None):
                logger.setLevel(logging.INFO)
