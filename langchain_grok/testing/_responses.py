"""Responses API answers: decide what a response says (pure, apart from fresh ids and time).

`build_response_answer` turns a validated request, the conversation it continues and a scripted
reply into a `ResponsesAnswer`: final output items (shapes in `_responses_items`), usage and
status; `_responses_render` renders it as a JSON body or an SSE stream. Output order: reasoning,
server-side tool calls (then, when encrypted reasoning is asked for, one `tco_` tool-output
reasoning item per call and a second, summary-less `rs_` item with the same id, as rs09 shows),
function calls, message. Scripted fields win; with nothing scripted the answer is a forced
function call, JSON for a `text.format`, or an echo of the last user text.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from langchain_grok.testing._chat import PROMPT_OVERHEAD_TOKENS, split_tokens, usage_cost
from langchain_grok.testing._models import is_reasoning_model
from langchain_grok.testing._responses_items import (
    TOOL_OF_KIND,
    ItemIds,
    content_text,
    dumps,
    function_call_item,
    item_text,
    message_item,
    reasoning_item,
    server_item,
    tco_id,
)
from langchain_grok.testing._responses_validate import function_names
from langchain_grok.testing._schema_values import make_schema_value

if TYPE_CHECKING:
    from collections.abc import Mapping

    from langchain_grok.testing._responses_store import ResponseStore
    from langchain_grok.testing._script import ScriptedReply

ENCRYPTED_INCLUDE: Final = "reasoning.encrypted_content"
# rs09: two web searches added exactly 1e8 ticks to the token cost, i.e. $5 per 1k calls.
TICKS_PER_SERVER_TOOL_CALL: Final = 50_000_000
DEFAULT_FAILURE: Final[dict[str, str]] = {
    "code": "Internal error",
    "message": "The model failed to generate a response",
}
# `server_side_tool_usage_details` keys (rs09), and which output item type counts for which.
_USAGE_KINDS: Final = (
    "web_search",
    "x_search",
    "code_interpreter",
    "file_search",
    "mcp",
    "document_search",
    "image_generation",
)
_KIND_OF_ITEM: Final = {
    "web_search_call": "web_search",
    "custom_tool_call": "x_search",
    "code_interpreter_call": "code_interpreter",
}


@dataclass(frozen=True)
class ResponsesAnswer:
    """Everything a response says, independent of streaming or not.

    Attributes:
        id: The bare-UUID response id.
        created_at: Unix time the response was created.
        completed_at: Unix time it completed; None unless `status` is `"completed"`.
        model: The model to echo.
        output: The final output items (with `encrypted_content` where issued).
        usage: The usage object.
        status: `"completed"`, `"incomplete"` or `"failed"`.
        incomplete_details: `{"reason": ...}` for an incomplete response.
        error: `{"code", "message"}` for a failed response.
    """

    id: str
    created_at: int
    completed_at: int | None
    model: str
    output: tuple[dict[str, Any], ...]
    usage: dict[str, Any]
    status: str
    incomplete_details: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


def build_response_answer(
    payload: Mapping[str, Any],
    reply: ScriptedReply,
    conversation: list[dict[str, Any]],
    store: ResponseStore,
) -> ResponsesAnswer:
    """Decide the answer to a validated Responses request.

    Args:
        payload: The decoded, validated request body.
        reply: The scripted reply (all fields default when nothing is scripted).
        conversation: The `previous_response_id` chain's items followed by this input's items.
        store: Seals the `encrypted_content` blobs this answer issues.

    Returns:
        The answer.

    Raises:
        SchemaError: A forced tool's or `text.format`'s schema admits no value.
    """
    ids = ItemIds()
    rid = ids.response_id
    sealer = store if ENCRYPTED_INCLUDE in (payload.get("include") or []) else None
    summary = reply.reasoning_content
    if summary is None:
        summary = _default_summary(conversation) if is_reasoning_model(payload["model"]) else ""
    output: list[dict[str, Any]] = []
    if summary:
        output.append(reasoning_item(f"rs_{rid}", [summary], sealer))
    declared = {tool.get("type") for tool in payload.get("tools") or []}
    server = [  # the model cannot run a tool the request did not give it
        server_item(call, ids)
        for call in reply.server_tool_calls or []
        if declared & TOOL_OF_KIND[call["type"]]
    ]
    output += server
    if server and sealer is not None:
        output += [reasoning_item(tco_id(item["id"]), [], sealer) for item in server]
        if summary:
            output.append(reasoning_item(f"rs_{rid}", [], sealer))
    calls, content = _calls_and_text(payload, reply, conversation, ids)
    output += calls
    status = "failed" if reply.failed else "incomplete" if reply.incomplete_reason else "completed"
    if content or not calls:
        citations = reply.citations if _may_cite(payload, declared) else None
        output.append(message_item(rid, content, citations, incomplete=status == "incomplete"))
    created = int(time.time())
    return ResponsesAnswer(
        id=rid,
        created_at=created,
        completed_at=created if status == "completed" else None,
        model=reply.model or payload["model"],
        output=tuple(output),
        usage=reply.usage if reply.usage is not None else _usage(payload, conversation, output),
        status=status,
        incomplete_details={"reason": reply.incomplete_reason} if reply.incomplete_reason else None,
        error=_failure(reply) if reply.failed else None,
    )


def _calls_and_text(
    payload: Mapping[str, Any],
    reply: ScriptedReply,
    conversation: list[dict[str, Any]],
    ids: ItemIds,
) -> tuple[list[dict[str, Any]], str]:
    """Scripted calls / text win; otherwise forced tool, structured output, or echo."""
    if reply.tool_calls is not None:
        calls = []
        for call in reply.tool_calls:
            arguments = call.get("arguments", {})
            text = arguments if isinstance(arguments, str) else dumps(arguments)
            calls.append(function_call_item(ids, call["name"], text, call.get("id")))
        return calls, reply.content or ""
    if reply.content is not None:
        return [], reply.content
    forced = _forced_function(payload)
    if forced is not None:
        name, parameters = forced
        return [function_call_item(ids, name, dumps(make_schema_value(parameters)))], ""
    fmt = text_format(payload)
    if fmt.get("type") == "json_schema":
        return [], dumps(make_schema_value(fmt.get("schema", True)))
    echo = _echo(conversation)
    if fmt.get("type") == "json_object":
        return [], json.dumps({"answer": echo}, ensure_ascii=False)
    return [], echo


def text_format(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The request's `text.format`, `{"type": "text"}` when absent."""
    text = payload.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    return fmt if isinstance(fmt, dict) else {"type": "text"}


