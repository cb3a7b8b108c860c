"""Put replies on the wire: headers, delays, SSE pacing and deliberate breakage.

This is where a `ScriptedReply`'s transport options take effect (delay before the status line,
pause between events, a malformed frame, an error frame, a cut connection), so that `_chat`
stays a pure description of *what* is said and `_http` a plain HTTP/1.1 writer.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from langchain_grok.testing._chat import build_answer, completion_body, stream_events
from langchain_grok.testing._records import COMPLETED, CUT, Outcome
from langchain_grok.testing._schema_values import SchemaError
from langchain_grok.testing._script import error_body
from langchain_grok.testing._validate import Rejection

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from langchain_grok.testing._http import ResponseWriter
    from langchain_grok.testing._script import ScriptedReply

RATE_LIMIT_REQUESTS: Final = "1800"
RATE_LIMIT_TOKENS: Final = "10000000"
MALFORMED_EVENT: Final = b"data: {not json\n\n"
DEFAULT_ERROR_EVENT: Final[dict[str, Any]] = {
    "code": "Internal error",
    "error": "The stream was interrupted by a server error",
}
_JSON: Final = "application/json"
_SSE: Final = "text/event-stream"
_ERROR_STATUS: Final = 400
_EVENT_LINE: Final = b"event:"
# One SSE event = everything up to and including the blank line that ends it; a trailing
# remainder without a blank line is kept as a last "event" so replays stay byte-exact.
_SSE_EVENT: Final = re.compile(rb".*?(?:\r\n\r\n|\n\n|\r\r)|.+", re.DOTALL)


@dataclass(frozen=True)
class SSEFraming:
    """How an endpoint frames the two events a reply can break a stream with.

    Chat Completions streams are data-only (`data: ...`); Responses streams put an `event:`
    line before each `data:` line, so their broken frames must keep that shape to test the
    right parser path.

    Attributes:
        error: Frames the error event from the scripted payload (None = the default payload).
        malformed: Turns the event it replaces into a frame whose JSON does not parse.
    """

    error: Callable[[Mapping[str, Any] | None], bytes]
    malformed: Callable[[bytes], bytes]


def _chat_error_frame(payload: Mapping[str, Any] | None) -> bytes:
    data = json.dumps(
        payload if payload is not None else DEFAULT_ERROR_EVENT,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return f"data: {data}\n\n".encode()


def _chat_malformed(_original: bytes) -> bytes:
    return MALFORMED_EVENT


def keep_event_line_malformed(original: bytes) -> bytes:
    """A malformed frame that keeps the `event:` line of the event it replaces, if any."""
    first = original.split(b"\n", 1)[0]
    return (first + b"\n" if first.startswith(_EVENT_LINE) else b"") + MALFORMED_EVENT


CHAT_FRAMING: Final = SSEFraming(error=_chat_error_frame, malformed=_chat_malformed)


def success_headers(*, stream: bool) -> dict[str, str]:
    """Headers of a successful completion, as the 2026 recordings show them.

    Error responses get none of these (no `x-request-id`, no rate-limit headers), like xAI's.
    """
    headers = {"content-type": _SSE if stream else _JSON}
    if stream:
        headers["cache-control"] = "no-cache"
    headers.update(
        {
            "x-ratelimit-limit-tokens": RATE_LIMIT_TOKENS,
            "x-ratelimit-remaining-tokens": RATE_LIMIT_TOKENS,
            "x-zero-data-retention": "false",
            "x-ratelimit-limit-requests": RATE_LIMIT_REQUESTS,
            "x-ratelimit-remaining-requests": RATE_LIMIT_REQUESTS,
            "x-request-id": str(uuid.uuid4()),
        }
    )
    return headers


def merge_headers(base: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """Overlay `extra` on `base`, case-insensitively, keeping `base`'s order."""
    merged = {name.lower(): value for name, value in base.items()}
    merged.update({name.lower(): value for name, value in extra.items()})
    return merged


def split_sse_events(raw: bytes) -> list[bytes]:
    """Split a recorded SSE body on blank-line boundaries; joining the parts gives `raw` back."""
    return [m.group() for m in _SSE_EVENT.finditer(raw)]


async def send_json(
    response: ResponseWriter, status: int, body: Any, headers: Mapping[str, str] | None = None
) -> Outcome:
    """Send a JSON body with a Content-Length."""
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    await response.send(status, merge_headers({"content-type": _JSON}, headers or {}), data)
    return COMPLETED


