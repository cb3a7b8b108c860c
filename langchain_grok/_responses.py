"""LangChain messages <-> xAI Responses API items (pure).

The Responses API is stateless when `store` is false: every turn resends the conversation, and
reasoning survives only if the encrypted reasoning items are replayed exactly as received. So
each AIMessage made from a Responses reply keeps the raw output items in
`additional_kwargs["xai_output"]`, and history conversion replays them verbatim; messages from
anywhere else are rebuilt from their content and tool calls.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from langchain_core.messages import AIMessage, ChatMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from langchain_grok._messages import convert_each, convert_message, user_content
from langchain_grok._outputs import PROVIDER, parse_tool_calls, response_cost

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from langchain_core.messages import BaseMessage
    from langchain_core.messages.ai import UsageMetadata

__all__ = [
    "RAW_OUTPUT_KEY",
    "messages_to_input",
    "response_to_message",
    "response_to_result",
    "responses_usage",
]

RAW_OUTPUT_KEY: Final = "xai_output"
# Output item types that the server ran itself; never client tool calls.
SERVER_CALL_ITEMS: Final = frozenset(
    {
        "web_search_call",
        "x_search_call",
        "code_interpreter_call",
        "code_execution_call",
        "file_search_call",
        "mcp_call",
        "custom_tool_call",
        "image_generation_call",
        "shell_call",
    }
)


def messages_to_input(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Convert a conversation to Responses `input` items.

    Raises:
        ValueError: As `_messages.convert_messages` does, naming the message.
    """
    return convert_each(messages, _message_items)


def _message_items(message: BaseMessage) -> list[dict[str, Any]]:
    if isinstance(message, AIMessage):
        raw = message.additional_kwargs.get(RAW_OUTPUT_KEY)
        if isinstance(raw, list) and raw:
            return [dict(item) for item in raw]
        return _assistant_items(message)
    if isinstance(message, ToolMessage):
        tool = convert_message(message)
        output = tool["content"]
        if not isinstance(output, str):
            output = json.dumps(output, ensure_ascii=False)
        return [{"type": "function_call_output", "call_id": tool["tool_call_id"], "output": output}]
    if isinstance(message, HumanMessage):
        return [{"role": "user", "content": _input_parts(user_content(message.content))}]
    if isinstance(message, (SystemMessage, ChatMessage)):
        converted = convert_message(message)
        role = converted["role"]
        if isinstance(message, ChatMessage) and message.role == "developer":
            role = "developer"
        content = converted["content"]
        return [{"role": role, "content": _input_parts(content)}]
    converted = convert_message(message)  # raises the shared, named errors
    return [{"role": converted["role"], "content": _input_parts(converted["content"])}]


def _assistant_items(message: AIMessage) -> list[dict[str, Any]]:
    converted = convert_message(message)
    items: list[dict[str, Any]] = []
    if converted["content"]:
        items.append({"role": "assistant", "content": converted["content"]})
    items.extend(
        {
            "type": "function_call",
            "call_id": call["id"],
            "name": call["function"]["name"],
            "arguments": call["function"]["arguments"],
        }
        for call in converted.get("tool_calls", [])
    )
    if not items:  # an empty assistant turn still occupies its place in the conversation
        items.append({"role": "assistant", "content": ""})
    return items


