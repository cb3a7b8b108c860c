"""Responses API stream events -> `ChatGenerationChunk`s, with the stream's state (pure).

Text and reasoning arrive as deltas and are passed on as they come; function calls become
`tool_call_chunks` keyed by their output index; server-side tool calls (which xAI emits
complete) become `server_tool_call` / `server_tool_result` content blocks, never tool calls.
The closing chunk carries what only the final `response.completed` event knows: usage, cost,
the finish reason, the cited URLs and the raw output items to replay. (Citation annotations on
text blocks need the whole text, so only invoke attaches them; a stream has the URL list in
`additional_kwargs["citations"]`.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk

from langchain_grok._outputs import PROVIDER
from langchain_grok._responses import (
    RAW_OUTPUT_KEY,
    SERVER_CALL_ITEMS,
    response_to_message,
    server_call_blocks,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ResponsesChunkConverter"]

_REASONING_DELTAS = frozenset(
    {"response.reasoning_summary_text.delta", "response.reasoning_text.delta"}
)
_FINAL = frozenset({"response.completed", "response.incomplete", "response.done"})
_TOOL_EVENTS = frozenset(
    {
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
    }
)


class ResponsesChunkConverter:
    """Converts the events of one Responses stream; see the module docstring."""

    __slots__ = ("_args_seen", "_final", "_response_id")

    def __init__(self) -> None:
        self._final: Mapping[str, Any] | None = None
        self._response_id: str | None = None
        self._args_seen: set[int] = set()

    def convert(self, event: Mapping[str, Any]) -> ChatGenerationChunk | None:
        """The chunk for one event, or None for events that carry nothing for the caller."""
        kind = event.get("type")
        if kind == "response.output_text.delta":
            return self._chunk(content=str(event.get("delta") or ""))
        if kind in _REASONING_DELTAS:
            return self._chunk(reasoning=str(event.get("delta") or ""))
        if kind in _TOOL_EVENTS:
            return self._function_call(kind, event)
        if kind == "response.output_item.done":
            return self._server_call(event.get("item") or {})
        if kind in ("response.created", "response.in_progress"):
            self._response_id = (event.get("response") or {}).get("id") or self._response_id
        elif kind in _FINAL:
            self._final = event.get("response") or {}
        return None

    def _server_call(self, item: Mapping[str, Any]) -> ChatGenerationChunk | None:
        # Server-side calls arrive complete; they become content blocks, never tool calls.
        if item.get("type") not in SERVER_CALL_ITEMS:
            return None
        blocks: list[str | dict[str, Any]] = list(server_call_blocks(item))
        message = AIMessageChunk(
            content=blocks,
            response_metadata={"model_provider": PROVIDER},
            id=self._response_id,
        )
        return ChatGenerationChunk(message=message)

    def _function_call(self, kind: str, event: Mapping[str, Any]) -> ChatGenerationChunk | None:
        # xAI sends the whole arguments in one delta; `done` repeats them, so it is used only
        # when no delta came for that call.
        index = int(event.get("output_index") or 0)
        if kind == "response.output_item.added":
            item = event.get("item") or {}
            if item.get("type") != "function_call":
                return None
            return self._tool_chunk(index, name=item.get("name"), call_id=item.get("call_id"))
        if kind == "response.function_call_arguments.delta":
            self._args_seen.add(index)
            return self._tool_chunk(index, args=str(event.get("delta") or ""))
        if index in self._args_seen:
            return None
        return self._tool_chunk(index, args=str(event.get("arguments") or ""))

    def finish(self) -> ChatGenerationChunk:
        """The closing chunk: usage and metadata once, plus the items needed for replay."""
        if self._final is None:
            message = AIMessageChunk(
                content="",
                response_metadata={"model_provider": PROVIDER},
                id=self._response_id,
                chunk_position="last",
            )
            return ChatGenerationChunk(message=message)
        whole = response_to_message(self._final)
        extra = {
            key: value
            for key, value in whole.additional_kwargs.items()
            if key in (RAW_OUTPUT_KEY, "citations")
        }
        message = AIMessageChunk(
            content="",
            additional_kwargs=extra,
            usage_metadata=whole.usage_metadata,
            response_metadata=whole.response_metadata,
            id=whole.id,
            chunk_position="last",
        )
        info = {"finish_reason": whole.response_metadata.get("finish_reason")}
        return ChatGenerationChunk(message=message, generation_info=info)

    def _chunk(self, *, content: str = "", reasoning: str = "") -> ChatGenerationChunk | None:
        if reasoning:
            message = AIMessageChunk(
                content=content,
                additional_kwargs={"reasoning_content": reasoning},
                response_metadata={"model_provider": PROVIDER},
                id=self._response_id,
            )
        elif content:
            # Text, the bulk of a stream: no empty containers (langchain-core validates and
            # keeps each one, for every chunk of the stream).
            message = AIMessageChunk(
                content=content,
                response_metadata={"model_provider": PROVIDER},
                id=self._response_id,
            )
        else:
            return None
        return ChatGenerationChunk(message=message)

    def _tool_chunk(
        self,
        index: int,
        *,
        args: str = "",
        name: str | None = None,
        call_id: str | None = None,
    ) -> ChatGenerationChunk:
        chunk = tool_call_chunk(name=name, args=args, id=call_id, index=index)
        message = AIMessageChunk(
            content="",
            tool_call_chunks=[chunk],
            response_metadata={"model_provider": PROVIDER},
            id=self._response_id,
        )
        return ChatGenerationChunk(message=message)
