"""Deferred completions against api.x.ai: the protocol the emulator imitates (xai-api.md s. 7).

No recording of this endpoint exists (recordings/README.md), so these are the tests that would
catch the emulator and the client agreeing with each other but not with xAI.
"""

from __future__ import annotations

import uuid

import pytest

from langchain_grok import AsyncXAIClient, ChatGrok, XAIClient
from langchain_grok.errors import NotFoundError

MESSAGES = [{"role": "user", "content": "Reply with the single word: pong"}]


def test_deferred_round_trip_then_the_result_is_gone() -> None:
    with XAIClient() as client:
        request_id = client.start_deferred_completion(MESSAGES, model="grok-4.3")
        result = client.wait_deferred_completion(request_id, poll_interval=1.0, timeout=300)
        assert result["choices"][0]["message"]["content"]
        assert result["usage"]["total_tokens"] > 0
        with pytest.raises(NotFoundError, match=request_id):
            client.get_deferred_completion(request_id)


def test_unknown_deferred_id_is_not_found() -> None:
    unknown = str(uuid.uuid4())
    with XAIClient() as client, pytest.raises(NotFoundError, match=unknown):
        client.get_deferred_completion(unknown)


async def test_async_deferred_chat_completion() -> None:
    async with AsyncXAIClient() as client:
        result = await client.deferred_chat_completion(MESSAGES, model="grok-4.3", timeout=300)
    assert result["choices"][0]["message"]["content"]


def test_chat_grok_deferred_invoke() -> None:
    reply = ChatGrok(model="grok-4.3", deferred=True, deferred_timeout=300).invoke("Say hi.")
    assert reply.content
    assert reply.response_metadata["cost_in_usd_ticks"] > 0
