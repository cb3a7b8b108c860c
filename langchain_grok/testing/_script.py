"""Scripted replies: what the emulator should answer to the next model requests.

A test describes the *reply* it needs (a text, a tool call, a web search with citations, a 429
with `retry-after`, a stream that breaks after three events) and lets the emulator render it in
the exact wire shape of the real API, for a streaming or a non-streaming request alike, on Chat
Completions or on the Responses API: one queue serves both endpoints in arrival order. Fields
left at their default fall back to the emulator's deterministic default answer, so a reply only
states what the test is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

# xAI puts the gRPC status description (as worded by the Rust `tonic` crate) in `code`; the
# recordings confirm 400, 404 and the overload text, the others follow the same table.
_GRPC_TEXT: Final[dict[int, str]] = {
    400: "Client specified an invalid argument",
    401: "The request does not have valid authentication credentials",
    403: "permission-denied",
    404: "Some requested entity was not found",
    405: "Operation is not implemented or not supported",
    408: "Deadline expired before operation could complete",
    409: "The operation was aborted",
    410: "Operation is not implemented or not supported",
    413: "Some resource has been exhausted",
    415: "Client specified an invalid argument",
    422: "Client specified an invalid argument",
    429: "Some resource has been exhausted",
    500: "Internal error",
    501: "Operation is not implemented or not supported",
    502: "The service is currently unavailable",
    503: "The service is currently unavailable",
    504: "Deadline expired before operation could complete",
}
_SERVER_ERROR: Final = 500
_MIN_STATUS: Final = 200
_MAX_STATUS: Final = 599

OVERLOADED_MESSAGE: Final = "The service is currently unavailable"
# Server-side tool kinds a reply can script; `code_execution` is xAI's alias of code_interpreter.
SERVER_TOOL_KINDS: Final = frozenset(
    {"web_search", "x_search", "code_interpreter", "code_execution"}
)


def grpc_code_text(status: int) -> str:
    """Return the `code` text xAI sends with an HTTP error status.

    Args:
        status: The HTTP status code.

    Returns:
        The gRPC-style description; unknown 4xx map to invalid-argument, unknown 5xx to
        internal error, because that is how a gateway in front of gRPC degrades.
    """
    if status in _GRPC_TEXT:
        return _GRPC_TEXT[status]
    return _GRPC_TEXT[_SERVER_ERROR] if status >= _SERVER_ERROR else _GRPC_TEXT[400]


def error_body(status: int, message: str, *, code: str | None = None) -> dict[str, str]:
    """Build the `{code, error}` body every recorded xAI error has.

    Args:
        status: HTTP status, used to pick the default `code`.
        message: Human-readable `error` text.
        code: Override for `code` (e.g. the kebab-case `"invalid-argument"` of newer endpoints).

    Returns:
        The body, keys in wire order.
    """
    return {"code": code if code is not None else grpc_code_text(status), "error": message}


@dataclass(frozen=True, kw_only=True)
class ScriptedReply:
    """One reply (or `repeat` identical replies) for the next model request(s).

    Rendering follows the request: a `stream: true` request gets SSE events, any other gets one
    JSON object (`chat.completion` on Chat Completions, a `response` on the Responses API).
    `body` and `raw_body` bypass rendering and are sent verbatim. Fields marked "Responses only"
    are ignored on Chat Completions, `finish_reason` is ignored on Responses.

    Attributes:
        content: Visible answer text; None keeps the default answer (echo, JSON, forced tool).
        reasoning_content: Reasoning summary; None keeps the default (a one-line summary on
            reasoning models, nothing on others); `""` sends none.
        tool_calls: Calls to return, each `{"name", "arguments": dict | str, "id"?}`; when set,
            `content` defaults to `""` and `finish_reason` to `"tool_calls"`. On Responses they
            become `function_call` items and `id` is their `call_id`.
        finish_reason: Override; default `"stop"`, or `"tool_calls"` with tool calls.
        usage: Replaces the whole computed usage object.
        model: Model name to echo; default the requested one.
        status: HTTP status. A status >= 400 with no `body` sends a `{code, error}` body whose
            `error` is `content` (or a generic text).
        headers: Extra or overriding response headers (names are case-insensitive).
        body: JSON value sent verbatim with `status` (error bodies, in-band errors, anything).
        raw_body: Bytes sent verbatim; with `content_type="text/event-stream"` they are
            streamed as one chunk per SSE event, so the event options below still apply.
        content_type: Content-Type for `raw_body` (default `application/octet-stream`).
        delay: Seconds to wait before the status line (to trip a client read timeout).
        event_delay: Seconds between two SSE events.
        chunk_words: Whitespace-delimited tokens per content / reasoning delta.
        cut_after_events: Send this many events, then drop the TCP connection without the
            terminating chunk, so the client sees a broken stream.
        malformed_at_event: Replace event N (0-based) with `data: {not json`.
        error_event_at: Emit `error_event` as event N, then end the stream (no `[DONE]`).
        error_event: The mid-stream error payload; default an xAI-style `{code, error}` on chat
            and `{"type": "error", "code", "message"}` (framed `event: error`) on Responses.
            With `failed`, it is the failed response's `error` object instead.
        repeat: How many consecutive requests this reply answers.
        server_tool_calls: Responses only. Server-side tool calls to report before the answer,
            each `{"type": "web_search" | "x_search" | "code_interpreter", "query": str,
            "sources": [url, ...]?}` (`"code"` instead of `"query"` for code_interpreter). A call
            is emitted only when the request's `tools` declare that tool, as the real model can
            only run tools it was given.
        citations: Responses only. `url_citation` annotations, each `{"url", "title"?}`; the
            k-th citation's `[[n]](url)` marker goes after the k-th sentence of the text (the
            rest after the last one); `start_index`/`end_index` are Python `str` indices (code
            points) of the marker. Dropped unless the request declares web or X search.
        incomplete_reason: Responses only. Ends the response `status: "incomplete"` with
            `incomplete_details: {"reason": ...}` (e.g. `"max_output_tokens"`).
        failed: Responses only. Ends the response `status: "failed"` with an `error` object
            (a stream ends with `response.failed` instead of `response.completed`).
    """

    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    model: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    raw_body: bytes | None = None
    content_type: str | None = None
    delay: float = 0.0
    event_delay: float = 0.0
    chunk_words: int = 1
    cut_after_events: int | None = None
    malformed_at_event: int | None = None
    error_event_at: int | None = None
    error_event: dict[str, Any] | None = None
    repeat: int = 1
    server_tool_calls: list[dict[str, Any]] | None = None
    citations: list[dict[str, Any]] | None = None
    incomplete_reason: str | None = None
    failed: bool = False

    def __post_init__(self) -> None:
        """Reject replies that could not be sent, at the line of the test that wrote them."""
        self._check_numbers()
        if self.body is not None and self.raw_body is not None:
            msg = "set at most one of body and raw_body"
            raise ValueError(msg)
        for name, value in self.headers.items():
            if not _is_header_safe(name, value):
                msg = f"invalid response header {name!r}: {value!r}"
                raise ValueError(msg)
        for call in self.tool_calls or []:
            if not isinstance(call.get("name"), str):
                msg = f"each tool call needs a string 'name', got {call!r}"
                raise TypeError(msg)
        for server_call in self.server_tool_calls or []:
            _check_server_call(server_call)
        for citation in self.citations or []:
            if not isinstance(citation.get("url"), str) or not isinstance(
                citation.get("title"), str | None
            ):
                msg = (
                    f"each citation needs a string 'url' and an optional 'title', got {citation!r}"
                )
                raise TypeError(msg)
        if self.failed and self.incomplete_reason is not None:
            msg = "a reply cannot both fail and be incomplete"
            raise ValueError(msg)

    def _check_numbers(self) -> None:
        if not _MIN_STATUS <= self.status <= _MAX_STATUS:
            msg = f"status must be within 200..599, got {self.status}"
            raise ValueError(msg)
        if self.repeat < 1 or self.chunk_words < 1:
            msg = "repeat and chunk_words must be >= 1"
            raise ValueError(msg)
        if self.delay < 0 or self.event_delay < 0:
            msg = "delay and event_delay must be >= 0"
            raise ValueError(msg)
        for index in (self.cut_after_events, self.malformed_at_event, self.error_event_at):
            if index is not None and index < 0:
                msg = "event positions must be >= 0"
                raise ValueError(msg)


def _check_server_call(call: dict[str, Any]) -> None:
    """A scripted server tool call must name a known tool and carry the text it ran."""
    kind = call.get("type")
    if kind not in SERVER_TOOL_KINDS:
        msg = f"server tool call type must be one of {sorted(SERVER_TOOL_KINDS)}, got {kind!r}"
        raise ValueError(msg)
    key = "code" if kind in {"code_interpreter", "code_execution"} else "query"
    text = call.get(key, call.get("query"))
    sources = call.get("sources", [])
    if not isinstance(text, str) or not (
        isinstance(sources, list) and all(isinstance(url, str) for url in sources)
    ):
        msg = f"a {kind} call needs a string {key!r} and a list of URL strings, got {call!r}"
        raise TypeError(msg)


def _is_header_safe(name: str, value: str) -> bool:
    """A header must fit one latin-1 line: no CR/LF injection, no characters HTTP cannot carry."""
    text = name + value
    if not name.strip() or ":" in name or "\r" in text or "\n" in text:
        return False
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def text_reply(text: str, **kwargs: Any) -> ScriptedReply:
    """Reply with a visible answer.

    Args:
        text: The answer (streamed one whitespace token per delta by default).
        **kwargs: Any other `ScriptedReply` field.

    Returns:
        The reply.
    """
    return ScriptedReply(content=text, **kwargs)


def tool_call_reply(name: str, arguments: dict[str, Any] | str, **kwargs: Any) -> ScriptedReply:
    """Reply with one tool call (for several, pass `tool_calls=` to `ScriptedReply`).

    Args:
        name: The function name.
        arguments: Arguments as a dict (sent as compact JSON) or a string sent verbatim, which
            lets a test send arguments that are not valid JSON.
        **kwargs: Any other `ScriptedReply` field.

    Returns:
        The reply.
    """
    return ScriptedReply(tool_calls=[{"name": name, "arguments": arguments}], **kwargs)


def web_search_reply(text: str, *, query: str, sources: list[str], **kwargs: Any) -> ScriptedReply:
    """Reply on the Responses API after one web search that found `sources`, citing each.

    The request must declare `{"type": "web_search"}` in `tools`, else no search is reported.

    Args:
        text: The answer before citation markers are added.
        query: The search query the `web_search_call` item reports.
        sources: URLs found; each is cited once, in order (override with `citations=`).
        **kwargs: Any other `ScriptedReply` field.

    Returns:
        The reply.
    """
    kwargs.setdefault("citations", [{"url": url, "title": None} for url in sources])
    call = {"type": "web_search", "query": query, "sources": list(sources)}
    return ScriptedReply(content=text, server_tool_calls=[call], **kwargs)


def error_reply(
    status: int,
    message: str,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
    repeat: int = 1,
) -> ScriptedReply:
    """Reply with an HTTP error in xAI's `{code, error}` shape, with no `x-request-id`.

    Args:
        status: HTTP status, e.g. 429 or 503.
        message: The `error` text (a 429 whose text mentions credits is not worth retrying).
        code: Override for `code`; default the gRPC text for `status`.
        headers: Extra headers, e.g. `{"retry-after": "1"}`.
        repeat: How many consecutive requests get this error (retries included).

    Returns:
        The reply.
    """
    return ScriptedReply(
        status=status,
        body=error_body(status, message, code=code),
        headers=dict(headers or {}),
        repeat=repeat,
    )


def in_band_error_reply(
    message: str = "Timed out waiting for first token",
    *,
    code: str = OVERLOADED_MESSAGE,
    repeat: int = 1,
) -> ScriptedReply:
    """Reply HTTP 200 with a JSON `{code, error}` body, even to a streaming request.

    This is how xAI reports overload; a client that trusts the status (or parses SSE without
    checking the content type) turns it into an empty answer instead of retrying.

    Args:
        message: The `error` text.
        code: The `code` text.
        repeat: How many consecutive requests get it.

    Returns:
        The reply.
    """
    return ScriptedReply(status=200, body={"code": code, "error": message}, repeat=repeat)
