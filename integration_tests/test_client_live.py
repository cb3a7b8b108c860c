"""The low-level client against api.x.ai: shapes the emulator imitates, and real errors."""

from __future__ import annotations

import pytest

from langchain_grok import AsyncXAIClient, ChatGrok, XAIClient
from langchain_grok.errors import AuthenticationError

MESSAGES = [{"role": "user", "content": "Reply with the single word: pong"}]


def test_chat_completion_and_stream() -> None:
    with XAIClient() as client:
        reply = client.chat_completion(MESSAGES, model="grok-4.3")
        assert reply["choices"][0]["message"]["content"]
        assert reply["usage"]["total_tokens"] > 0
        chunks = list(
            client.stream_chat_completion(
                MESSAGES, model="grok-4.3", stream_options={"include_usage": True}
            )
        )
    assert chunks[-1]["choices"] == []
    assert "usage" in chunks[-1]


async def test_async_client() -> None:
    async with AsyncXAIClient() as client:
        reply = await client.chat_completion(MESSAGES, model="grok-4.3")
    assert reply["choices"][0]["message"]["content"]


def test_list_models() -> None:
    with XAIClient() as client:
        ids = [m["id"] for m in client.list_models()["data"]]
    assert any(i.startswith("grok-") for i in ids)


def test_wrong_key_is_an_authentication_error() -> None:
    with (
        XAIClient(api_key="xai-not-a-real-key-000000") as client,
        pytest.raises(AuthenticationError) as info,
    ):
        client.chat_completion(MESSAGES)
    assert "xai-not-a-real-key-000000" not in str(info.value)


def test_chat_grok_cost_and_usage() -> None:
    reply = ChatGrok(model="grok-4.3").invoke("Say hi.")
    usage = reply.usage_metadata
    assert usage is not None
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert reply.response_metadata["cost_in_usd_ticks"] > 0


def test_responses_api_web_search_live() -> None:
    model = ChatGrok(model="grok-4.3").bind_tools([{"type": "web_search"}])
    reply = model.invoke("Search the web: what is the latest stable Python version? Cite a source.")
    assert reply.tool_calls == []
    kinds = [block["type"] for block in reply.content_blocks]
    assert "server_tool_call" in kinds
    assert reply.additional_kwargs.get("citations")


def test_responses_stateless_reasoning_replay_live() -> None:
    model = ChatGrok(model="grok-4.3", use_responses_api=True)
    first = model.invoke("Pick a number between 1 and 9 and remember it.")
    second = model.invoke(
        [("human", "Pick a number between 1 and 9 and remember it."), first, ("human", "Which?")]
    )
    assert second.text
