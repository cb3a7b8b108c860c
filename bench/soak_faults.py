"""The soak's fault catalogue and its oracle: what each scripted reply must do to one request.

Pure (no I/O), so the verdict on every call is computed, not guessed: the emulator hands out
scripted replies in arrival order, the soak reads back which request got which reply, and
`predict` replays the client's retry policy over those replies to say exactly how the call must
end (its text, or its error class) and after how many attempts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from langchain_grok.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    BadRequestError,
    GrokError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
)
from langchain_grok.testing import ScriptedReply, error_reply, in_band_error_reply

if TYPE_CHECKING:
    import random

# Words of the scripted answers; each reply also carries its own serial number, so a reply that
# reached the wrong call (or twice) cannot go unnoticed.
_WORDS: Final = (
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "xray",
    "yankee",
    "zulu",
)

# Faults and their weights; "ok" is drawn with probability 1 - fault_rate.
FAULT_WEIGHTS: Final[dict[str, int]] = {
    "rate_limit_ms": 14,  # 429 + retry-after-ms: retried after a few milliseconds
    "rate_limit_s": 4,  # 429 + retry-after: 0 (seconds form)
    "quota": 2,  # 429 "credits exhausted": never retried
    "server_error": 12,  # 500/502/503/504, mostly with retry-after-ms
    "client_error": 3,  # 400 / 404: never retried
    "reset_before_headers": 8,  # stream: headers, then the connection drops before any event
    "timeout_before_headers": 4,  # no status line within the read timeout
    "cut_mid_stream": 10,  # stream: connection dropped after k events
    "stall_mid_stream": 4,  # stream: silence between two events beyond the read timeout
    "malformed_frame": 8,  # stream: event k is `data: {not json`
    "error_frame": 10,  # stream: an error frame at event k
    "in_band_error": 10,  # HTTP 200 with a `{code, error}` body
    "bad_json": 3,  # HTTP 200, application/json, truncated body
}


@dataclass(frozen=True)
class Planned:
    """One scripted reply, and what the oracle needs to know about it."""

    serial: int
    kind: str
    reply: ScriptedReply
    text: str  # the answer a successful request must yield, exactly
    events: int  # how many SSE events the emulator renders for it on a stream request
    at: int | None = None  # event position of a cut, malformed frame or error frame
    error_status: int | None = None  # status an error frame or status reply stands for


# What a fault builder returns: the reply, the event position it acts at, the status it means.
Built: TypeAlias = tuple[ScriptedReply, int | None, int | None]


@dataclass(frozen=True)
class Attempt:
    """What one reply does to one request."""

    ok: bool
    error: type[GrokError] | None = None
    retryable: bool = False  # failed before any event reached the caller, and may be retried


@dataclass(frozen=True)
class Verdict:
    """How a call must end."""

    ok: bool
    text: str | None
    error: type[GrokError] | None
    attempts: int
    complete: bool  # False: the call stopped retrying although the policy says it would retry


def stream_event_count(reasoning_words: int, content_words: int, chunk_words: int) -> int:
    """SSE events for an answer: deltas, the finish chunk, the usage chunk, `[DONE]`.

    The emulator groups `chunk_words` whitespace tokens per delta, reasoning first; the role
    rides on the first delta. `soak.py` checks this count against the emulator once at start.
    """
    deltas = math.ceil(reasoning_words / chunk_words) + math.ceil(content_words / chunk_words)
    return max(deltas, 1) + 3


class Planner:
    """Draws the scripted replies of a run from a seeded random generator."""

    def __init__(self, rng: random.Random, *, fault_rate: float, stall: float) -> None:
        self.rng = rng
        self.fault_rate = fault_rate
        self.stall = stall
        self._kinds = list(FAULT_WEIGHTS)
        self._answer_fields: dict[str, Any] = {}
        self._events = 0
        self._weights = list(FAULT_WEIGHTS.values())

    def plan(self, serial: int) -> Planned:
        kind = "ok"
        if self.rng.random() < self.fault_rate:
            kind = self.rng.choices(self._kinds, self._weights)[0]
        return self._build(serial, kind)

    def _answer(self, serial: int) -> tuple[str, str, int, int]:
        rng = self.rng
        content = " ".join([f"r{serial}", *rng.choices(_WORDS, k=rng.randint(3, 14))])
        reasoning = "" if rng.random() < 0.5 else " ".join(rng.choices(_WORDS, k=rng.randint(1, 4)))
        chunk_words = rng.randint(1, 3)
        events = stream_event_count(len(reasoning.split()), len(content.split()), chunk_words)
        return content, reasoning, chunk_words, events

    def _build(self, serial: int, kind: str) -> Planned:
        text, reasoning, chunk_words, events = self._answer(serial)
        self._answer_fields = {
            "content": text,
            "reasoning_content": reasoning,
            "chunk_words": chunk_words,
        }
        self._events = events
        reply, at, status = getattr(self, f"_{kind}")()
        return Planned(serial, kind, reply, text, events, at, status)

    def _fast(self) -> dict[str, str]:
        return {"retry-after-ms": str(self.rng.randint(1, 20))}

    def _ok(self) -> Built:
        return ScriptedReply(**self._answer_fields), None, None

    def _rate_limit_ms(self) -> Built:
        return error_reply(429, "Rate limit reached; slow down", headers=self._fast()), None, 429

    def _rate_limit_s(self) -> Built:
        return error_reply(429, "Too many requests", headers={"retry-after": "0"}), None, 429

    def _quota(self) -> Built:
        message = "Your team has used all available credits or reached its spending limit"
        return error_reply(429, message, headers=self._fast()), None, 429

    def _server_error(self) -> Built:
        status = self.rng.choice([500, 502, 503, 504])
        headers = self._fast() if self.rng.random() < 0.8 else {}  # else: our own backoff
        return error_reply(status, "upstream failed", headers=headers), None, status

    def _client_error(self) -> Built:
        status = self.rng.choice([400, 404])
        return error_reply(status, "refused"), None, status

    def _reset_before_headers(self) -> Built:
        return ScriptedReply(**self._answer_fields, cut_after_events=0), 0, None

    def _timeout_before_headers(self) -> Built:
        return ScriptedReply(**self._answer_fields, delay=self.stall), None, None

    def _cut_mid_stream(self) -> Built:
        at = self.rng.randint(1, self._events - 1)  # at least one event out, [DONE] never
        return ScriptedReply(**self._answer_fields, cut_after_events=at), at, None

    def _stall_mid_stream(self) -> Built:
        return ScriptedReply(**self._answer_fields, event_delay=self.stall), 1, None

    def _malformed_frame(self) -> Built:
        at = self.rng.randint(0, self._events - 1)
        return ScriptedReply(**self._answer_fields, malformed_at_event=at), at, None

    def _error_frame(self) -> Built:
        at = self.rng.randint(0, self._events - 1)
        code, status = self.rng.choice(
            [
                ("The service is currently unavailable", 503),
                ("Some resource has been exhausted", 429),
                ("Client specified an invalid argument", 400),
            ]
        )
        frame = {"code": code, "error": "failure reported mid-stream"}
        return (
            ScriptedReply(**self._answer_fields, error_event_at=at, error_event=frame),
            at,
            status,
        )

    def _in_band_error(self) -> Built:
        return in_band_error_reply("Timed out waiting for first token"), None, 503

    def _bad_json(self) -> Built:
        body = b'{"id": "x", "choices": ['
        return ScriptedReply(raw_body=body, content_type="application/json"), None, None


_STATUS_ERRORS: Final[dict[int, type[GrokError]]] = {
    400: BadRequestError,
    404: NotFoundError,
    429: RateLimitError,
    500: InternalServerError,
    502: InternalServerError,
    503: InternalServerError,
    504: InternalServerError,
}
_RETRYABLE_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


# Faults that act on any request, and faults that only exist in an event stream (a plain
# request gets the scripted answer): kind -> (error, may be retried).
_ANY_REQUEST: Final[dict[str, tuple[type[GrokError], bool]]] = {
    "quota": (RateLimitError, False),  # credits exhausted: retrying cannot help
    "bad_json": (APIResponseValidationError, False),
    "timeout_before_headers": (APITimeoutError, True),
}
_STREAM_ONLY: Final[dict[str, tuple[type[GrokError], bool]]] = {
    "reset_before_headers": (APIConnectionError, True),  # no event reached the caller yet
    "cut_mid_stream": (APIConnectionError, False),  # events did: never retried
    "stall_mid_stream": (APITimeoutError, False),
    "malformed_frame": (APIResponseValidationError, False),
}


def attempt(planned: Planned, *, stream: bool) -> Attempt:
    """What `planned` does to one request (the transport rules of design.md section 3)."""
    kind = planned.kind
    if kind == "ok" or (not stream and kind in (*_STREAM_ONLY, "error_frame")):
        return Attempt(ok=True)
    if kind in _ANY_REQUEST or kind in _STREAM_ONLY:
        error, retryable = {**_ANY_REQUEST, **_STREAM_ONLY}[kind]
        return Attempt(ok=False, error=error, retryable=retryable)
    status = planned.error_status or 500
    retryable = status in _RETRYABLE_STATUSES
    if kind == "error_frame":
        # Only a frame before any event may be retried: nothing has reached the caller.
        retryable = retryable and planned.at == 0
    return Attempt(ok=False, error=_STATUS_ERRORS[status], retryable=retryable)


def predict(replies: list[Planned], *, stream: bool, max_retries: int) -> Verdict:
    """Replay the retry policy over the replies a call actually received, in order."""
    for index, planned in enumerate(replies):
        result = attempt(planned, stream=stream)
        if result.ok:
            return Verdict(
                ok=True, text=planned.text, error=None, attempts=index + 1, complete=True
            )
        if not (result.retryable and index < max_retries):
            return Verdict(
                ok=False, text=None, error=result.error, attempts=index + 1, complete=True
            )
    return Verdict(ok=False, text=None, error=None, attempts=len(replies), complete=False)
