"""Chat-completions answers: decide what to say, then render it in xAI's exact wire shapes.

Two steps, both pure. `build_answer` turns a request (plus an optional scripted reply) into a
`ChatAnswer`; `completion_body` and `stream_events` render that answer as the recordings show it:
key order, `role` only on the first chunk, `finish_reason` only on its own chunk with an empty
delta, usage only in a last `choices: []` chunk, `data: [DONE]` at the end. Clients are tested
against these shapes, so a deviation here would hide a client bug.
"""

from __future__ import annotations

import json
import re
import time
import uuid
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from langchain_grok.testing._models import is_reasoning_model
from langchain_grok.testing._schema_values import make_schema_value
from langchain_grok.testing._validate import tool_names

if TYPE_CHECKING:
    from collections.abc import Mapping

    from langchain_grok.testing._script import ScriptedReply

SYSTEM_FINGERPRINT: Final = "fp_fake"
SERVICE_TIER: Final = "default"
DONE_EVENT: Final = b"data: [DONE]\n\n"
# Token accounting is fake but consistent: a fixed prompt overhead (the real API adds a system
# preamble) and grok-4.3 prices in ticks per token (1 USD = 1e10 ticks): $1.25/M input,
# $0.20/M cached input, $2.50/M output (reasoning included), which reproduces the recordings' cost.
PROMPT_OVERHEAD_TOKENS: Final = 10
TICKS_PER_INPUT_TOKEN: Final = 12_500
TICKS_PER_CACHED_TOKEN: Final = 2_000
TICKS_PER_OUTPUT_TOKEN: Final = 25_000

# One token = one run of non-space characters with the whitespace before it ("1", ",", " 2"),
# plus trailing whitespace as its own token, so that the deltas join back to the exact text.
_TOKEN: Final = re.compile(r"\s*\S+|\s+")
_CALL_ID_MODULUS: Final = 100_000_000


@dataclass(frozen=True)
class ToolCall:
    """One function call of an answer; `arguments` is the JSON string sent on the wire."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ChatAnswer:
    """Everything a completion says, independent of streaming or not."""

    id: str
    created: int
    model: str
    content: str
    reasoning_content: str
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str
    usage: dict[str, Any]


def split_tokens(text: str) -> list[str]:
    """Split text into the emulator's tokens; `"".join(split_tokens(t)) == t`."""
    return _TOKEN.findall(text)


def encode_event(payload: Any) -> bytes:
    """Frame one JSON payload as an SSE event the way xAI does: compact JSON after `data: `."""
    return b"data: " + _dumps(payload).encode() + b"\n\n"


def build_answer(payload: Mapping[str, Any], reply: ScriptedReply) -> ChatAnswer:
    """Decide the answer to a validated request.

    Scripted fields win; every field left at None falls back to the default answer: a forced
    tool call (with schema-valid arguments), JSON for a `response_format`, else an echo.

    Args:
        payload: The decoded, validated request body.
        reply: The scripted reply for this request (all fields None when nothing is scripted).

    Returns:
        The answer, with usage computed unless the script overrides it.
    """
    messages: list[dict[str, Any]] = payload["messages"]
    calls: tuple[ToolCall, ...]
    if reply.tool_calls is not None:
        calls = tuple(_scripted_call(i, call) for i, call in enumerate(reply.tool_calls))
        content = reply.content or ""
    elif reply.content is not None:
        calls, content = (), reply.content
    else:
        calls, content = _default_output(payload)
    reasoning = reply.reasoning_content
    if reasoning is None:
        reasoning = _default_reasoning(messages) if is_reasoning_model(payload["model"]) else ""
    finish = reply.finish_reason or ("tool_calls" if calls else "stop")
    usage = reply.usage
    if usage is None:
        output = len(split_tokens(content)) + sum(
            len(split_tokens(f"{c.name} {c.arguments}")) for c in calls
        )
        usage = compute_usage(messages, output, len(split_tokens(reasoning)))
    return ChatAnswer(
        id=str(uuid.uuid4()),
        created=int(time.time()),
        model=reply.model or payload["model"],
        content=content,
        reasoning_content=reasoning,
        tool_calls=calls,
        finish_reason=finish,
        usage=usage,
    )


