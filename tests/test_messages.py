"""LangChain messages -> xAI message dicts: the wire payload users trip on."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_grok._messages import convert_messages


def test_basic_roles_and_names() -> None:
    out = convert_messages(
        [
            SystemMessage("be terse"),
            HumanMessage("hi", name="ada"),
            AIMessage("hello", name="bot"),
        ]
    )
    assert out == [
        {"role": "system", "content": "be terse"},
        {"role": "user", "content": "hi", "name": "ada"},
        {"role": "assistant", "content": "hello", "name": "bot"},
    ]


def test_tool_call_only_turn_sends_empty_string_content() -> None:
    # anchors.md pain point 1: `content: null` gets a 400 from xAI.
    message = AIMessage("", tool_calls=[{"name": "f", "args": {"x": "ü"}, "id": "call_1"}])
    (out,) = convert_messages([message])
    assert out["content"] == ""
    assert out["tool_calls"] == [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"x": "ü"}'}}
    ]
    listed = AIMessage(
        [{"type": "tool_use", "id": "call_1", "name": "f", "input": {}}],
        tool_calls=[{"name": "f", "args": {}, "id": "call_1"}],
    )
    assert convert_messages([listed])[0]["content"] == ""


def test_invalid_tool_calls_stay_in_history() -> None:
    message = AIMessage(
        "",
        invalid_tool_calls=[{"name": "f", "args": "{oops", "id": "call_9", "error": "bad"}],
    )
    (out,) = convert_messages([message])
    assert out["tool_calls"][0]["function"] == {"name": "f", "arguments": "{oops"}


def test_tool_call_without_id_is_rejected() -> None:
    message = AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": None}])
    with pytest.raises(ValueError, match="no id"):
        convert_messages([message])


def test_reasoning_is_replayed() -> None:
    kw = AIMessage("4", additional_kwargs={"reasoning_content": "2+2"})
    assert convert_messages([kw])[0]["reasoning_content"] == "2+2"
    v1 = AIMessage([{"type": "reasoning", "reasoning": "think"}, {"type": "text", "text": "ok"}])
    assert convert_messages([v1])[0] == {
        "role": "assistant",
        "content": "ok",
        "reasoning_content": "think",
    }


def test_tool_message_string_list_and_error_status() -> None:
    ok = ToolMessage("42", tool_call_id="call_1")
    listed = ToolMessage([{"type": "text", "text": "a"}, "b"], tool_call_id="call_2")
    failed = ToolMessage("division by zero", tool_call_id="call_3", status="error")
    out = convert_messages([ok, listed, failed])
    assert out[0] == {"role": "tool", "tool_call_id": "call_1", "content": "42"}
    assert out[1]["content"] == "ab"
    assert out[2]["content"] == "Error: division by zero"


def test_tool_message_with_image_becomes_parts() -> None:
    message = ToolMessage(
        [{"type": "text", "text": "chart"}, {"type": "image", "url": "https://x/c.png"}],
        tool_call_id="c",
        status="error",
    )
    content = convert_messages([message])[0]["content"]
    assert content[0] == {"type": "text", "text": "Error:"}
    assert content[2] == {"type": "image_url", "image_url": {"url": "https://x/c.png"}}


def test_images_every_form() -> None:
    message = HumanMessage(
        [
            {"type": "text", "text": "what is this"},
            {"type": "image", "url": "https://example.com/a.jpg"},
            {"type": "image", "base64": "AAAA", "mime_type": "image/png"},
            {"type": "image", "source_type": "base64", "data": "BBBB", "mime_type": "image/jpeg"},
            {"type": "image_url", "image_url": {"url": "https://e.com/b.png", "detail": "high"}},
            {"type": "image_url", "image_url": "data:image/png;base64,CCCC"},
            {"type": "file", "file_id": "file-123"},
        ]
    )
    parts = convert_messages([message])[0]["content"]
    assert parts == [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,BBBB"}},
        {"type": "image_url", "image_url": {"url": "https://e.com/b.png", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,CCCC"}},
        {"type": "file", "file": {"file_id": "file-123"}},
    ]


@pytest.mark.parametrize(
    ("block", "needle"),
    [
        ({"type": "audio", "base64": "x", "mime_type": "audio/wav"}, "'audio'"),
        ({"type": "image"}, "url"),
        ({"type": "image", "base64": "x", "mime_type": "application/pdf"}, "mime_type"),
        ({"type": "image_url", "image_url": {}}, "image_url.url"),
        ({"type": "file", "base64": "x", "mime_type": "application/pdf"}, "'file'"),
    ],
)
def test_unsupported_blocks_fail_with_the_position_and_type(
    block: dict[str, Any], needle: str
) -> None:
    with pytest.raises(ValueError, match="message 1") as info:
        convert_messages([SystemMessage("s"), HumanMessage([block])])
    assert needle in str(info.value)


def test_chat_message_roles() -> None:
    out = convert_messages(
        [ChatMessage(content="rules", role="developer"), ChatMessage(content="hi", role="user")]
    )
    assert out == [{"role": "system", "content": "rules"}, {"role": "user", "content": "hi"}]
    with pytest.raises(ValueError, match="unknown role 'critic'"):
        convert_messages([ChatMessage(content="x", role="critic")])


def test_empty_and_legacy_inputs() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        convert_messages([])
    with pytest.raises(ValueError, match="ToolMessage"):
        convert_messages([FunctionMessage(content="x", name="f")])


def test_system_message_rejects_images() -> None:
    with pytest.raises(ValueError, match="only text"):
        convert_messages([SystemMessage([{"type": "image", "url": "https://x"}])])
