"""Render a `ResponsesAnswer` in xAI's exact wire shapes: a response object or an SSE stream.

Shapes, key orders and event order are those of the 2026-08 recordings (rs01, rs02, rs05, rs09)
with rs12/rs13 for what those lack (annotation events, X-search input events). The stream puts
an `event: <type>` line before every `data:` line, numbers events from 0 and ends after the last
`response.*` event with no `data: [DONE]`. Echoed settings differ between modes as recorded
(fact 27): a JSON response echoes the model's defaults (`reasoning {effort: "low", summary:
"detailed"}`, temperature 0.7, top_p 0.95), a stream echoes `reasoning {null, null}` and float32
values (`0.699999988079071`); clients must not compare echoed numbers exactly.
"""

from __future__ import annotations

import json
import struct
from typing import TYPE_CHECKING, Any, Final

from langchain_grok.testing._chat import SERVICE_TIER, SYSTEM_FINGERPRINT, group_tokens
from langchain_grok.testing._models import is_reasoning_model
from langchain_grok.testing._respond import SSEFraming, keep_event_line_malformed

if TYPE_CHECKING:
    from collections.abc import Mapping

    from langchain_grok.testing._responses import ResponsesAnswer

DEFAULT_TEMPERATURE: Final = 0.7
DEFAULT_TOP_P: Final = 0.95
DEFAULT_STREAM_ERROR: Final[dict[str, Any]] = {
    "type": "error",
    "code": "Internal error",
    "message": "The stream was interrupted by a server error",
}
_FINAL_EVENT: Final = {
    "completed": "response.completed",
    "incomplete": "response.incomplete",
    "failed": "response.failed",
}


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def frame(payload: Mapping[str, Any]) -> bytes:
    """Frame one event as rs02 does: `event: <type>`, then compact JSON after `data: `."""
    return f"event: {payload.get('type', 'error')}\ndata: {_dumps(payload)}\n\n".encode()


def _error_frame(payload: Mapping[str, Any] | None) -> bytes:
    return frame(payload if payload is not None else DEFAULT_STREAM_ERROR)


RESPONSES_FRAMING: Final = SSEFraming(error=_error_frame, malformed=keep_event_line_malformed)


def _float32(value: float) -> float:
    """What a float32 field echoes back as a double (0.7 -> 0.699999988079071)."""
    return float(struct.unpack("f", struct.pack("f", value))[0])


def _echo_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    if tool.get("type") == "function":  # rs03: description moves before name
        order = ("type", "description", "name", "parameters", "strict")
        return {key: tool[key] for key in order if key in tool}
    if tool.get("type") == "web_search":  # rs09: echoed with OpenAI's knob, which xAI rejects
        return {**tool, "search_context_size": tool.get("search_context_size", "medium")}
    return dict(tool)


def _echo_format(payload: Mapping[str, Any]) -> dict[str, Any]:
    text = payload.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict):
        return {"type": "text"}
    if fmt.get("type") == "json_schema":  # rs06: name and strict are not echoed
        return {"type": "json_schema", "schema": fmt.get("schema")}
    return {"type": fmt.get("type")}


def _echo_reasoning(payload: Mapping[str, Any], *, stream: bool) -> dict[str, Any]:
    asked = payload.get("reasoning")
    asked = asked if isinstance(asked, dict) else {}
    effort, summary = asked.get("effort"), asked.get("summary")
    if not stream and is_reasoning_model(payload["model"]):
        effort, summary = effort or "low", summary or "detailed"
    return {"effort": effort, "summary": summary}


def _sampling(payload: Mapping[str, Any], name: str, default: float, *, stream: bool) -> Any:
    value = payload.get(name)
    value = default if value is None else value
    return _float32(value) if stream and isinstance(value, int | float) else value


def response_object(
    payload: Mapping[str, Any], answer: ResponsesAnswer, *, stream: bool, final: bool = True
) -> dict[str, Any]:
    """Render the response object, keys in rs01's order.

    Args:
        payload: The request body (for the echoed settings).
        answer: The answer.
        stream: Echo settings as a stream does (fact 27).
        final: False renders the `in_progress` object of `response.created`/`in_progress`:
            no output, no usage, no completion time.

    Returns:
        The response object.
    """
    tools = [_echo_tool(t) for t in payload.get("tools") or [] if isinstance(t, dict)]
    return {
        "created_at": answer.created_at,
        "completed_at": answer.completed_at if final else None,
        "id": answer.id,
        "max_output_tokens": payload.get("max_output_tokens"),
        "model": answer.model,
        "object": "response",
        "output": list(answer.output) if final else [],
        "parallel_tool_calls": payload.get("parallel_tool_calls", True),
        "previous_response_id": payload.get("previous_response_id"),
        "reasoning": _echo_reasoning(payload, stream=stream),
        "temperature": _sampling(payload, "temperature", DEFAULT_TEMPERATURE, stream=stream),
        "text": {"format": _echo_format(payload)},
        "tool_choice": payload.get("tool_choice", "auto"),
        "tools": tools,
        "top_p": _sampling(payload, "top_p", DEFAULT_TOP_P, stream=stream),
        "usage": answer.usage if final else None,
        "user": payload.get("user"),
        "incomplete_details": answer.incomplete_details if final else None,
        "status": answer.status if final else "in_progress",
        "store": payload.get("store") is not False,
        "metadata": {"system_fingerprint": SYSTEM_FINGERPRINT},
        "background": bool(payload.get("background", False)),
        "service_tier": payload.get("service_tier") or SERVICE_TIER,
        "truncation": "disabled",
        "top_logprobs": payload.get("top_logprobs") or 0,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "prompt_cache_key": payload.get("prompt_cache_key"),
        "max_tool_calls": payload.get("max_tool_calls"),
        "safety_identifier": payload.get("safety_identifier"),
        "error": answer.error if final else None,
        "instructions": payload.get("instructions"),
    }


