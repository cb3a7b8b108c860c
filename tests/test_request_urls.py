"""Endpoint URLs are parsed once per client (PROFILE.md proposal I) and stay right when changed.

The client keeps the parsed `httpx.URL` of each endpoint instead of handing httpx a string to
parse and validate on every call; these tests pin what that cache must not break.
"""

from __future__ import annotations

import pytest

from langchain_grok import AsyncXAIClient, NotFoundError, XAIClient
from langchain_grok.testing import FakeXAIServer

MESSAGES = [{"role": "user", "content": "hi"}]


def test_reassigned_base_url_is_used(fake_xai_server: FakeXAIServer) -> None:
    with FakeXAIServer() as other:
        client = XAIClient(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url)
        client.chat_completion(MESSAGES)
        client.base_url = other.base_url
        client.chat_completion(MESSAGES)
        client.close()
        assert [r.path for r in fake_xai_server.requests] == ["/v1/chat/completions"]
        assert [r.path for r in other.requests] == ["/v1/chat/completions"]


async def test_reassigned_base_url_is_used_async(fake_xai_server: FakeXAIServer) -> None:
    with FakeXAIServer() as other:
        client = AsyncXAIClient(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url)
        await client.chat_completion(MESSAGES)
        client.base_url = other.base_url
        await client.chat_completion(MESSAGES)
        await client.aclose()
        assert len(fake_xai_server.requests) == 1
        assert len(other.requests) == 1


def test_many_ids_reach_their_own_paths_and_the_cache_stays_small(
    fake_xai_server: FakeXAIServer,
) -> None:
    client = XAIClient(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url)
    ids = [f"resp_{i}" for i in range(60)]
    for response_id in ids:
        with pytest.raises(NotFoundError):  # unknown ids: the path is what is checked here
            client.retrieve_response(response_id)
    client.close()
    assert [r.path for r in fake_xai_server.requests] == [f"/v1/responses/{i}" for i in ids]
    assert len(client._urls) <= 32


async def test_many_ids_reach_their_own_paths_async(fake_xai_server: FakeXAIServer) -> None:
    client = AsyncXAIClient(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url)
    ids = [f"resp_{i}" for i in range(40)]
    for response_id in ids:
        with pytest.raises(NotFoundError):
            await client.retrieve_response(response_id)
    await client.aclose()
    assert [r.path for r in fake_xai_server.requests] == [f"/v1/responses/{i}" for i in ids]
    assert len(client._urls) <= 32
