"""ChatGrok on xAI's Responses API, end to end through the emulator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool

from langchain_grok import ChatGrok
from langchain_grok._responses import RAW_OUTPUT_KEY
from langchain_grok.errors import InternalServerError, NotFoundError
from langchain_grok.testing import FakeXAIServer, ScriptedReply, text_reply, web_search_reply

SOURCES = ["https://www.ruby-lang.org/en/downloads/", "https://github.com/ruby/ruby/releases"]


def grok(server: FakeXAIServer, **kwargs: Any) -> ChatGrok:
    kwargs.setdefault("model", "grok-4.3")
    return ChatGrok(api_key=server.api_key, base_url=server.base_url, **kwargs)


def merge(chunks: list[Any]) -> AIMessageChunk:
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert isinstance(merged, AIMessageChunk)
    return merged


def test_plain_reply_matches_chat_completions(fake_xai_server: FakeXAIServer) -> None:
    via_chat = grok(fake_xai_server, use_responses_api=False).invoke("same input")
    via_responses = grok(fake_xai_server, use_responses_api=True).invoke("same input")
    assert via_responses.content == via_chat.content == "You said: same input"
    assert via_responses.additional_kwargs["reasoning_content"]
    for reply in (via_chat, via_responses):
        usage = reply.usage_metadata
        assert usage is not None
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
        assert usage["output_token_details"]["reasoning"] > 0
        assert reply.response_metadata["model_provider"] == "xai"
        assert reply.response_metadata["finish_reason"] == "stop"
        assert reply.response_metadata["cost_in_usd_ticks"] > 0
    request = fake_xai_server.requests[1]
    assert request.path == "/v1/responses"
    assert request.json["store"] is False
    assert request.json["include"] == ["reasoning.encrypted_content"]


def test_web_search_binds_routes_and_cites(fake_xai_server: FakeXAIServer) -> None:
    """Pain points 7, 8: server tools bind, never become tool_calls, and citations map to text."""
    reply_script = web_search_reply(
        "Ruby 4.0.6 is the latest stable version. It was released in July.",
        query="latest ruby",
        sources=SOURCES,
    )
    fake_xai_server.script(reply_script, reply_script)
    model = grok(fake_xai_server).bind_tools([{"type": "web_search"}])
    reply = model.invoke("latest ruby?")
    assert fake_xai_server.requests[0].path == "/v1/responses"
    assert fake_xai_server.requests[0].json["tools"] == [{"type": "web_search"}]
    assert reply.tool_calls == []
    kinds = [b["type"] for b in reply.content_blocks]
    assert kinds == ["reasoning", "server_tool_call", "server_tool_result", "text"]
    text_block: Any = reply.content_blocks[-1]
    citations = text_block["annotations"]
    assert [c["url"] for c in citations] == SOURCES
    for citation in citations:
        assert (
            text_block["text"][citation["start_index"] : citation["end_index"]]
            == citation["cited_text"]
        )
        assert citation["cited_text"].endswith(f"({citation['url']})")
    assert reply.additional_kwargs["citations"] == SOURCES
    assert reply.response_metadata["num_server_side_tools_used"] == 1
    streamed = merge(list(model.stream("latest ruby?")))
    assert streamed.tool_calls == []
    assert [b["type"] for b in streamed.content_blocks if b["type"] != "text"] == [
        "reasoning",
        "server_tool_call",
        "server_tool_result",
    ]
    assert streamed.text == text_block["text"]
    assert streamed.additional_kwargs["citations"] == SOURCES


def test_stateless_multi_turn_replays_encrypted_reasoning(fake_xai_server: FakeXAIServer) -> None:
    """Pain point 9: with store off, each turn resends the reasoning exactly as received.

    The emulator seals reasoning blobs; a changed byte, or a dropped blob, fails the request.
    """
    model = grok(fake_xai_server, use_responses_api=True)
    history: list[Any] = [HumanMessage("first question")]
    first = model.invoke(history)
    history += [first, HumanMessage("second question")]
    second = model.invoke(history)
    assert second.content == "You said: second question"
    sent = fake_xai_server.requests[1].json["input"]
    replayed = [item for item in sent if item.get("type") == "reasoning"]
    original = [i for i in first.additional_kwargs[RAW_OUTPUT_KEY] if i["type"] == "reasoning"]
    assert replayed == original
    assert all(item["encrypted_content"] for item in replayed)
    # Tampering is caught by the server, which proves the blob is checked, not ignored.
    tampered = first.model_copy(deep=True)
    tampered.additional_kwargs[RAW_OUTPUT_KEY][0]["encrypted_content"] += "x"
    with pytest.raises(Exception, match="could not be verified"):
        model.invoke([HumanMessage("first question"), tampered, HumanMessage("again")])


def test_previous_response_id_chain(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server, use_previous_response_id=True)
    first = model.invoke([HumanMessage("remember 7")])
    second = model.invoke([HumanMessage("remember 7"), first, HumanMessage("what was it?")])
    body = fake_xai_server.requests[1].json
    assert body["previous_response_id"] == first.id
    assert body["input"] == [{"role": "user", "content": "what was it?"}]
    assert body["store"] is True
    assert second.content == "You said: what was it?"
    assert first.id in fake_xai_server.stored_responses


def test_function_tools_round_trip_on_responses(fake_xai_server: FakeXAIServer) -> None:
    @tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    fake_xai_server.script(
        ScriptedReply(tool_calls=[{"name": "add", "arguments": {"a": 2, "b": 3}}]),
        text_reply("2 + 3 = 5"),
    )
    model = grok(fake_xai_server, use_responses_api=True).bind_tools([add])
    history: list[Any] = [HumanMessage("2+3?")]
    call = model.invoke(history)
    assert call.tool_calls[0]["args"] == {"a": 2, "b": 3}
    assert call.response_metadata["finish_reason"] == "tool_calls"
    history += [call, ToolMessage("5", tool_call_id=call.tool_calls[0]["id"])]
    answer = model.invoke(history)
    assert answer.content == "2 + 3 = 5"
    sent = fake_xai_server.requests[1].json
    assert sent["tools"] == [
        {
            "type": "function",
            "name": "add",
            "description": "Add two numbers.",
            "parameters": sent["tools"][0]["parameters"],
        }
    ]
    outputs = [i for i in sent["input"] if i.get("type") == "function_call_output"]
    assert outputs == [
        {"type": "function_call_output", "call_id": call.tool_calls[0]["id"], "output": "5"}
    ]


def test_streamed_function_call_and_async(fake_xai_server: FakeXAIServer) -> None:
    fake_xai_server.script(
        ScriptedReply(tool_calls=[{"name": "lookup", "arguments": {"q": "東京"}}]),
        text_reply("async answer"),
    )
    model = grok(fake_xai_server, use_responses_api=True).bind_tools(
        [
            {
                "type": "function",
                "function": {
                    "name": "lookup",
                    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
                },
            }
        ]
    )
    merged = merge(list(model.stream("find")))
    assert merged.tool_calls[0]["args"] == {"q": "東京"}
    assert merged.usage_metadata is not None

    async def run() -> AIMessage:
        return await model.ainvoke("again")

    assert asyncio.run(run()).content == "async answer"


def test_failures_on_the_responses_path(fake_xai_server: FakeXAIServer) -> None:
    fake_xai_server.script(ScriptedReply(content="a b c d", failed=True))
    with pytest.raises(InternalServerError):
        list(grok(fake_xai_server, use_responses_api=True, max_retries=0).stream("x"))
    fake_xai_server.script(ScriptedReply(content="a b c d e f", cut_after_events=6))
    with pytest.raises(Exception, match=r"Connection error|ended before"):
        list(grok(fake_xai_server, use_responses_api=True, max_retries=0).stream("x"))
    with pytest.raises(NotFoundError):
        grok(fake_xai_server, use_responses_api=True).invoke(
            "x", previous_response_id="no-such-response", store=True
        )


def test_incomplete_reply_reports_length(fake_xai_server: FakeXAIServer) -> None:
    fake_xai_server.script(
        ScriptedReply(content="cut short", incomplete_reason="max_output_tokens")
    )
    reply = grok(fake_xai_server, use_responses_api=True).invoke("x", max_tokens=5)
    assert reply.response_metadata["finish_reason"] == "length"
    assert fake_xai_server.requests[0].json["max_output_tokens"] == 5


async def test_concurrent_astreams_on_the_responses_api(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server, use_responses_api=True)

    async def one(index: int) -> str:
        merged: Any = None
        async for chunk in model.astream(f"request {index}"):
            merged = chunk if merged is None else merged + chunk
        assert merged.usage_metadata is not None
        return str(merged.text)

    texts = await asyncio.gather(*(one(i) for i in range(200)))
    assert texts == [f"You said: request {i}" for i in range(200)]


async def test_cancelling_a_responses_stream_closes_it(fake_xai_server: FakeXAIServer) -> None:
    fake_xai_server.script(ScriptedReply(content=" ".join(["w"] * 300), event_delay=0.01))
    model = grok(fake_xai_server, use_responses_api=True)

    async def consume() -> None:
        async for _ in model.astream("long"):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (request,) = fake_xai_server.requests
    assert await asyncio.to_thread(request.finished.wait, 3)
    assert request.outcome == "client_disconnected"
    assert (await model.ainvoke("next")).text == "You said: next"


def test_chat_only_parameters_on_the_responses_api(fake_xai_server: FakeXAIServer) -> None:
    # By default a `stop` the model accepts keeps the request on Chat Completions...
    model = grok(fake_xai_server, model="grok-4.20-0309-non-reasoning")
    model.invoke("x", stop=["END"])
    assert fake_xai_server.requests[-1].path == "/v1/chat/completions"
    # ...and forcing the Responses API drops it, saying so once.
    forced = grok(fake_xai_server, model="grok-4.20-0309-non-reasoning", use_responses_api=True)
    with pytest.warns(UserWarning, match="rejects stop on the Responses API"):
        forced.invoke("x", stop=["END"])
    assert fake_xai_server.requests[-1].path == "/v1/responses"
    assert "stop" not in fake_xai_server.requests[-1].json
