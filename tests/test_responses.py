"""The Responses API path, pure parts: recorded replies -> messages, history -> input items,
parameters -> body, and which API a call goes to."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_grok._payload import build_responses_body
from langchain_grok._requests import Settings, plan_request
from langchain_grok._responses import RAW_OUTPUT_KEY, messages_to_input, response_to_message
from langchain_grok._responses_stream import ResponsesChunkConverter
from langchain_grok._sse import SSEDecoder

from .recordings import RECORDINGS, load

NONSTREAM = sorted(
    p.name.split("_")[0]
    for p in RECORDINGS.glob("rs*_nonstream_*.json")
    if "output" in (json.loads(p.read_text())["response"].get("json") or {})
)


def events_of(prefix: str) -> list[dict[str, Any]]:
    response = load(prefix)["response"]
    if "sse_data_lines" in response:
        return [json.loads(line) for line in response["sse_data_lines"]]
    decoder = SSEDecoder()
    found = decoder.feed(response["sse"].encode()) + decoder.flush()
    return [json.loads(e.data) for e in found]


def merged_stream(prefix: str) -> AIMessageChunk:
    converter = ResponsesChunkConverter()
    merged = AIMessageChunk(content="")
    for event in events_of(prefix):
        chunk = converter.convert(event)
        if chunk is not None:
            assert isinstance(chunk.message, AIMessageChunk)
            merged = merged + chunk.message
    final = converter.finish().message
    assert isinstance(final, AIMessageChunk)
    return merged + final


@pytest.mark.parametrize("prefix", NONSTREAM)
def test_every_recorded_response(prefix: str) -> None:
    response = load(prefix)["response"]["json"]
    message = response_to_message(response)
    usage = message.usage_metadata
    assert usage is not None
    raw = response["usage"]
    assert usage["output_tokens"] == raw["output_tokens"]  # already includes reasoning
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["output_token_details"]["reasoning"] <= usage["output_tokens"]
    assert message.response_metadata["model_provider"] == "xai"
    assert message.response_metadata["api"] == "responses"
    assert message.additional_kwargs[RAW_OUTPUT_KEY] == response["output"]
    function_calls = [o for o in response["output"] if o["type"] == "function_call"]
    assert [c["id"] for c in message.tool_calls] == [c["call_id"] for c in function_calls]
    server_calls = [
        o
        for o in response["output"]
        if o["type"].endswith("_call") and o["type"] != "function_call"
    ]
    blocks = message.content if isinstance(message.content, list) else []
    assert len(
        [b for b in blocks if isinstance(b, dict) and b["type"] == "server_tool_call"]
    ) == len(server_calls)
    if "cost_in_usd_ticks" in raw:
        assert message.response_metadata["cost_in_usd_ticks"] == raw["cost_in_usd_ticks"]


def test_citations_point_at_the_cited_span() -> None:
    message = response_to_message(load("rs09")["response"]["json"])
    (text_block,) = [b for b in message.content if isinstance(b, dict) and b["type"] == "text"]
    (citation,) = text_block["annotations"]
    assert citation["type"] == "citation"
    assert citation["url"] == "https://www.ruby-lang.org/en/downloads/"
    cited = text_block["text"][citation["start_index"] : citation["end_index"]]
    assert cited == citation["cited_text"] == "[[1]](https://www.ruby-lang.org/en/downloads/)"
    assert message.additional_kwargs["citations"] == ["https://www.ruby-lang.org/en/downloads/"]
    assert message.tool_calls == []  # two web searches ran, none is a client tool call
    assert [b["type"] for b in message.content_blocks].count("server_tool_call") == 2


@pytest.mark.parametrize(("stream", "whole"), [("rs02", "rs01"), ("rs05", "rs03")])
def test_streams_merge_like_the_whole_reply(stream: str, whole: str) -> None:
    merged = merged_stream(stream)
    final_event = events_of(stream)[-1]["response"]
    expected = response_to_message(final_event)
    assert merged.content == expected.content
    assert merged.tool_calls == expected.tool_calls
    assert merged.usage_metadata == expected.usage_metadata
    assert (
        merged.additional_kwargs["reasoning_content"]
        == expected.additional_kwargs["reasoning_content"]
    )
    assert merged.additional_kwargs[RAW_OUTPUT_KEY] == final_event["output"]
    assert merged.chunk_position == "last"
    assert (
        response_to_message(load(whole)["response"]["json"]).response_metadata["finish_reason"]
        == (merged.response_metadata["finish_reason"])
    )


@pytest.mark.parametrize("prefix", ["rs12", "rs13"])
def test_server_tool_streams_never_yield_client_tool_calls(prefix: str) -> None:
    merged = merged_stream(prefix)
    assert merged.tool_calls == []
    assert merged.tool_call_chunks == []
    kinds = [b["type"] for b in merged.content_blocks]
    assert "server_tool_call" in kinds
    assert kinds.count("server_tool_call") == kinds.count("server_tool_result")
    assert merged.text
    assert merged.usage_metadata is not None


def test_history_replays_raw_items_byte_for_byte() -> None:
    reply = response_to_message(load("rs09")["response"]["json"])
    items = messages_to_input(
        [SystemMessage("be brief"), HumanMessage("ruby?"), reply, HumanMessage("thanks")]
    )
    assert items[0] == {"role": "system", "content": "be brief"}
    assert items[1] == {"role": "user", "content": "ruby?"}
    assert (
        items[2 : 2 + len(reply.additional_kwargs[RAW_OUTPUT_KEY])]
        == reply.additional_kwargs[RAW_OUTPUT_KEY]
    )
    encrypted = [i["encrypted_content"] for i in items if i.get("type") == "reasoning"]
    assert encrypted == [
        o["encrypted_content"]
        for o in load("rs09")["response"]["json"]["output"]
        if o["type"] == "reasoning"
    ]
    assert items[-1] == {"role": "user", "content": "thanks"}


def test_history_built_from_plain_messages() -> None:
    items = messages_to_input(
        [
            HumanMessage(
                [{"type": "text", "text": "see"}, {"type": "image", "url": "https://x/a.png"}]
            ),
            AIMessage("", tool_calls=[{"name": "f", "args": {"q": "é"}, "id": "call-1"}]),
            ToolMessage("result", tool_call_id="call-1", status="error"),
        ]
    )
    assert items == [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "see"},
                {"type": "input_image", "image_url": "https://x/a.png"},
            ],
        },
        {"type": "function_call", "call_id": "call-1", "name": "f", "arguments": '{"q": "é"}'},
        {"type": "function_call_output", "call_id": "call-1", "output": "Error: result"},
    ]


def test_responses_body_renames_and_drops() -> None:
    body, dropped = build_responses_body(
        [{"role": "user", "content": "x"}],
        {
            "model": "grok-4.3",
            "max_tokens": 100,
            "reasoning_effort": "high",
            "stop": ["x"],
            "presence_penalty": 0.2,
            "response_format": {"type": "json_schema", "json_schema": {"name": "P", "schema": {}}},
            "tools": [
                {"type": "function", "function": {"name": "f", "parameters": {}}},
                {"type": "web_search"},
            ],
            "tool_choice": {"type": "function", "function": {"name": "f"}},
        },
        stream=True,
    )
    assert dropped == ["stop", "presence_penalty"]
    assert body["max_output_tokens"] == 100
    assert body["reasoning"] == {"effort": "high"}
    assert body["text"] == {"format": {"type": "json_schema", "name": "P", "schema": {}}}
    assert body["tools"] == [
        {"type": "function", "name": "f", "parameters": {}},
        {"type": "web_search"},
    ]
    assert body["tool_choice"] == {"type": "function", "name": "f"}
    assert body["stream"] is True
    assert not {"max_tokens", "reasoning_effort", "response_format", "stop"} & set(body)


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "params": {"model": "grok-4.3"},
        "stream_usage": True,
        "conversation_id": None,
        "use_responses_api": None,
        "store": False,
        "include": (),
        "use_previous_response_id": False,
    }
    values.update(overrides)
    return Settings(**values)


def test_routing_between_the_two_apis() -> None:
    hello = [HumanMessage("hi")]
    # Default: the Responses API, as xAI recommends, whenever it can serve the request.
    plan = plan_request(settings(), hello, None, {}, stream=False)
    assert plan.responses
    assert plan.body["store"] is False
    assert plan.body["include"] == ["reasoning.encrypted_content"]
    # Requests only Chat Completions can serve stay there.
    for needs_chat in ({"n": 2}, {"seed": 7}, {"logit_bias": {"1": 2}}):
        assert not plan_request(settings(), hello, None, needs_chat, stream=False).responses
    non_reasoning = settings(params={"model": "grok-4.20-0309-non-reasoning"})
    assert not plan_request(non_reasoning, hello, ["END"], {}, stream=False).responses
    # A reasoning model rejects `stop` anyway (dropped with a warning), so it does not hold the
    # request back; nor does an empty list.
    assert plan_request(settings(), hello, ["END"], {}, stream=False).responses
    assert plan_request(non_reasoning, hello, [], {}, stream=False).responses
    assert "include" not in plan_request(non_reasoning, hello, None, {}, stream=False).body
    # Server-side tools need the Responses API even where a chat-only parameter is present.
    tools = {"tools": [{"type": "web_search"}], "seed": 1}
    assert plan_request(settings(), hello, None, tools, stream=False).responses
    # An explicit choice wins.
    assert not plan_request(
        settings(use_responses_api=False), hello, None, {}, stream=False
    ).responses
    with pytest.raises(ValueError, match="run only on the Responses API"):
        plan_request(settings(use_responses_api=False), hello, None, tools, stream=False)


def test_previous_response_id_sends_only_new_messages() -> None:
    earlier = AIMessage("4", response_metadata={"api": "responses", "id": "resp-1"})
    history = [HumanMessage("2+2?"), earlier, HumanMessage("times 3?")]
    plan = plan_request(settings(use_previous_response_id=True), history, None, {}, stream=False)
    assert plan.responses
    assert plan.body["previous_response_id"] == "resp-1"
    assert plan.body["store"] is True
    assert plan.body["input"] == [{"role": "user", "content": "times 3?"}]