def _forced_function(payload: Mapping[str, Any]) -> tuple[str, Any] | None:
    """Return (name, parameters) of the function `tool_choice` forces, if it forces one."""
    choice = payload.get("tool_choice")
    names = function_names(payload)
    wanted: Any = None
    if choice == "required" and names:
        wanted = names[0]
    elif isinstance(choice, dict) and choice.get("type") == "function":
        wanted = choice.get("name")
    for tool in payload.get("tools") or []:
        if wanted is not None and tool.get("type") == "function" and tool.get("name") == wanted:
            return str(wanted), tool.get("parameters") or {"type": "object", "properties": {}}
    return None


def _last_user_text(conversation: list[dict[str, Any]]) -> str:
    for item in reversed(conversation):
        if item.get("type", "message") == "message" and item.get("role") == "user":
            return content_text(item.get("content"))
    return ""


def _echo(conversation: list[dict[str, Any]]) -> str:
    last = conversation[-1] if conversation else {}
    if last.get("type") == "function_call_output":
        return f"Tool result: {item_text(last)}"
    return f"You said: {_last_user_text(conversation)}"


def _default_summary(conversation: list[dict[str, Any]]) -> str:
    """A one-line summary like grok-4.3's (rs02: `The user said: "..."`, rs04 for tools)."""
    last = conversation[-1] if conversation else {}
    if last.get("type") == "function_call_output":
        return f'The tool returned: "{item_text(last)}"\n'
    return f'The user said: "{_last_user_text(conversation)}"\n'


def _may_cite(payload: Mapping[str, Any], declared: set[Any]) -> bool:
    """Only a search can be cited, and markers would break structured (JSON) output."""
    return bool(declared & {"web_search", "x_search"}) and text_format(payload)["type"] == "text"


def _usage(
    payload: Mapping[str, Any], conversation: list[dict[str, Any]], output: list[dict[str, Any]]
) -> dict[str, Any]:
    """Usage with fact 25's fields: output includes reasoning, total = input + output."""
    instructions = payload.get("instructions") or ""
    prompt = PROMPT_OVERHEAD_TOKENS + len(instructions.split())
    prompt += sum(len(item_text(item).split()) for item in conversation)
    reasoning = sum(len(split_tokens(item_text(i))) for i in output if i["type"] == "reasoning")
    visible = sum(len(split_tokens(item_text(i))) for i in output if i["type"] != "reasoning")
    counts = dict.fromkeys(_USAGE_KINDS, 0)
    for item in output:
        if item["type"] in _KIND_OF_ITEM:
            counts[_KIND_OF_ITEM[item["type"]]] += 1
    tools = sum(counts.values())
    output_tokens = visible + reasoning
    usage: dict[str, Any] = {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": prompt + output_tokens,
        "num_sources_used": 0,
        "num_server_side_tools_used": tools,
        "cost_in_usd_ticks": usage_cost(prompt, 0, output_tokens)
        + tools * TICKS_PER_SERVER_TOOL_CALL,
    }
    if tools:  # rs09 has the details; rs01-rs08 and rs10 (no tool ran) do not
        usage["server_side_tool_usage_details"] = {f"{k}_calls": n for k, n in counts.items()}
    usage["context_details"] = {"input_tokens": prompt, "output_tokens": output_tokens}
    return usage


def _failure(reply: ScriptedReply) -> dict[str, Any]:
    """The failed response's `error`: from `error_event` when scripted, else a default."""
    event = reply.error_event or {}
    return {
        "code": event.get("code", DEFAULT_FAILURE["code"]),
        "message": event.get("message", event.get("error", DEFAULT_FAILURE["message"])),
    }
