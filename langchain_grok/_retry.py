"""The retry policy, as pure functions.

Kept apart from the I/O so that the sync and async clients take the same decisions and the
tests can check every decision without a server or a clock.
"""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from langchain_grok._constants import INITIAL_RETRY_DELAY, MAX_RETRY_AFTER, MAX_RETRY_DELAY

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "backoff_delay",
    "is_quota_exhausted",
    "is_retryable_status",
    "parse_retry_after",
    "retry_delay",
]

_RETRYABLE_STATUSES = frozenset({408, 409, 429})
_QUOTA_MARKERS = ("credits", "spending limit")


def is_quota_exhausted(message: str) -> bool:
    """Tell a spent budget apart from a transient rate limit.

    xAI answers both with 429. Retrying "your team has used all available credits or reached
    its monthly spending limit" only burns the caller's time, so it is not retried.
    """
    lowered = message.lower()
    return any(marker in lowered for marker in _QUOTA_MARKERS)


def is_retryable_status(status: int, message: str = "") -> bool:
    """Whether a response with this status may succeed if sent again."""
    if status == 429:  # noqa: PLR2004 - the status is the documentation
        return not is_quota_exhausted(message)
    return status in _RETRYABLE_STATUSES or status >= 500  # noqa: PLR2004


def parse_retry_after(
    headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> float | None:
    """Read how long the server asked us to wait, in seconds.

    `retry-after-ms` (milliseconds, a de-facto extension) wins over `retry-after`, which may be
    a number of seconds or an HTTP date. Unparsable or negative values are ignored, so the
    caller falls back to its own backoff.

    Args:
        headers: Response headers; lookups are case-insensitive when given `httpx.Headers`,
            otherwise lower-case names are expected.
        now: Clock for HTTP-date values (injectable for tests).
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            value = float(raw_ms) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0:
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = moment.timestamp() - now()
        return max(seconds, 0.0)
    return seconds if seconds >= 0 else None


def backoff_delay(
    attempt: int,
    *,
    initial: float = INITIAL_RETRY_DELAY,
    maximum: float = MAX_RETRY_DELAY,
    rand: Callable[[], float] = random.random,
) -> float:
    """Exponential backoff with jitter for the given retry number (0 for the first retry).

    The jitter keeps a crowd of clients that failed together from retrying together: the delay
    is drawn from the upper half of the exponential step.
    """
    step = min(initial * (2.0**attempt), maximum)
    return step * (0.5 + 0.5 * rand())


def retry_delay(
    attempt: int,
    headers: Mapping[str, str] | None,
    *,
    rand: Callable[[], float] = random.random,
    now: Callable[[], float] = time.time,
) -> float:
    """How long to wait before retry number `attempt`: the server's wish, else our backoff.

    A server-supplied wait is capped so that a misconfigured proxy cannot park the caller for an
    hour.
    """
    if headers is not None:
        asked = parse_retry_after(headers, now=now)
        if asked is not None:
            return min(asked, MAX_RETRY_AFTER)
    return backoff_delay(attempt, rand=rand)
