"""Deferred completions: the waiting policy, as pure code shared by both clients.

A deferred request is answered at once with a `request_id`; its result is fetched later from
`GET /v1/chat/deferred-completion/{id}`, which answers 202 while the job runs, 200 with the
completion once, and 404 afterwards (or when the job is unknown or older than 24 h). Waiting
is a loop of short polls, each its own request, so no connection stays open for minutes for a
proxy's idle timeout to cut. What that loop decides (how long to sleep, when to give up, which
failed polls to ride out) lives here, so that the sync and async twins cannot drift apart and
tests can check each decision without a server or a clock.
"""

from __future__ import annotations

import json
import math
import random
import time
from typing import TYPE_CHECKING, Any, Final

from langchain_grok._constants import MAX_DEFERRED_POLL_INTERVAL, MIN_DEFERRED_POLL_TIMEOUT
from langchain_grok.errors import (
    APIError,
    APIResponseValidationError,
    APIStatusError,
    DeferredTimeoutError,
    NotFoundError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "PollSchedule",
    "check_poll_settings",
    "check_seconds",
    "deferred_not_found",
    "deferred_params",
    "submitted_id",
]

# Each wait is drawn from the upper quarter below its step: clients started together spread
# out, and no wait is much shorter than the caller asked for.
_JITTER: Final = 0.25
_EXPIRY_HINT: Final = "a result can be fetched once, within 24 h of the request"


def check_seconds(name: str, value: object) -> float:
    """A positive, finite number of seconds, or a ValueError naming the parameter."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        msg = f"{name} must be a positive, finite number of seconds, got {value!r}"
        raise ValueError(msg)
    return float(value)


def check_poll_settings(
    poll_interval: object,
    timeout: object,
    *,
    names: tuple[str, str] = ("poll_interval", "timeout"),
) -> None:
    """Reject bad polling settings before a job is submitted (which would cost a completion).

    Args:
        poll_interval: The first wait between two polls.
        timeout: The overall deadline in seconds.
        names: How the caller spells the two parameters, for the message.

    Raises:
        ValueError: A setting is not a positive, finite number.
    """
    check_seconds(names[0], poll_interval)
    check_seconds(names[1], timeout)


def deferred_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The body parameters of a deferred submission; a deferred result cannot be streamed.

    Raises:
        ValueError: `stream=True` was passed.
    """
    if params.get("stream"):
        msg = (
            "stream=True cannot be combined with a deferred completion (its result is fetched "
            "whole when ready); remove stream"
        )
        raise ValueError(msg)
    return {**params, "deferred": True}


def submitted_id(payload: Any) -> str:
    """The `request_id` a deferred submission answers with; anything else breaks the protocol.

    A server or gateway that ignored `deferred` and sent the completion itself fails here,
    rather than being polled for a job that does not exist.
    """
    request_id = payload.get("request_id") if isinstance(payload, dict) else None
    if not isinstance(request_id, str) or not request_id:
        try:
            shown = json.dumps(payload)[:200]
        except (TypeError, ValueError, RecursionError):
            shown = type(payload).__name__
        msg = (
            'Expected {"request_id": "..."} in answer to a deferred request, got '
            f"{shown} (does this base_url support deferred completions?)"
        )
        raise APIResponseValidationError(msg, status_code=200, body=payload)
    return request_id


def deferred_not_found(request_id: str, error: APIStatusError) -> NotFoundError:
    """The 404 of a poll, reworded: the job is unknown, expired or already fetched.

    The server's own text is kept (and the status, body and `x-request-id`); the id is added
    because a caller of `deferred_chat_completion` never saw it.
    """
    message = (
        f"{error.message} (deferred completion {request_id!r} is unknown or expired: "
        f"{_EXPIRY_HINT})"
    )
    return NotFoundError(
        message,
        status_code=error.status_code,
        response=error.response,
        request_id=error.request_id,
        body=error.body,
        code=error.code,
    )


class PollSchedule:
    """When to poll one deferred job next, and when to stop waiting for it.

    The first wait is `poll_interval`; each next one doubles, up to
    `MAX_DEFERRED_POLL_INTERVAL` (or `poll_interval` if that is longer), with jitter. The last
    wait is cut short at the deadline, so the job gets one poll at the deadline before
    `DeferredTimeoutError` is raised.

    A poll that fails transiently (5xx, 429, a dropped connection: what the client's retry
    policy retries) after the client's own retries does not end the wait: the job is still on
    xAI's side, and the next poll may reach it. Any other failure ends it.
    """

    __slots__ = (
        "_clock",
        "_deadline",
        "_last_error",
        "_maximum",
        "_rand",
        "_step",
        "polls",
        "request_id",
        "timeout",
    )

    def __init__(
        self,
        request_id: str,
        *,
        poll_interval: float,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        """Start the clock for the job `request_id`.

        Raises:
            ValueError: `poll_interval` or `timeout` is not a positive, finite number.
        """
        check_poll_settings(poll_interval, timeout)
        self.request_id = request_id
        self.timeout = float(timeout)
        self.polls = 0
        self._step = float(poll_interval)
        self._maximum = max(self._step, MAX_DEFERRED_POLL_INTERVAL)
        self._clock = clock
        self._rand = rand
        self._deadline = clock() + self.timeout
        self._last_error: APIError | None = None

    def rides_out(self, error: APIError) -> bool:
        """Count a failed poll; True when waiting may go on (the failure was transient)."""
        self.polls += 1
        if not error.is_retryable:
            return False
        self._last_error = error
        return True

    def polled(self) -> None:
        """Count a poll that found the job still pending."""
        self.polls += 1
        self._last_error = None

    def poll_timeout(self) -> float:
        """Seconds a poll may take: the time left, but enough to answer the last poll.

        A hung poll must not hold the caller for the client's whole read timeout (600 s by
        default) past the deadline; the last poll happens at the deadline, hence the floor.
        """
        return max(self._deadline - self._clock(), MIN_DEFERRED_POLL_TIMEOUT)

    def next_wait(self) -> float:
        """Seconds to sleep before the next poll.

        Raises:
            DeferredTimeoutError: The deadline has passed; it carries the request id.
        """
        remaining = self._deadline - self._clock()
        if remaining <= 0:
            raise self.timed_out() from self._last_error
        wait = self._step * (1.0 - _JITTER * self._rand())
        self._step = min(self._step * 2.0, self._maximum)
        return min(wait, remaining)

    def timed_out(self) -> DeferredTimeoutError:
        """The error for a deadline that passed with the job still pending."""
        message = (
            f"Deferred completion {self.request_id!r} was not ready within {self.timeout:g} s "
            f"({self.polls} polls); {_EXPIRY_HINT}, so wait again with "
            f"wait_deferred_completion({self.request_id!r}) rather than sending it anew"
        )
        if self._last_error is not None:
            message += f"; the last poll failed: {self._last_error.message}"
        return DeferredTimeoutError(message, deferred_request_id=self.request_id)
