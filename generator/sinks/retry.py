"""Bounded retries with exponential backoff and full jitter, shared by the AWS sinks.

The sinks retry *per entry* (Kinesis FailedRecordCount, DynamoDB UnprocessedItems) on top of botocore's own
retries of whole calls. Nothing is dropped silently: when the attempts run out, `DeliveryError` names what was not
delivered and carries it, so the caller can re-send it.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# Whole-call error codes that mean "try again later"; anything else (a missing stream, a validation error)
# cannot succeed by waiting and is raised at once.
RETRYABLE_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "LimitExceededException",
        "InternalFailure",
        "InternalServerError",
        "InternalError",
        "ServiceUnavailable",
        "KMSThrottlingException",
    }
)


@dataclass
class RetryPolicy:
    """`max_attempts` calls per batch; before attempt n+1 sleep uniform(0, min(max_delay, base * 2**n))."""

    max_attempts: int = 10
    base_delay_s: float = 0.05
    max_delay_s: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1; got {self.max_attempts}")

    def delay_s(self, attempt: int) -> float:
        """Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): spreads retrying writers out."""
        return self.rng.uniform(0.0, min(self.max_delay_s, self.base_delay_s * 2**attempt))

    def backoff(self, attempt: int) -> None:
        self.sleep(self.delay_s(attempt))


@dataclass
class SinkStats:
    """What a sink did: entries delivered, API calls made, entries re-sent after a partial failure."""

    delivered: int = 0
    calls: int = 0
    retried_entries: int = 0
    error_codes: Counter[str] = field(default_factory=Counter)


class DeliveryError(RuntimeError):
    """Entries that could not be delivered within the retry budget. `undelivered` holds them, in input order."""

    def __init__(self, message: str, undelivered: Sequence[Any], error_codes: Counter[str]) -> None:
        super().__init__(message)
        self.undelivered = list(undelivered)
        self.error_codes = error_codes


def describe_errors(error_codes: Counter[str]) -> str:
    return ", ".join(f"{code} x{count}" for code, count in error_codes.most_common()) or "none reported"


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, or None for other exceptions."""
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


SendBatch = Callable[[list[Any]], tuple[list[Any], Counter[str]]]


def deliver_with_retries(
    batch: list[Any],
    send: SendBatch,
    *,
    policy: RetryPolicy,
    stats: SinkStats,
    what: Callable[[list[Any], Counter[str], int], str],
) -> None:
    """Call `send(pending)` until it reports no failed entries, re-sending only the failed ones.

    `send` returns the entries that failed (in input order) and their error codes. A whole call that fails with a
    retryable error (throttling, 5xx, connection) counts as every pending entry failing; any other error is raised
    as `DeliveryError` at once. `what(undelivered, codes, attempts)` words the error message.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    pending = batch
    codes: Counter[str] = Counter()
    for attempt in range(policy.max_attempts):
        if attempt:
            stats.retried_entries += len(pending)
            policy.backoff(attempt - 1)
        stats.calls += 1
        try:
            failed, call_codes = send(pending)
        except ClientError as exc:
            code = error_code(exc) or "ClientError"
            if code not in RETRYABLE_ERROR_CODES:
                codes[code] += len(pending)
                stats.error_codes.update(codes)
                raise DeliveryError(what(pending, codes, attempt + 1), pending, codes) from exc
            failed, call_codes = pending, Counter({code: len(pending)})
        except BotoCoreError as exc:  # connection reset, read timeout: the outcome is unknown, so re-send
            failed, call_codes = pending, Counter({type(exc).__name__: len(pending)})
        stats.delivered += len(pending) - len(failed)
        codes.update(call_codes)
        stats.error_codes.update(call_codes)
        if not failed:
            return
        pending = failed
    raise DeliveryError(what(pending, codes, policy.max_attempts), pending, codes)