async def send_rejection(
    response: ResponseWriter, rejection: Rejection, headers: Mapping[str, str] | None = None
) -> Outcome:
    """Send a validation failure as xAI's `{code, error}` body."""
    body = error_body(rejection.status, rejection.message)
    return await send_json(response, rejection.status, body, headers)


async def send_chat_reply(
    response: ResponseWriter, payload: Mapping[str, Any], reply: ScriptedReply
) -> Outcome:
    """Answer a validated chat-completions request with `reply` (all defaults = default answer).

    Args:
        response: Where to write.
        payload: The decoded request body.
        reply: The scripted reply, or an all-default one.

    Returns:
        How the response ended (`"completed"`, or `"cut"` for `cut_after_events`).
    """
    outcome = await send_fixed_reply(response, reply, CHAT_FRAMING)
    if outcome is not None:
        return outcome
    try:
        answer = build_answer(payload, reply)
    except SchemaError as exc:  # the real API rejects unsatisfiable schemas up front
        return await send_rejection(response, Rejection(400, f"Invalid JSON schema: {exc}"))
    if payload.get("stream") is not True:
        headers = merge_headers(success_headers(stream=False), reply.headers)
        return await send_json(response, reply.status, completion_body(answer), headers)
    options = payload.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    events = stream_events(answer, include_usage=include_usage, chunk_words=reply.chunk_words)
    headers = merge_headers(success_headers(stream=True), reply.headers)
    return await send_events(response, reply, headers, events)


async def send_fixed_reply(
    response: ResponseWriter, reply: ScriptedReply, framing: SSEFraming
) -> Outcome | None:
    """Wait the reply's `delay`, then send what it fixes whatever the request says.

    That is a verbatim `body`, a `raw_body`, or an error `status` (>= 400) with a `{code,
    error}` body; both endpoints share this so every fault option works on both.

    Args:
        response: Where to write.
        reply: The scripted reply.
        framing: The endpoint's SSE framing, for a raw SSE replay's breakage options.

    Returns:
        How the response ended, or None when the reply is to be rendered from the request.
    """
    if reply.delay:
        await asyncio.sleep(reply.delay)
    if reply.body is not None:
        return await send_json(response, reply.status, reply.body, reply.headers)
    if reply.raw_body is not None:
        return await _send_raw(response, reply, reply.raw_body, framing)
    if reply.status >= _ERROR_STATUS:
        body = error_body(reply.status, reply.content or _phrase(reply.status))
        return await send_json(response, reply.status, body, reply.headers)
    return None


async def send_events(
    response: ResponseWriter,
    reply: ScriptedReply,
    headers: Mapping[str, str],
    events: list[bytes],
    framing: SSEFraming = CHAT_FRAMING,
) -> Outcome:
    """Stream events one chunk each, applying the reply's breakage options in a fixed order.

    Malformed frame first (it replaces an event), then the error frame (it truncates the stream
    after itself), then the cut (it drops the connection after N events, whatever they are).

    Returns:
        `"cut"` when the connection was dropped on purpose, else `"completed"`.
    """
    events = list(events)
    if reply.malformed_at_event is not None and reply.malformed_at_event < len(events):
        events[reply.malformed_at_event] = framing.malformed(events[reply.malformed_at_event])
    if reply.error_event_at is not None:
        events = [*events[: reply.error_event_at], framing.error(reply.error_event)]
    if reply.cut_after_events is not None:
        events = events[: reply.cut_after_events]
    await response.start_stream(reply.status, headers)
    for index, event in enumerate(events):
        if index and reply.event_delay:
            await asyncio.sleep(reply.event_delay)
        await response.send_chunk(event)
    if reply.cut_after_events is not None:
        response.abort()
        return CUT
    await response.end_stream()
    return COMPLETED


async def _send_raw(
    response: ResponseWriter, reply: ScriptedReply, raw: bytes, framing: SSEFraming
) -> Outcome:
    content_type = reply.content_type or "application/octet-stream"
    if content_type.split(";", 1)[0].strip().lower() == _SSE:
        base = success_headers(stream=True) if reply.status < _ERROR_STATUS else {}
        headers = merge_headers({**base, "content-type": content_type}, reply.headers)
        return await send_events(response, reply, headers, split_sse_events(raw), framing)
    headers = merge_headers({"content-type": content_type}, reply.headers)
    await response.send(reply.status, headers, raw)
    return COMPLETED


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
