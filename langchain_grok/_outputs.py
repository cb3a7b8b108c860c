"""xAI chat completions and stream chunks -> LangChain messages (pure).

The non-streaming and streaming paths share the usage and metadata mapping, so that
`usage_metadata` and `response_metadata` are the same whichever way a user calls the model
(anchors.md pain points 3, 11, 15: reasoning tokens, usage once per stream, totals that add up).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    InvalidToolCall,
    ToolCall,
    ToolCallChunk,
)
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from langchain_grok._constants import TICKS_PER_USD

if TYPE_CHECKING:
    from collections.abc import Mapping

    from langchain_core.messages.ai import UsageMetadata

__all__ = [
    "ChunkConverter",
    "completion_to_chunks",
    "completion_to_result",
    "parse_tool_calls",
    "response_cost",
    "usage_to_metadata",
]

PROVIDER = "xai"


def usage_to_metadata(usage: Mapping[str, Any]) -> UsageMetadata:
    """Map a Chat Completions usage object to LangChain's `UsageMetadata`.

    xAI's `completion_tokens` excludes reasoning (`total = prompt + completion + reasoning`),
    while LangChain's `output_tokens` includes it. Old responses counted reasoning inside
    `completion_tokens` (`total = prompt + completion`); the server's own total tells which
    convention a response follows, so reasoning is never counted twice.
    """
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    details = usage.get("completion_tokens_details") or {}
    reasoning = int(details.get("reasoning_tokens") or 0)
    cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    server_total = usage.get("total_tokens")
    reasoning_inside = reasoning and server_total == prompt + completion
    output = completion if reasoning_inside else completion + reasoning
    metadata: UsageMetadata = {
        "input_tokens": prompt,
        "output_tokens": output,
        "total_tokens": prompt + output,
        "input_token_details": {"cache_read": cached},
        "output_token_details": {"reasoning": reasoning},
    }
    return metadata


def response_metadata(payload: Mapping[str, Any], finish_reason: str | None) -> dict[str, Any]:
    """The `response_metadata` every AIMessage carries (design.md section 2)."""
    metadata: dict[str, Any] = {"model_provider": PROVIDER}
    if payload.get("model"):
        metadata["model_name"] = payload["model"]
    if finish_reason:
        metadata["finish_reason"] = finish_reason
    for key in ("id", "system_fingerprint", "service_tier", "created"):
        if payload.get(key) is not None:
            metadata[key] = payload[key]
    usage = payload.get("usage")
    if isinstance(usage, dict):
        metadata.update(response_cost(usage))
    return metadata


def response_cost(usage: Mapping[str, Any]) -> dict[str, Any]:
    """The exact billed cost (ticks and USD) and the raw usage, for `response_metadata`."""
    metadata: dict[str, Any] = {}
    ticks = usage.get("cost_in_usd_ticks")
    if isinstance(ticks, int):
        metadata["cost_in_usd_ticks"] = ticks
        metadata["cost_usd"] = ticks / TICKS_PER_USD
    metadata["token_usage"] = dict(usage)
    return metadata


def parse_tool_calls(
    raw_calls: list[Mapping[str, Any]],
) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for raw in raw_calls:
        function = raw.get("function") or {}
        name = function.get("name") or ""
        arguments = function.get("arguments")
        call_id = raw.get("id")
        if isinstance(arguments, dict):  # tolerate servers that send an object
            calls.append(tool_call(name=name, args=arguments, id=call_id))
            continue
        text = arguments if isinstance(arguments, str) else ""
        try:
            args = json.loads(text) if text.strip() else {}
        except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
            invalid.append(invalid_tool_call(name=name, args=text, id=call_id, error=str(exc)))
            continue
        if not isinstance(args, dict):
            error = f"tool arguments must be a JSON object, got {type(args).__name__}"
            invalid.append(invalid_tool_call(name=name, args=text, id=call_id, error=error))
            continue
        calls.append(tool_call(name=name, args=args, id=call_id))
    return calls, invalid


def _extra_kwargs(message: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    reasoning = message.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        extra["reasoning_content"] = reasoning
    if message.get("refusal"):
        extra["refusal"] = message["refusal"]
    if payload.get("citations"):
        extra["citations"] = list(payload["citations"])
    return extra


def completion_to_result(payload: Mapping[str, Any]) -> ChatResult:
    """Turn a `chat.completion` body into a `ChatResult` (one generation per choice)."""
    usage = payload.get("usage")
    usage_metadata = usage_to_metadata(usage) if isinstance(usage, dict) else None
    generations = []
    for choice in payload.get("choices") or []:
        message = choice.get("message") or {}
        calls, invalid = parse_tool_calls(message.get("tool_calls") or [])
        metadata = response_metadata(payload, choice.get("finish_reason"))
        if choice.get("logprobs"):
            metadata["logprobs"] = choice["logprobs"]
        ai_message = AIMessage(
            content=message.get("content") or "",
            additional_kwargs=_extra_kwargs(message, payload),
            tool_calls=calls,
            invalid_tool_calls=invalid,
            usage_metadata=usage_metadata,
            response_metadata=metadata,
            id=payload.get("id"),
        )
        generation_info = {"finish_reason": choice.get("finish_reason")}
        if choice.get("logprobs"):
            generation_info["logprobs"] = choice["logprobs"]
        generations.append(ChatGeneration(message=ai_message, generation_info=generation_info))
    llm_output = {"model_name": payload.get("model"), "id": payload.get("id")}
    if usage_metadata:
        llm_output["token_usage"] = dict(usage or {})
    return ChatResult(generations=generations, llm_output=llm_output)


def completion_to_chunks(payload: Mapping[str, Any]) -> list[ChatGenerationChunk]:
    """A finished completion as the chunks a stream of it would have produced.

    `stream()` on a deferred request has the whole answer at once; replaying it as one content
    chunk plus the closing chunk, through the streaming converter itself, gives exactly what a
    live stream gives (tool call chunks, reasoning, usage once in the last chunk), so code that
    streams cannot tell the difference. Only the first choice is used, as in a stream.
    """
    choice = (payload.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    delta: dict[str, Any] = {
        key: message[key] for key in ("content", "reasoning_content") if message.get(key)
    }
    calls = message.get("tool_calls") or []
    if calls:
        delta["tool_calls"] = [{"index": index, **call} for index, call in enumerate(calls)]
    converter = ChunkConverter()
    chunk_payload = {
        **{key: value for key, value in payload.items() if key != "choices"},
        "choices": [{**choice, "delta": delta}],
    }
    first = converter.convert(chunk_payload)
    return [*([first] if first is not None else []), converter.finish()]


class ChunkConverter:
    """Turns the chunks of one stream into `ChatGenerationChunk`s, keeping the stream's state.

    Usage and the final metadata are held back and emitted once, in a last chunk marked
    `chunk_position="last"`, when the stream ends: current servers send one usage chunk after
    the finish chunk, older ones sent cumulative usage on every chunk, and summing those would
    count tokens many times over.
    """

    __slots__ = ("_finish_reason", "_last_payload", "_usage")

    def __init__(self) -> None:
        self._usage: dict[str, Any] | None = None
        self._finish_reason: str | None = None
        self._last_payload: Mapping[str, Any] = {}

    def convert(self, payload: Mapping[str, Any]) -> ChatGenerationChunk | None:
        """The message chunk for one decoded stream chunk, or None when it carries no content."""
        self._last_payload = payload
        usage = payload.get("usage")
        if isinstance(usage, dict):
            self._usage = usage
        choices = payload.get("choices")
        if not choices:
            return None
        choice = choices[0]
        finish = choice.get("finish_reason")
        if finish:
            self._finish_reason = finish
        delta = choice.get("delta") or {}
        content = delta.get("content") or ""
        reasoning = delta.get("reasoning_content") or ""
        raw_calls = delta.get("tool_calls") or []
        if not (content or reasoning or raw_calls):
            return None
        chunks: list[ToolCallChunk] = [
            tool_call_chunk(
                name=(call.get("function") or {}).get("name"),
                args=_arguments_text((call.get("function") or {}).get("arguments")),
                id=call.get("id"),
                index=call.get("index", position),
            )
            for position, call in enumerate(raw_calls)
        ]
        # Only non-empty fields are passed: each one costs pydantic validation, and text-only
        # chunks are nearly all of a stream.
        fields: dict[str, Any] = {"response_metadata": {"model_provider": PROVIDER}}
        if reasoning:
            fields["additional_kwargs"] = {"reasoning_content": reasoning}
        if chunks:
            fields["tool_call_chunks"] = chunks
        logprobs = choice.get("logprobs")
        info = {"logprobs": logprobs} if logprobs else None
        message = AIMessageChunk(content=content, id=payload.get("id"), **fields)
        return ChatGenerationChunk(message=message, generation_info=info)

    def finish(self) -> ChatGenerationChunk:
        """The closing chunk: finish reason, model, cost and the usage, exactly once."""
        metadata = response_metadata(self._last_payload, self._finish_reason)
        if self._usage is not None:
            metadata.update(response_metadata({"usage": self._usage}, None))
        message = AIMessageChunk(
            content="",
            usage_metadata=usage_to_metadata(self._usage) if self._usage else None,
            response_metadata=metadata,
            id=self._last_payload.get("id"),
            chunk_position="last",
        )
        info = {"finish_reason": self._finish_reason} if self._finish_reason else None
        return ChatGenerationChunk(message=message, generation_info=info)


def _arguments_text(arguments: object) -> str | None:
    if arguments is None or isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, ensure_ascii=False)