def compute_usage(
    messages: list[dict[str, Any]], completion_tokens: int, reasoning_tokens: int
) -> dict[str, Any]:
    """Build a usage object with the recordings' exact field set and order.

    `completion_tokens` excludes reasoning and `total_tokens` adds it, as xAI's chat endpoint
    does; a client that computes output tokens as `completion_tokens` alone will be off.

    Args:
        messages: The request messages (whitespace words of their text are the prompt tokens).
        completion_tokens: Visible output tokens.
        reasoning_tokens: Reasoning tokens.

    Returns:
        The usage object.
    """
    prompt = PROMPT_OVERHEAD_TOKENS + sum(len(_message_text(m).split()) for m in messages)
    cached = 0
    cost = usage_cost(prompt, cached, completion_tokens + reasoning_tokens)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt + completion_tokens + reasoning_tokens,
        "prompt_tokens_details": {
            "text_tokens": prompt,
            "audio_tokens": 0,
            "image_tokens": 0,
            "cached_tokens": cached,
        },
        "completion_tokens_details": {
            "reasoning_tokens": reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
        "num_sources_used": 0,
        "cost_in_usd_ticks": cost,
    }


def usage_cost(input_tokens: int, cached_tokens: int, output_tokens: int) -> int:
    """Price tokens in ticks at the emulator's (grok-4.3) rates, shared by both endpoints.

    Args:
        input_tokens: Prompt tokens, cached ones included.
        cached_tokens: The cached part of `input_tokens` (billed at the cached rate).
        output_tokens: Visible plus reasoning tokens (reasoning is billed as output).

    Returns:
        The cost in ticks (1 USD = 1e10 ticks), before any server-side tool fees.
    """
    return (
        (input_tokens - cached_tokens) * TICKS_PER_INPUT_TOKEN
        + cached_tokens * TICKS_PER_CACHED_TOKEN
        + output_tokens * TICKS_PER_OUTPUT_TOKEN
    )


def completion_body(answer: ChatAnswer) -> dict[str, Any]:
    """Render a non-streaming `chat.completion` object (cc01/cc03 shape)."""
    message: dict[str, Any] = {"role": "assistant", "content": answer.content}
    if answer.reasoning_content:
        message["reasoning_content"] = answer.reasoning_content
    if answer.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "function": {"name": c.name, "arguments": c.arguments}, "type": "function"}
            for c in answer.tool_calls
        ]
    message["refusal"] = None
    return {
        "id": answer.id,
        "object": "chat.completion",
        "created": answer.created,
        "model": answer.model,
        "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason}],
        "usage": answer.usage,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "service_tier": SERVICE_TIER,
    }


def stream_events(answer: ChatAnswer, *, include_usage: bool, chunk_words: int) -> list[bytes]:
    """Render the SSE events of a streamed answer (cc02/cc06 shape), `[DONE]` included.

    Args:
        answer: The answer.
        include_usage: Whether the request asked `stream_options.include_usage`; only then is
            a usage chunk sent (with `choices: []`, after the finish chunk).
        chunk_words: Tokens per content / reasoning delta.

    Returns:
        One framed event per element.
    """
    deltas: list[dict[str, Any]] = [
        {"reasoning_content": part} for part in group_tokens(answer.reasoning_content, chunk_words)
    ]
    deltas += [{"content": part} for part in group_tokens(answer.content, chunk_words)]
    deltas += [
        {
            "tool_calls": [
                {
                    "id": call.id,
                    "function": {"name": call.name, "arguments": call.arguments},
                    "index": index,
                    "type": "function",
                }
            ]
        }
        for index, call in enumerate(answer.tool_calls)
    ]
    # `role` rides on the first delta only; the wire sorts delta keys by name.
    first = deltas[0] if deltas else {}
    deltas[:1] = [dict(sorted({**first, "role": "assistant"}.items()))]
    choices = [[{"index": 0, "delta": delta}] for delta in deltas]
    choices.append([{"index": 0, "delta": {}, "finish_reason": answer.finish_reason}])
    events = [encode_event(_chunk(answer, c)) for c in choices]
    if include_usage:
        events.append(encode_event(_chunk(answer, [], usage=answer.usage)))
    events.append(DONE_EVENT)
    return events


