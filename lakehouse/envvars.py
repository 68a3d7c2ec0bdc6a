"""Setting environment variables for the length of a block, for code that reads its settings from the environment
(boto3, delta-rs, dbt's env_var(), the handlers' settings) when it runs in-process locally."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


@contextmanager
def temporary_environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set `values` in os.environ for the duration of the block, then put the previous values (or absence) back."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
