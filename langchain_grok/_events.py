"""Bytes of an xAI event stream in, decoded JSON events out (pure, no I/O).

Shared by the sync and async clients; it raises instead of returning when the stream breaks its
protocol, so that a truncated or corrupt stream can never be mistaken for a finished answer.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from langchain_grok._sse import SSEDecodeError, SSEDecoder
from langchain_grok.errors import (
    APIConnectionError,
    APIResponseValidationError,
    error_from_payload,
    is_error_payload,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["EventParser"]

_DONE: Final = "[DONE]"
# Responses streams have no [DONE]: one of these events is the last.
_RESPONSES_TERMINAL: Final = frozenset(
    {"response.completed", "response.incomplete", "response.done"}
)


class EventParser:
    """Bytes of an event stream in, decoded JSON events out (no I/O).

    Chat Completions streams end with `data: [DONE]`; Responses streams end with a
    `response.completed` (or `.incomplete`) event and report failures as `error` or
    `response.failed` events. Either way the parser raises instead of returning when the stream
    breaks its protocol: a frame that is not JSON, an error frame, or a body that ends before its
    terminal event (a cut stream must never look like a finished answer). Unknown event types
    pass through for the caller to ignore.
    """

    __slots__ = ("_decoder", "_responses", "done", "request_id", "status_code")

    def __init__(
        self, *, status_code: int, request_id: str | None, responses: bool = False
    ) -> None:
        self._decoder = SSEDecoder()
        self._responses = responses
        self.done = False
        self.status_code = status_code
        self.request_id = request_id

    def feed(self, chunk: bytes) -> Iterator[dict[str, Any]]:
        data = self._decoder.single_data(chunk)
        if data is not None:  # one whole event per read: the common case, decoded directly
            payload = self._decode(data)
            if payload is not None:
                yield payload
            return
        try:
            events = self._decoder.feed(chunk)
        except SSEDecodeError as exc:
            raise self._invalid(str(exc)) from exc
        for event in events:
            payload = self._decode(event.data)
            if payload is not None:
                yield payload
            if self.done:
                return

    def finish(self) -> Iterator[dict[str, Any]]:
        try:
            events = self._decoder.flush()
        except SSEDecodeError as exc:
            raise self._invalid(str(exc)) from exc
        for event in events:
            payload = self._decode(event.data)
            if payload is not None:
                yield payload
            if self.done:
                return
        end = "response.completed" if self._responses else "[DONE]"
        msg = f"The event stream ended before {end}: the answer is incomplete"
        raise APIConnectionError(msg, request_id=self.request_id)

    def _decode(self, data: str) -> dict[str, Any] | None:
        """The event's payload (None for `[DONE]`); raises for error frames and non-JSON.

        A plain function, not a generator: it runs once per event, and each generator layer
        costs a frame per event.
        """
        if data == _DONE:
            self.done = True
            return None
        try:
            payload = json.loads(data)
        except (ValueError, RecursionError) as exc:  # a deeply nested frame overflows the stack
            msg = f"Malformed JSON in stream event: {data[:200]!r}"
            raise self._invalid(msg) from exc
        if not isinstance(payload, dict):
            msg = f"Stream event is not a JSON object: {data[:200]!r}"
            raise self._invalid(msg)
        if self._responses:
            self._check_responses_event(payload)
        elif is_error_payload(payload):
            raise error_from_payload(payload, request_id=self.request_id)
        return payload

    def _check_responses_event(self, payload: dict[str, Any]) -> None:
        kind = payload.get("type")
        if kind == "error":
            raise error_from_payload(payload, request_id=self.request_id)
        if kind == "response.failed":
            # A hostile or broken server may send anything here: only objects are read.
            response = payload.get("response")
            error = response.get("error") if isinstance(response, dict) else None
            if not isinstance(error, dict):
                error = {"message": str(error) if error else "response.failed without details"}
            raise error_from_payload(error, request_id=self.request_id)
        if kind in _RESPONSES_TERMINAL:
            self.done = True  # the terminal event itself is still returned

    def _invalid(self, message: str) -> APIResponseValidationError:
        return APIResponseValidationError(
            message, status_code=self.status_code, request_id=self.request_id
        )
