"""LangChain messages -> xAI Chat Completions message dicts (pure functions).

Every rule here exists because a real request failed without it (anchors.md section 4): an
assistant turn that only calls tools must carry `content: ""` (xAI answers `null` with a 400),
a failed tool's `status="error"` must reach the model, prior `reasoning_content` must be
replayed for cache hits, and content blocks the API cannot take must fail here, before a
request is spent, with a message that names the block.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from langchain_core.messages import (
    AIMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from langchain_core.messages import BaseMessage

__all__ = ["convert_messages"]

_CHAT_ROLES = {"system", "user", "assistant", "tool"}
# Blocks a model emitted that carry no text for the next request: tool calls travel in
# `tool_calls`, reasoning in `reasoning_content`.
_SKIPPED_AI_BLOCKS = {
    "tool_use",
    "tool_call",
    "tool_call_chunk",
    "function_call",
    "server_tool_call",
    "server_tool_call_chunk",
    "server_tool_result",
    "invalid_tool_call",
    "reasoning",
    "thinking",
    "non_standard",
}


def convert_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Convert a conversation to the `messages` array of a chat completion request.

    Raises:
        ValueError: The list is empty, or a message or content block cannot be sent; the
            message says which message (by position) and what to do instead.
    """
    if not messages:
        msg = "messages must not be empty: pass at least one message to the model"
        raise ValueError(msg)
    position = 0
    try:
        converted = []
        for position, message in enumerate(messages):  # noqa: B007 - read in the handler
            converted.append(convert_message(message))
    except ValueError as exc:
        kind = type(messages[position]).__name__
        msg = f"Cannot send message {position} ({kind}): {exc}"
        raise ValueError(msg) from exc
    return converted


def convert_message(message: BaseMessage) -> dict[str, Any]:
    """Convert one message; see `convert_messages`."""
    if isinstance(message, ToolMessage):
        return _tool_message(message)
    if isinstance(message, AIMessage):
        return _assistant_message(message)
    if isinstance(message, HumanMessage):
        return _with_name({"role": "user", "content": user_content(message.content)}, message)
    if isinstance(message, SystemMessage):
        return _with_name({"role": "system", "content": _text_only(message.content)}, message)
    if isinstance(message, ChatMessage):
        return _chat_message(message)
    if isinstance(message, FunctionMessage):
        msg = "FunctionMessage is the pre-tools format; send a ToolMessage with tool_call_id"
        raise ValueError(msg)  # noqa: TRY004 - a ValueError is what LangChain callers catch
    msg = f"unsupported message type {message.type!r}"
    raise ValueError(msg)


def _with_name(payload: dict[str, Any], message: BaseMessage) -> dict[str, Any]:
    if message.name:
        payload["name"] = message.name
    return payload


def _chat_message(message: ChatMessage) -> dict[str, Any]:
    # Chat Completions does not list `developer`; it means what `system` means there.
    role = "system" if message.role == "developer" else message.role
    if role not in _CHAT_ROLES:
        msg = f"unknown role {message.role!r}; use one of system, developer, user, assistant, tool"
        raise ValueError(msg)
    content = user_content(message.content) if role == "user" else _text_only(message.content)
    return _with_name({"role": role, "content": content}, message)


def _assistant_message(message: AIMessage) -> dict[str, Any]:
    payload: dict[str, Any] = {"role": "assistant", "content": _text_only(message.content)}
    reasoning = _reasoning_text(message)
    if reasoning:
        payload["reasoning_content"] = reasoning
    for call in message.tool_calls:
        if not call.get("id"):
            msg = f"tool call {call['name']!r} has no id; the tool result could not refer to it"
            raise ValueError(msg)
    tool_calls = [
        {
            "id": call["id"],
            "type": "function",
            "function": {
                "name": call["name"],
                "arguments": json.dumps(call["args"], ensure_ascii=False),
            },
        }
        for call in message.tool_calls
    ]
    # A call whose arguments did not parse is still part of the history: the tool message
    # that answers it refers to its id.
    tool_calls.extend(
        {
            "id": call["id"],
            "type": "function",
            "function": {"name": call["name"] or "", "arguments": call["args"] or ""},
        }
        for call in message.invalid_tool_calls
    )
    if tool_calls:
        payload["tool_calls"] = tool_calls
    return _with_name(payload, message)


