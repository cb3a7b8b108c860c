"""LangChain messages -> xAI Chat Completions message dicts (pure functions).

Every rule here exists because a real request failed without it (anchors.md section 4): an
assistant turn that only calls tools must carry `content: ""` (xAI answers `null` with a 400),
a failed tool's `status="error"` must reach the model, prior `reasoning_content` must be
replayed for cache hits, and content blocks the API cannot take must fail here, before a
request is spent, with a message that names the block.
"""

from __future__ import annotations

import binascii
import json
import re
from base64 import b64decode
from typing import TYPE_CHECKING, Any, Final

from langchain_core.messages import (
    AIMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from langchain_core.messages import BaseMessage

__all__ = ["convert_messages"]

_CHAT_ROLES = {"system", "user", "assistant", "tool"}
_IMAGE_DETAILS: Final = ("auto", "low", "high")
_DATA_URL: Final = re.compile(r"data:(?P<mime>image/[\w.+-]+);base64,(?P<data>.*)", re.DOTALL)
_WHITESPACE: Final = re.compile(r"\s+")
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
    return convert_each(messages, lambda message: [convert_message(message)])


def convert_each(
    messages: Sequence[BaseMessage],
    convert: Callable[[BaseMessage], list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Apply `convert` to every message, naming the message (by position) in any failure.

    Shared by both APIs' converters so that their errors read the same.
    """
    if not messages:
        msg = "messages must not be empty: pass at least one message to the model"
        raise ValueError(msg)
    position = 0
    converted: list[dict[str, Any]] = []
    try:
        for position, message in enumerate(messages):  # noqa: B007 - read in the handler
            converted.extend(convert(message))
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
    if role == "tool":
        msg = "a ChatMessage cannot carry the tool_call_id a tool result needs; use ToolMessage"
        raise ValueError(msg)
    content = user_content(message.content) if role == "user" else _text_only(message.content)
    return _with_name({"role": role, "content": content}, message)


def _assistant_message(message: AIMessage) -> dict[str, Any]:
    payload: dict[str, Any] = {"role": "assistant", "content": _text_only(message.content)}
    reasoning = _reasoning_text(message)
    if reasoning:
        payload["reasoning_content"] = reasoning
    for call in [*message.tool_calls, *message.invalid_tool_calls]:
        if not call.get("id"):
            msg = f"tool call {call['name']!r} has no id; the tool result could not refer to it"
            raise ValueError(msg)
    tool_calls = [
        {
            "id": call["id"],
            "type": "function",
            "function": {"name": call["name"], "arguments": _arguments_json(call)},
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


def _arguments_json(call: Mapping[str, Any]) -> str:
    """Tool-call arguments as strict JSON (no NaN, no bytes or objects the API cannot read)."""
    try:
        return json.dumps(call["args"], ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        msg = f"tool call {call['name']!r} has arguments that are not JSON: {exc}"
        raise ValueError(msg) from exc


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
    if not isinstance(message.tool_call_id, str) or not message.tool_call_id:
        msg = "ToolMessage has an empty tool_call_id; set it to the id of the call it answers"
        raise ValueError(msg)
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
        _check_part(block)
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
    if not content:
        msg = "content is an empty list; the API needs at least one text or image part"
        raise ValueError(msg)
    return [_user_part(block) for block in content]


def _check_part(block: object) -> None:
    # Message content is validated on construction only; a list mutated afterwards can hold
    # anything.
    if not isinstance(block, dict):
        msg = f"content part of type {type(block).__name__} is neither a string nor a dict block"
        raise ValueError(msg)  # noqa: TRY004 - a ValueError is what LangChain callers catch


def _user_part(block: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(block, str):
        return {"type": "text", "text": block}
    _check_part(block)
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": str(block.get("text", ""))}
    if kind == "image_url":
        return _openai_image(block)
    if kind == "image":
        return _standard_image(block)
    file_id = block.get("file_id") or block.get("id")
    if kind == "file" and isinstance(file_id, str) and file_id:
        return {"type": "file", "file": {"file_id": file_id}}
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
    part: dict[str, Any] = {"url": _checked_image_url(image["url"])}
    _add_detail(part, image.get("detail"))
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
        image: dict[str, Any] = {"url": _checked_image_url(url)}
    elif isinstance(data, str) and data:
        mime = block.get("mime_type") or "image/jpeg"
        if not isinstance(mime, str) or not re.fullmatch(r"image/[\w.+-]+", mime):
            msg = f"image block has mime_type {mime!r}; xAI accepts image/jpeg and image/png"
            raise ValueError(msg)
        _check_base64(data, "image block `base64`")
        image = {"url": f"data:{mime};base64,{data}"}
    else:
        msg = "image block needs a non-empty `url` or `base64` (with `mime_type`)"
        raise ValueError(msg)
    extras = block.get("extras")
    detail = block.get("detail") or (extras.get("detail") if isinstance(extras, dict) else None)
    _add_detail(image, detail)
    return {"type": "image_url", "image_url": image}


def _checked_image_url(url: str) -> str:
    """An image URL the API can fetch or decode: http(s), or a base64 `data:image/...` URI."""
    if url.startswith("data:"):
        match = _DATA_URL.fullmatch(url)
        if match is None:
            msg = f"image data URI must look like data:image/png;base64,..., got {url[:40]!r}"
            raise ValueError(msg)
        _check_base64(match["data"], "image data URI")
        return url
    if not url.startswith(("https://", "http://")):
        msg = f"image URL must be https://, http:// or a data:image/... URI, got {url[:80]!r}"
        raise ValueError(msg)
    return url


def _check_base64(data: str, where: str) -> None:
    try:
        decoded = b64decode(_WHITESPACE.sub("", data), validate=True)
    except (binascii.Error, ValueError) as exc:
        msg = f"{where} is not valid base64 ({exc}); pass the image bytes base64-encoded"
        raise ValueError(msg) from exc
    if not decoded:
        msg = f"{where} is empty"
        raise ValueError(msg)


def _add_detail(image: dict[str, Any], detail: object) -> None:
    if not detail:
        return
    if detail not in _IMAGE_DETAILS:
        allowed = ", ".join(_IMAGE_DETAILS)
        msg = f"image detail must be one of {allowed}, got {detail!r}"
        raise ValueError(msg)
    image["detail"] = detail
