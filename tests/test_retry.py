"""The retry policy: which failures are retried and how long we wait."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from langchain_grok._constants import MAX_RETRY_AFTER, MAX_RETRY_DELAY
from langchain_grok._retry import (
    backoff_delay,
    is_quota_exhausted,
    is_retryable_status,
    parse_retry_after,
    retry_delay,
)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 599])
def test_transient_statuses_are_retried(status: int) -> None:
    assert is_retryable_status(status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 415, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    assert not is_retryable_status(status)


def test_exhausted_credits_are_not_retried() -> None:
    message = (
        "Your team abc has either used all available credits or reached its monthly "
        "spending limit. To continue making API requests, please purchase more credits."
    )
    assert is_quota_exhausted(message)
    assert not is_retryable_status(429, message)
    assert is_retryable_status(429, "The service is temporarily at capacity.")


def test_retry_after_seconds_and_milliseconds() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": " 1.5 "}) == 1.5
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    # The millisecond header is more precise and wins.
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25


def test_retry_after_http_date() -> None:
    now = 1_800_000_000.0
    header = formatdate(now + 7, usegmt=True)
    assert parse_retry_after({"retry-after": header}, now=lambda: now) == pytest.approx(7)
    past = formatdate(now - 100, usegmt=True)
    assert parse_retry_after({"retry-after": past}, now=lambda: now) == 0.0


@pytest.mark.parametrize("value", ["soon", "-1", "", "Mon, 99 Foo"])
def test_unusable_retry_after_is_ignored(value: str) -> None:
    assert parse_retry_after({"retry-after": value}) is None


def test_bad_retry_after_ms_falls_back_to_retry_after() -> None:
    assert parse_retry_after({"retry-after-ms": "x", "retry-after": "2"}) == 2.0
    assert parse_retry_after({}) is None


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    low = [backoff_delay(n, rand=lambda: 0.0) for n in range(6)]
    high = [backoff_delay(n, rand=lambda: 1.0) for n in range(6)]
    assert high[:5] == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert high[5] == MAX_RETRY_DELAY
    assert low == [h / 2 for h in high]


def test_retry_delay_prefers_the_server_and_caps_it() -> None:
    assert retry_delay(0, {"retry-after": "1"}) == 1.0
    assert retry_delay(0, {"retry-after": "3600"}) == MAX_RETRY_AFTER
    assert retry_delay(2, None, rand=lambda: 1.0) == 2.0
    assert retry_delay(2, {}, rand=lambda: 1.0) == 2.0