class _Stream:
    """Accumulates framed events, numbering them from 0 (`sequence_number`)."""

    def __init__(self, chunk_words: int) -> None:
        self.frames: list[bytes] = []
        self.chunk_words = chunk_words

    def emit(self, kind: str, **fields: Any) -> None:
        payload = {"sequence_number": len(self.frames), "type": kind, **fields}
        self.frames.append(frame(payload))

    def item(self, index: int, item: dict[str, Any]) -> None:
        kind = item["type"]
        if kind == "reasoning":
            self._reasoning(index, item)
        elif kind == "function_call":
            self._function_call(index, item)
        elif kind == "custom_tool_call":
            self._custom_tool_call(index, item)
        elif kind == "message":
            self._message(index, item)
        else:  # server tool calls arrive complete: added already completed, then done (rs12)
            self.emit("response.output_item.added", item=item, output_index=index)
            self.emit("response.output_item.done", item=item, output_index=index)

    def _reasoning(self, index: int, item: dict[str, Any]) -> None:
        iid = item["id"]
        added = {"id": iid, "summary": [], "type": "reasoning", "status": "in_progress"}
        self.emit("response.output_item.added", item=added, output_index=index)
        for number, part in enumerate(item["summary"]):
            text = part["text"]
            where = {"item_id": iid, "output_index": index}
            self.emit(
                "response.reasoning_summary_part.added",
                **where,
                part={"text": "", "type": "summary_text"},
                summary_index=number,
            )
            for delta in group_tokens(text, self.chunk_words):
                self.emit(
                    "response.reasoning_summary_text.delta",
                    delta=delta,
                    **where,
                    summary_index=number,
                )
            self.emit(
                "response.reasoning_summary_text.done", **where, summary_index=number, text=text
            )
            self.emit(
                "response.reasoning_summary_part.done",
                **where,
                part={"text": text, "type": "summary_text"},
                summary_index=number,
            )
        self.emit("response.output_item.done", item=item, output_index=index)

    def _function_call(self, index: int, item: dict[str, Any]) -> None:
        added = {**item, "arguments": "", "status": "in_progress"}
        self.emit("response.output_item.added", item=added, output_index=index)
        where = {"item_id": item["id"], "output_index": index}
        self.emit("response.function_call_arguments.delta", delta=item["arguments"], **where)
        self.emit("response.function_call_arguments.done", arguments=item["arguments"], **where)
        self.emit("response.output_item.done", item=item, output_index=index)

    def _custom_tool_call(self, index: int, item: dict[str, Any]) -> None:
        added = {**item, "input": "", "status": "in_progress"}  # rs13
        self.emit("response.output_item.added", item=added, output_index=index)
        where = {"item_id": item["id"], "output_index": index}
        self.emit("response.custom_tool_call_input.delta", **where, delta=item["input"])
        self.emit("response.custom_tool_call_input.done", **where, input=item["input"])
        self.emit("response.output_item.done", item=item, output_index=index)

    def _message(self, index: int, item: dict[str, Any]) -> None:
        added = {"content": [], "id": item["id"], "role": "assistant", "type": "message"}
        self.emit(
            "response.output_item.added",
            item={**added, "status": "in_progress"},
            output_index=index,
        )
        where = {"content_index": 0, "item_id": item["id"], "output_index": index}
        part = item["content"][0]
        empty = {"type": "output_text", "text": "", "logprobs": [], "annotations": []}
        self.emit("response.content_part.added", **where, part=empty)
        for delta in group_tokens(part["text"], self.chunk_words):
            self.emit(
                "response.output_text.delta",
                content_index=0,
                delta=delta,
                item_id=item["id"],
                output_index=index,
                logprobs=[],
            )
        for number, annotation in enumerate(part["annotations"]):  # rs12: after the deltas
            self.emit(
                "response.output_text.annotation.added",
                annotation=annotation,
                annotation_index=number,
                **where,
            )
        self.emit("response.output_text.done", **where, text=part["text"], logprobs=[])
        self.emit("response.content_part.done", **where, part=part)
        self.emit("response.output_item.done", item=item, output_index=index)


def stream_events(
    payload: Mapping[str, Any], answer: ResponsesAnswer, *, chunk_words: int
) -> list[bytes]:
    """Render the SSE events of a streamed response (rs02 / rs05 order, fact 20-22).

    `response.created` and `response.in_progress` carry the in-progress object; each item is
    announced without `encrypted_content` and finished with it; the last event is
    `response.completed`, `response.incomplete` or `response.failed` with the full object.

    Args:
        payload: The request body.
        answer: The answer.
        chunk_words: Tokens per text / summary delta.

    Returns:
        One framed event per element.
    """
    events = _Stream(chunk_words)
    opening = response_object(payload, answer, stream=True, final=False)
    events.emit("response.created", response=opening)
    events.emit("response.in_progress", response=opening)
    for index, item in enumerate(answer.output):
        events.item(index, item)
    final = response_object(payload, answer, stream=True)
    events.emit(_FINAL_EVENT[answer.status], response=final)
    return events.frames
