"""Prototypes of PROFILE.md proposals B, C, E and I, applied to ChatGrok in-process for measuring.

Nothing here is used by `make bench`. `applied()` swaps two module attributes of
langchain_grok for the duration of a `with` block (the library's files are not touched), so
`profiling.py` can time the same ChatGrok with and without the proposals, end to end:

- B (`FastEventParser`): when a network read is exactly one `data: {...}\\n\\n` event and the
  SSE decoder holds no partial state, decode it straight from bytes (one `json.loads`, no line
  splitting, no `ServerSentEvent`); everything else takes the full WHATWG decoder as today.
- C (`LeanChunkConverter`): a text-only delta (`{"content"}` or `{"content", "role"}`, no
  finish, usage or logprobs) becomes an `AIMessageChunk` without the empty containers, and with
  one id string shared by the whole stream; everything else goes through the current code.

- E (`cached_default_params`): `ChatGrok._default_params` computed once per instance instead of
  twice per call (once for `_plan`, once behind langchain-core's `model.dict()`).
- I (`URLCachingClient`): an `httpx.Client` that parses each URL string once; it stands for
  ChatGrok keeping a pre-parsed `httpx.URL` per endpoint instead of `base_url + path` strings.

They read private attributes of the current langchain_grok; if those change, `applied()`
raises and the experiment reports the failure instead of a number.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

import langchain_grok._client._base as client_base
from langchain_grok import chat_models
from langchain_grok._events import EventParser
from langchain_grok._outputs import ChunkConverter
from langchain_grok.errors import error_from_payload, is_error_payload

_TEXT_DELTA_KEYS = frozenset({"content", "role"})
_PLAIN_CHOICE_KEYS = frozenset({"index", "delta"})


class FastEventParser(EventParser):
    """Proposal B: a whole-event fast path in front of the SSE decoder."""

    def feed(self, chunk: bytes) -> Iterator[dict[str, Any]]:
        decoder = self._decoder
        if (
            not self._responses
            and decoder._started
            and not decoder._pending_cr
            and not decoder._line_parts
            and not decoder._data
            and chunk.startswith(b"data: ")
            and chunk.endswith(b"\n\n")
            and chunk.count(b"\n") == 2
            and b"\r" not in chunk
        ):
            data = chunk[6:-2]
            if data == b"[DONE]":
                self.done = True
                return
            try:
                payload = json.loads(data)
            except ValueError:  # not JSON, or not UTF-8: let the full path report it
                payload = None
            if isinstance(payload, dict):
                if is_error_payload(payload):
                    raise error_from_payload(payload, request_id=self.request_id)
                yield payload
                return
        yield from super().feed(chunk)


class LeanChunkConverter(ChunkConverter):
    """Proposal C: text-only deltas without empty containers, one id string per stream."""

    def __init__(self, *, provider_per_chunk: bool = True) -> None:
        super().__init__()
        self._id: str | None = None
        self._provider_per_chunk = provider_per_chunk

    def convert(self, payload: Mapping[str, Any]) -> ChatGenerationChunk | None:
        choices = payload.get("choices")
        if choices and len(choices) == 1 and "usage" not in payload:
            choice = choices[0]
            delta = choice.get("delta")
            if (
                isinstance(delta, dict)
                and choice.keys() <= _PLAIN_CHOICE_KEYS
                and delta.keys() <= _TEXT_DELTA_KEYS
            ):
                self._last_payload = payload
                content = delta.get("content")
                if not content:
                    return None
                chunk_id = payload.get("id")
                if chunk_id != self._id:
                    self._id = chunk_id
                if self._provider_per_chunk:
                    message = AIMessageChunk(
                        content=content, id=self._id, response_metadata={"model_provider": "xai"}
                    )
                else:
                    message = AIMessageChunk(content=content, id=self._id)
                return ChatGenerationChunk(message=message)
        return super().convert(payload)


@contextlib.contextmanager
def applied(*, sse_fast_path: bool = True, lean_chunks: bool = True) -> Iterator[None]:
    """Swap in the prototypes for the duration of the block."""
    saved = (client_base.EventParser, chat_models.ChunkConverter)
    if not hasattr(EventParser, "__slots__") or "_decoder" not in EventParser.__slots__:
        msg = "EventParser changed shape; proposal B prototype needs updating"
        raise RuntimeError(msg)
    try:
        if sse_fast_path:
            client_base.EventParser = FastEventParser  # type: ignore[misc]
        if lean_chunks:
            chat_models.ChunkConverter = LeanChunkConverter  # type: ignore[misc]
        yield
    finally:
        client_base.EventParser, chat_models.ChunkConverter = saved  # type: ignore[misc]


class URLCachingClient(httpx.Client):
    """Proposal I: parse each URL string once (httpx re-parses and re-validates it per call)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._parsed: dict[str, httpx.URL] = {}

    def build_request(self, method: str, url: Any, **kwargs: Any) -> httpx.Request:
        if isinstance(url, str):
            parsed = self._parsed.get(url)
            if parsed is None:
                parsed = self._parsed[url] = httpx.URL(url)
            url = parsed
        return super().build_request(method, url, **kwargs)


@contextlib.contextmanager
def cached_default_params() -> Iterator[None]:
    """Proposal E: compute `ChatGrok._default_params` once per instance."""
    original = chat_models.ChatGrok._default_params
    cache: dict[
        int, tuple[Any, dict[str, Any]]
    ] = {}  # id -> (model, params); models are unhashable

    def cached(self: Any) -> dict[str, Any]:
        entry = cache.get(id(self))
        if entry is None or entry[0] is not self:
            entry = cache[id(self)] = (self, original.fget(self))  # type: ignore[attr-defined]
        return dict(entry[1])

    chat_models.ChatGrok._default_params = property(cached)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        chat_models.ChatGrok._default_params = original  # type: ignore[method-assign]
