"""Small Delta helpers shared by silver apply and its tombstones: create-if-missing, key predicates, and retrying
a commit that lost a race (delta-rs raises CommitFailedError when a concurrent commit conflicts)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import CommitFailedError

log = logging.getLogger(__name__)
T = TypeVar("T")


def open_or_create(
    uri: str,
    schema: pa.Schema,
    storage_options: dict[str, str] | None,
    partition_by: Sequence[str] = (),
) -> DeltaTable:
    if DeltaTable.is_deltatable(uri, storage_options):
        return DeltaTable(uri, storage_options=storage_options)
    # mode="ignore": if another process created it in between, use theirs.
    return DeltaTable.create(
        uri, schema, mode="ignore", partition_by=list(partition_by) or None, storage_options=storage_options
    )


def key_predicate(primary_key: Sequence[str], target: str = "t", source: str = "s") -> str:
    return " AND ".join(f"{target}.{k} = {source}.{k}" for k in primary_key)


def with_commit_retry(
    attempt: Callable[[], T],
    *,
    max_attempts: int,
    base_delay_s: float = 0.05,
    max_delay_s: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `attempt` (which must reload the table itself) until it commits; back off exponentially with full
    jitter between conflicts. Other errors propagate at once."""
    for number in range(1, max_attempts + 1):
        try:
            return attempt()
        except CommitFailedError as error:
            if number == max_attempts:
                raise
            delay = random.uniform(0, min(max_delay_s, base_delay_s * 2**number))
            log.warning("commit conflict (attempt %d/%d), retrying in %.2fs: %s", number, max_attempts, delay, error)
            sleep(delay)
    raise AssertionError("unreachable")