def _input_parts(content: str | list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for part in content:
        kind = part["type"]
        if kind == "text":
            parts.append({"type": "input_text", "text": part["text"]})
        elif kind == "image_url":
            image = {"type": "input_image", "image_url": part["image_url"]["url"]}
            if part["image_url"].get("detail"):
                image["detail"] = part["image_url"]["detail"]
            parts.append(image)
        else:  # file
            parts.append({"type": "input_file", "file_id": part["file"]["file_id"]})
    return parts


# -- output ------------------------------------------------------------------------------------


def responses_usage(usage: Mapping[str, Any]) -> UsageMetadata:
    """Map Responses usage; unlike Chat Completions, `output_tokens` already includes reasoning.

    Some documented examples use chat-style names (`prompt_tokens`), so both are read.
    """
    input_tokens = int(usage.get("input_tokens", usage.get("prompt_tokens")) or 0)
    output_tokens = int(usage.get("output_tokens", usage.get("completion_tokens")) or 0)
    input_details = usage.get("input_tokens_details") or usage.get("prompt_tokens_details") or {}
    output_details = (
        usage.get("output_tokens_details") or usage.get("completion_tokens_details") or {}
    )
    reasoning = int(output_details.get("reasoning_tokens") or 0)
    metadata: UsageMetadata = {
        "input_tokens": input_tokens,
        "output_tokens": max(output_tokens, reasoning),
        "total_tokens": input_tokens + max(output_tokens, reasoning),
        "input_token_details": {"cache_read": int(input_details.get("cached_tokens") or 0)},
        "output_token_details": {"reasoning": reasoning},
    }
    return metadata


def _finish_reason(response: Mapping[str, Any], *, has_calls: bool) -> str:
    status = response.get("status")
    if status == "incomplete":
        reason = (response.get("incomplete_details") or {}).get("reason")
        return "length" if reason == "max_output_tokens" else str(reason or "incomplete")
    return "tool_calls" if has_calls else "stop"


def response_metadata(response: Mapping[str, Any], *, has_calls: bool) -> dict[str, Any]:
    """`response_metadata` for a Responses reply, with the same keys as Chat Completions."""
    metadata: dict[str, Any] = {
        "model_provider": PROVIDER,
        "model_name": response.get("model"),
        "id": response.get("id"),
        "finish_reason": _finish_reason(response, has_calls=has_calls),
        "status": response.get("status"),
        "api": "responses",
    }
    fingerprint = (response.get("metadata") or {}).get("system_fingerprint")
    if fingerprint:
        metadata["system_fingerprint"] = fingerprint
    if response.get("service_tier"):
        metadata["service_tier"] = response["service_tier"]
    usage = response.get("usage")
    if isinstance(usage, dict):
        metadata.update(response_cost(usage))
        for key in ("num_server_side_tools_used", "server_side_tool_usage_details"):
            if usage.get(key) is not None:
                metadata[key] = usage[key]
    return metadata


def _citation(annotation: Mapping[str, Any], text: str) -> dict[str, Any]:
    """A standard `citation`; indices stay relative to the text block that carries it."""
    block: dict[str, Any] = {"type": "citation", "url": annotation.get("url")}
    if annotation.get("title"):
        block["title"] = annotation["title"]
    start, end = annotation.get("start_index"), annotation.get("end_index")
    if isinstance(start, int) and isinstance(end, int):
        block["start_index"] = start
        block["end_index"] = end
        block["cited_text"] = text[start:end]
    return block


def _text_blocks(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    blocks = []
    for part in item.get("content") or []:
        if part.get("type") != "output_text":
            continue
        text = part.get("text") or ""
        block: dict[str, Any] = {"type": "text", "text": text}
        annotations = [
            _citation(a, text)
            for a in part.get("annotations") or []
            if a.get("type") == "url_citation"
        ]
        if annotations:
            block["annotations"] = annotations
        blocks.append(block)
    return blocks


def server_call_blocks(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    kind = str(item.get("type"))
    name = item.get("name") or kind.removesuffix("_call")
    action = item.get("action") or {}
    args: Any = item.get("arguments")
    if isinstance(args, str):
        try:
            args = json.loads(args) if args else {}
        except ValueError:
            args = {"input": args}
    if not args and action:
        args = {k: v for k, v in action.items() if k not in ("sources", "type")}
    call_id = item.get("id")
    blocks: list[dict[str, Any]] = [
        {"type": "server_tool_call", "id": call_id, "name": name, "args": args or {}}
    ]
    result: dict[str, Any] = {
        "type": "server_tool_result",
        "tool_call_id": call_id,
        "status": "error" if item.get("status") == "failed" else "success",
    }
    sources = action.get("sources")
    if sources:
        result["output"] = sources
    blocks.append(result)
    return blocks


def response_to_message(response: Mapping[str, Any]) -> AIMessage:
    """Turn a Responses `response` object into the AIMessage ChatGrok returns.

    Plain replies have string content, exactly as on Chat Completions. Replies that used
    server-side tools or carry citations get a list of standard blocks instead: one
    `server_tool_call` / `server_tool_result` pair per server call, and `text` blocks whose
    `annotations` hold standard `citation`s. Server-side calls never become `tool_calls`.
    """
    output = list(response.get("output") or [])
    blocks: list[dict[str, Any]] = []
    reasoning: list[str] = []
    raw_calls: list[Mapping[str, Any]] = []
    for item in output:
        kind = item.get("type")
        if kind == "reasoning":
            reasoning.extend(
                s.get("text", "") for s in item.get("summary") or [] if isinstance(s, dict)
            )
        elif kind == "function_call":
            raw_calls.append(
                {
                    "id": item.get("call_id") or item.get("id"),
                    "function": {"name": item.get("name"), "arguments": item.get("arguments")},
                }
            )
        elif kind == "message":
            blocks.extend(_text_blocks(item))
        elif kind in SERVER_CALL_ITEMS:
            blocks.extend(server_call_blocks(item))
    texts = [b["text"] for b in blocks if b["type"] == "text"]
    urls = [str(a["url"]) for b in blocks for a in b.get("annotations", []) if a.get("url")]
    rich = any(b["type"] != "text" or "annotations" in b for b in blocks)
    calls, invalid = parse_tool_calls(raw_calls)
    extra: dict[str, Any] = {RAW_OUTPUT_KEY: output}
    if reasoning:
        extra["reasoning_content"] = "".join(reasoning)
    if urls:
        extra["citations"] = list(dict.fromkeys(urls))
    usage = response.get("usage")
    content: str | list[str | dict[str, Any]] = list(blocks) if rich else "".join(texts)
    return AIMessage(
        content=content,
        additional_kwargs=extra,
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata=responses_usage(usage) if isinstance(usage, dict) else None,
        response_metadata=response_metadata(response, has_calls=bool(raw_calls)),
        id=response.get("id"),
    )


def response_to_result(response: Mapping[str, Any]) -> ChatResult:
    """`response_to_message` wrapped the way `BaseChatModel._generate` returns it."""
    message = response_to_message(response)
    info = {"finish_reason": message.response_metadata.get("finish_reason")}
    llm_output = {"model_name": response.get("model"), "id": response.get("id")}
    return ChatResult(
        generations=[ChatGeneration(message=message, generation_info=info)], llm_output=llm_output
    )