def _reasoning_text(message: AIMessage) -> str:
    stored = message.additional_kwargs.get("reasoning_content")
    if isinstance(stored, str) and stored:
        return stored
    if isinstance(message.content, list):
        parts = [
            block.get("reasoning", "")
            for block in message.content
            if isinstance(block, dict) and block.get("type") == "reasoning"
        ]
        return "".join(p for p in parts if isinstance(p, str))
    return ""


def _tool_message(message: ToolMessage) -> dict[str, Any]:
    content: Any
    if isinstance(message.content, str):
        content = message.content
    elif all(_is_text(block) for block in message.content):
        content = _text_only(message.content)
    else:
        content = user_content(message.content)
    if message.status == "error":
        # The API has no error flag on tool results: say it in the text the model reads.
        if isinstance(content, str):
            content = f"Error: {content}" if content else "Error"
        else:
            content = [{"type": "text", "text": "Error:"}, *content]
    return {"role": "tool", "tool_call_id": message.tool_call_id, "content": content}


def _is_text(block: object) -> bool:
    return isinstance(block, str) or (isinstance(block, dict) and block.get("type") == "text")


def _text_only(content: str | list[str | dict[str, Any]]) -> str:
    """Join the text of a content list; drop blocks that travel elsewhere, reject the rest."""
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for block in content:
        if isinstance(block, str):
            texts.append(block)
            continue
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind not in _SKIPPED_AI_BLOCKS:
            msg = (
                f"content block of type {kind!r} cannot be sent in this message; "
                "only text is supported here (images go in user messages)"
            )
            raise ValueError(msg)
    return "".join(texts)


def user_content(content: str | list[str | dict[str, Any]]) -> str | list[dict[str, Any]]:
    """User content: a string, or a list of `text` / `image_url` / `file` parts."""
    if isinstance(content, str):
        return content
    return [_user_part(block) for block in content]


def _user_part(block: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(block, str):
        return {"type": "text", "text": block}
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": str(block.get("text", ""))}
    if kind == "image_url":
        return _openai_image(block)
    if kind == "image":
        return _standard_image(block)
    if kind == "file" and (block.get("file_id") or block.get("id")):
        return {"type": "file", "file": {"file_id": block.get("file_id") or block.get("id")}}
    msg = (
        f"content block of type {kind!r} is not supported by xAI chat completions; "
        "use text, image (url or base64 jpeg/png) or file (Files API id) blocks"
    )
    raise ValueError(msg)


def _openai_image(block: Mapping[str, Any]) -> dict[str, Any]:
    image = block.get("image_url")
    if isinstance(image, str):
        image = {"url": image}
    if not isinstance(image, dict) or not isinstance(image.get("url"), str) or not image["url"]:
        msg = "image_url block needs image_url.url (an https URL or a data: URI)"
        raise ValueError(msg)
    part: dict[str, Any] = {"url": image["url"]}
    if image.get("detail"):
        part["detail"] = image["detail"]
    return {"type": "image_url", "image_url": part}


def _standard_image(block: Mapping[str, Any]) -> dict[str, Any]:
    # Standard v1 blocks use `url` / `base64`; LangChain v0 blocks use `source_type` + `data`.
    url = block.get("url")
    data = block.get("base64")
    if data is None and block.get("source_type") == "base64":
        data = block.get("data")
    if url is None and block.get("source_type") == "url":
        url = block.get("url") or block.get("data")
    if isinstance(url, str) and url:
        image: dict[str, Any] = {"url": url}
    elif isinstance(data, str) and data:
        mime = block.get("mime_type") or "image/jpeg"
        if not str(mime).startswith("image/"):
            msg = f"image block has mime_type {mime!r}; xAI accepts image/jpeg and image/png"
            raise ValueError(msg)
        image = {"url": f"data:{mime};base64,{data}"}
    else:
        msg = "image block needs a non-empty `url` or `base64` (with `mime_type`)"
        raise ValueError(msg)
    detail = block.get("detail") or (block.get("extras") or {}).get("detail")
    if detail:
        image["detail"] = detail
    return {"type": "image_url", "image_url": image}