def _chunk(
    answer: ChatAnswer, choices: list[dict[str, Any]], usage: dict[str, Any] | None = None
) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": answer.id,
        "object": "chat.completion.chunk",
        "created": answer.created,
        "model": answer.model,
        "choices": choices,
    }
    if usage is not None:
        chunk["usage"] = usage
    chunk["system_fingerprint"] = SYSTEM_FINGERPRINT
    chunk["service_tier"] = SERVICE_TIER
    return chunk


def group_tokens(text: str, size: int) -> list[str]:
    """Split text into deltas of `size` tokens each; the deltas join back to `text`."""
    tokens = split_tokens(text)
    return ["".join(tokens[i : i + size]) for i in range(0, len(tokens), size)]


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _scripted_call(index: int, call: Mapping[str, Any]) -> ToolCall:
    arguments = call.get("arguments", {})
    text = arguments if isinstance(arguments, str) else _dumps(arguments)
    call_id = call.get("id") or _call_id(index, call["name"], text)
    return ToolCall(id=call_id, name=call["name"], arguments=text)


def _call_id(index: int, name: str, arguments: str) -> str:
    """Derive a `call_<8 digits>` id from the call itself, so reruns give the same ids."""
    digest = zlib.crc32(f"{index}:{name}:{arguments}".encode()) % _CALL_ID_MODULUS
    return f"call_{digest:08d}"


def _default_output(payload: Mapping[str, Any]) -> tuple[tuple[ToolCall, ...], str]:
    """The answer with nothing scripted: forced tool call, structured output, or echo."""
    forced = _forced_tool(payload)
    if forced is not None:
        name, parameters = forced
        arguments = _dumps(make_schema_value(parameters))
        return (ToolCall(id=_call_id(0, name, arguments), name=name, arguments=arguments),), ""
    response_format = payload.get("response_format") or {}
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema", True) if isinstance(spec, dict) else True
        return (), _dumps(make_schema_value(schema))
    echo = _echo_text(payload["messages"])
    if kind == "json_object":
        return (), json.dumps({"answer": echo}, ensure_ascii=False)
    return (), echo


def _forced_tool(payload: Mapping[str, Any]) -> tuple[str, Any] | None:
    """Return (name, parameters schema) of the tool `tool_choice` forces, if it forces one."""
    choice = payload.get("tool_choice")
    names = tool_names(payload)
    if choice == "required" and names:
        wanted = names[0]
    elif isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        wanted = choice["function"].get("name")
    else:
        return None
    for tool in payload.get("tools") or []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and function.get("name") == wanted:
            return wanted, function.get("parameters") or {"type": "object", "properties": {}}
    return None


def _echo_text(messages: list[dict[str, Any]]) -> str:
    last = messages[-1]
    if last.get("role") == "tool":
        return f"Tool result: {_message_text(last)}"
    for message in reversed(messages):
        if message.get("role") == "user":
            return f"You said: {_message_text(message)}"
    return "You said: "


def _default_reasoning(messages: list[dict[str, Any]]) -> str:
    """A one-line reasoning summary like grok-4.3's (`The user said: "..."`)."""
    last = messages[-1]
    if last.get("role") == "tool":
        return f'The tool returned: "{_message_text(last)}"\n'
    users = [m for m in messages if m.get("role") == "user"]
    return f'The user said: "{_message_text(users[-1]) if users else ""}"\n'


def _message_text(message: Mapping[str, Any]) -> str:
    """The text of a message: a string content, or its text parts joined by a space."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") in {"text", "input_text"}
        )
    return ""
