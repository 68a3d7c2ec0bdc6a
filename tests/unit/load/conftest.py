from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.aws import AwsConfig
from lakehouse.load.pipeline import LoadTarget


@pytest.fixture
def local_target(tmp_path: Path) -> LoadTarget:
    """A lake and a quarantine in local folders (no AWS involved)."""
    return LoadTarget(str(tmp_path / "lake"), str(tmp_path / "quarantine"), AwsConfig())
