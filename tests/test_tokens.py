"""Exact token counts through `POST /v1/tokenize-text` (ChatGrok and the client).

Expected counts are worked out here from the emulator's documented FAKE tokenizer rule (each
run of word characters, each run of whitespace, each other character is one token), by hand or
with this file's own regex, never by calling the package's code.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import importlib.abc
import json
import re
import socket
import sys
import threading
from typing import Any

import httpx
import pytest
from langchain_core.exceptions import ModelConnectionError
from langchain_core.messages import (
    AIMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    trim_messages,
)
from langchain_core.tools import tool

from langchain_grok import ChatGrok, XAIClient
from langchain_grok._client import AsyncXAIClient
from langchain_grok._tokens import TOKEN_CACHE, TokenCache
from langchain_grok.errors import (
    APIConnectionError,
    APIResponseValidationError,
    NotFoundError,
)
from langchain_grok.testing import FakeXAIServer

TOKENIZE = "/v1/tokenize-text"
_FAKE_RULE = re.compile(r"\w+|\s+|[^\w\s]")


def fake_count(text: str) -> int:
    return len(_FAKE_RULE.findall(text))


def fake_id(token: str) -> int:
    digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 131_072


def grok(server: FakeXAIServer, **kwargs: Any) -> ChatGrok:
    kwargs.setdefault("model", "grok-4.3")
    return ChatGrok(api_key=server.api_key, base_url=server.base_url, **kwargs)


def tokenize_requests(server: FakeXAIServer) -> list[dict[str, Any]]:
    return [r.json for r in server.requests if r.path == TOKENIZE]


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    TOKEN_CACHE.clear()


# -- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, world!", 5),  # Hello , ' ' world !
        ("a  b", 3),  # a, two spaces, b
        ("naïve café", 3),  # word characters are Unicode-aware
        ("x", 1),
    ],
)
def test_get_num_tokens_counts_the_text_with_the_model_tokenizer(
    fake_xai_server: FakeXAIServer, text: str, expected: int
) -> None:
    model = grok(fake_xai_server)
    assert model.get_num_tokens(text) == expected
    assert tokenize_requests(fake_xai_server) == [{"text": text, "model": "grok-4.3"}]


async def test_aget_num_tokens_counts_the_text(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server, model="grok-4.20-0309-reasoning")
    assert await model.aget_num_tokens("Hello, world!") == 5
    assert tokenize_requests(fake_xai_server) == [
        {"text": "Hello, world!", "model": "grok-4.20-0309-reasoning"}
    ]


def test_get_token_ids_returns_the_endpoint_ids_in_order(fake_xai_server: FakeXAIServer) -> None:
    ids = grok(fake_xai_server).get_token_ids("Hi, you")
    assert ids == [fake_id(t) for t in ("Hi", ",", " ", "you")]


async def test_aget_token_ids_returns_the_endpoint_ids(fake_xai_server: FakeXAIServer) -> None:
    ids = await grok(fake_xai_server).aget_token_ids("Hi, you")
    assert ids == [fake_id(t) for t in ("Hi", ",", " ", "you")]


def test_longer_text_matches_an_independent_count(fake_xai_server: FakeXAIServer) -> None:
    text = "The quick brown fox (2026-09) jumps over the lazy dog... \n\t twice!\n" * 20
    assert grok(fake_xai_server).get_num_tokens(text) == fake_count(text)


def test_empty_text_is_zero_without_a_request(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server)
    assert model.get_num_tokens("") == 0
    assert model.get_token_ids("") == []
    assert fake_xai_server.requests == []


def test_non_string_text_fails_before_any_request(fake_xai_server: FakeXAIServer) -> None:
    with pytest.raises(ValueError, match="text must be a string"):
        grok(fake_xai_server).get_num_tokens(123)  # type: ignore[arg-type]
    with (
        XAIClient(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url) as client,
        pytest.raises(ValueError, match="text must be a string"),
    ):
        client.tokenize_text(None)  # type: ignore[arg-type]
    with (
        XAIClient(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url) as client,
        pytest.raises(ValueError, match="model must be"),
    ):
        client.tokenize_text("hi", model="")
    assert fake_xai_server.requests == []


def test_custom_get_token_ids_is_used_instead_of_the_endpoint(
    fake_xai_server: FakeXAIServer,
) -> None:
    model = grok(fake_xai_server, custom_get_token_ids=lambda text: [7] * len(text))
    assert model.get_num_tokens("abc") == 3
    assert asyncio.run(model.aget_num_tokens("abcd")) == 4
    assert fake_xai_server.requests == []


# -- cache -----------------------------------------------------------------------------------


def test_cache_avoids_a_second_request(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server)
    first = model.get_token_ids("cache me, please")
    assert grok(fake_xai_server).get_token_ids("cache me, please") == first  # another instance
    assert len(tokenize_requests(fake_xai_server)) == 1
    grok(fake_xai_server, model="grok-4.5").get_num_tokens("cache me, please")
    model.get_num_tokens("something else")
    assert [r["model"] for r in tokenize_requests(fake_xai_server)] == [
        "grok-4.3",
        "grok-4.5",
        "grok-4.3",
    ]


async def test_async_cache_avoids_a_second_request(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server)
    assert await model.aget_num_tokens("once only") == 3
    assert await model.aget_num_tokens("once only") == 3
    assert model.get_num_tokens("once only") == 3  # sync and async share the cache
    assert len(tokenize_requests(fake_xai_server)) == 1


def test_cache_is_per_base_url() -> None:
    with FakeXAIServer() as first, FakeXAIServer() as second:
        grok(first).get_num_tokens("same text")
        grok(second).get_num_tokens("same text")
        assert len(tokenize_requests(first)) == len(tokenize_requests(second)) == 1


def _flaky_transport(calls: list[int]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(503, json={"code": "Unavailable", "error": "try later"})
        text = json.loads(request.content)["text"]
        tokens = [{"token_id": i, "string_token": t} for i, t in enumerate(text.split())]
        return httpx.Response(200, json={"token_ids": tokens})

    return httpx.MockTransport(handler)


def test_failures_are_not_cached() -> None:
    calls: list[int] = []
    model = ChatGrok(
        api_key="k",
        base_url="http://127.0.0.1:1/v1",
        max_retries=0,
        http_client=httpx.Client(transport=_flaky_transport(calls)),
    )
    with pytest.raises(Exception, match="503"):
        model.get_num_tokens("two words")
    assert model.get_num_tokens("two words") == 2
    assert model.get_num_tokens("two words") == 2
    assert len(calls) == 2


async def test_failures_are_not_cached_async() -> None:
    calls: list[int] = []
    model = ChatGrok(
        api_key="k",
        base_url="http://127.0.0.1:1/v1",
        max_retries=0,
        http_async_client=httpx.AsyncClient(transport=_flaky_transport(calls)),
    )
    with pytest.raises(Exception, match="503"):
        await model.aget_num_tokens("two words")
    assert await model.aget_num_tokens("two words") == 2
    assert await model.aget_num_tokens("two words") == 2
    assert len(calls) == 2


def test_token_cache_is_bounded_by_entries_and_ids() -> None:
    cache = TokenCache(max_entries=2, max_ids=5)
    keys = [cache.key("u", "m", str(i)) for i in range(4)]
    cache.put(keys[0], [1, 2])
    cache.put(keys[1], [3])
    assert cache.get(keys[0]) == [1, 2]  # now most recently used
    cache.put(keys[2], [4])  # evicts keys[1], the least recently used
    assert cache.get(keys[1]) is None
    assert cache.get(keys[0]) == [1, 2]
    cache.put(keys[3], [5, 6, 7, 8])  # 2 + 1 + 4 ids > 5: evicts until it fits
    assert cache.get(keys[3]) == [5, 6, 7, 8]
    assert len(cache) == 1
    cache.put(keys[1], list(range(6)))  # longer than the whole budget: not cached
    assert cache.get(keys[1]) is None
    assert cache.get(keys[3]) == [5, 6, 7, 8]


def test_token_cache_stays_consistent_under_threads() -> None:
    cache = TokenCache(max_entries=50, max_ids=200)

    def work(worker: int) -> None:
        for i in range(300):
            key = cache.key("u", "m", f"{worker}-{i % 70}")
            cache.put(key, [worker, i, i])
            got = cache.get(key)
            assert got is None or got[0] == worker

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) <= 50
    assert cache._ids == sum(len(v) for v in cache._entries.values()) <= 200


# -- messages --------------------------------------------------------------------------------


def _conversation() -> tuple[list[Any], list[str]]:
    messages = [
        SystemMessage("You are terse."),
        HumanMessage("What is 6 x 7?"),
        AIMessage(
            "",
            additional_kwargs={"reasoning_content": "Multiply six by seven."},
            tool_calls=[{"name": "multiply", "args": {"a": 6, "b": 7}, "id": "call_1"}],
        ),
        ToolMessage("42", tool_call_id="call_1"),
        ToolMessage("division by zero", tool_call_id="call_1", status="error"),
        AIMessage("It is 42."),
    ]
    # What the model reads, as the chat request sends it (arguments are json.dumps output).
    texts = [
        "You are terse.",
        "What is 6 x 7?",
        "Multiply six by seven.",
        "multiply",
        '{"a": 6, "b": 7}',
        "42",
        "Error: division by zero",
        "It is 42.",
    ]
    return messages, texts


def test_messages_count_every_text_the_model_reads(fake_xai_server: FakeXAIServer) -> None:
    messages, texts = _conversation()
    count = grok(fake_xai_server).get_num_tokens_from_messages(messages)
    assert count == sum(fake_count(t) for t in texts)
    assert [r["text"] for r in tokenize_requests(fake_xai_server)] == texts


async def test_async_messages_count_every_text(fake_xai_server: FakeXAIServer) -> None:
    messages, texts = _conversation()
    count = await grok(fake_xai_server).aget_num_tokens_from_messages(messages)
    assert count == sum(fake_count(t) for t in texts)
    assert sorted(r["text"] for r in tokenize_requests(fake_xai_server)) == sorted(texts)


async def test_async_messages_send_each_distinct_text_once(
    fake_xai_server: FakeXAIServer,
) -> None:
    messages = [HumanMessage("same words"), AIMessage("same words"), HumanMessage("same words")]
    count = await grok(fake_xai_server).aget_num_tokens_from_messages(messages)
    assert count == 3 * 3
    assert len(tokenize_requests(fake_xai_server)) == 1


def test_recounting_a_growing_history_asks_only_for_new_texts(
    fake_xai_server: FakeXAIServer,
) -> None:
    model = grok(fake_xai_server)
    history: list[Any] = [HumanMessage("first question")]
    model.get_num_tokens_from_messages(history)
    history += [AIMessage("first answer"), HumanMessage("second question")]
    assert model.get_num_tokens_from_messages(history) == 9
    assert [r["text"] for r in tokenize_requests(fake_xai_server)] == [
        "first question",
        "first answer",
        "second question",
    ]


def test_trim_messages_uses_the_exact_counts(fake_xai_server: FakeXAIServer) -> None:
    history: list[Any] = [SystemMessage("Be brief.")]
    history += [
        HumanMessage(f"question {i}") if i % 2 == 0 else AIMessage(f"answer {i}") for i in range(12)
    ]
    model = grok(fake_xai_server)
    kept = trim_messages(history, token_counter=model, max_tokens=20, include_system=True)
    # "Be brief." is 4 tokens, every other message 3: the system prompt and the last 5 fit.
    assert [m.content for m in kept] == ["Be brief.", *[m.content for m in history[-5:]]]
    texts = [r["text"] for r in tokenize_requests(fake_xai_server)]
    assert len(texts) == len(set(texts))  # every text tokenized once, however often counted


def test_image_blocks_are_not_counted(fake_xai_server: FakeXAIServer) -> None:
    data = base64.b64encode(b"\x89PNG fake image bytes").decode()
    message = HumanMessage(
        [
            {"type": "text", "text": "Describe this:"},
            {"type": "image", "base64": data, "mime_type": "image/png"},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        ]
    )
    model = grok(fake_xai_server)
    assert model.get_num_tokens_from_messages([message]) == fake_count("Describe this:")
    sent = json.dumps(tokenize_requests(fake_xai_server))
    assert data not in sent
    assert "cat.png" not in sent
    doc = ChatGrok.get_num_tokens_from_messages.__doc__ or ""
    assert "images" in doc
    assert "framing tokens" in doc


def test_invalid_messages_fail_before_any_request(fake_xai_server: FakeXAIServer) -> None:
    bad = AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": ""}])
    with pytest.raises(ValueError, match="has no id"):
        grok(fake_xai_server).get_num_tokens_from_messages([HumanMessage("hi"), bad])
    assert fake_xai_server.requests == []


def test_no_messages_count_zero(fake_xai_server: FakeXAIServer) -> None:
    assert grok(fake_xai_server).get_num_tokens_from_messages([]) == 0
    assert fake_xai_server.requests == []


@tool
def get_weather(city: str) -> str:
    """Get the weather in a city."""
    return city


def test_tool_schemas_are_counted_as_their_json(fake_xai_server: FakeXAIServer) -> None:
    function = {
        "name": "lookup",
        "description": "Look a word up.",
        "parameters": {"type": "object", "properties": {"word": {"type": "string"}}},
    }
    tools = [{"type": "function", "function": function}, {"type": "web_search"}]
    model = grok(fake_xai_server)
    count = model.get_num_tokens_from_messages([HumanMessage("hi")], tools=tools)
    schema = json.dumps(function, separators=(",", ":"))
    assert count == 1 + fake_count(schema)
    assert [r["text"] for r in tokenize_requests(fake_xai_server)] == ["hi", schema]


async def test_async_tool_schemas_are_counted(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server)
    without = await model.aget_num_tokens_from_messages([HumanMessage("hi")])
    with_tool = await model.aget_num_tokens_from_messages([HumanMessage("hi")], [get_weather])
    sent = [r["text"] for r in tokenize_requests(fake_xai_server)]
    assert len(sent) == 2
    schema = json.loads(sent[1])
    assert schema["name"] == "get_weather"
    assert with_tool == without + fake_count(sent[1])


# -- failures --------------------------------------------------------------------------------


def test_unreachable_endpoint_raises_a_typed_error() -> None:
    model = ChatGrok(api_key="k", base_url=closed_port_url(), max_retries=0)
    with pytest.raises(APIConnectionError, match="tokenize-text") as caught:
        model.get_num_tokens("hello")
    assert isinstance(caught.value, ModelConnectionError)
    assert "no offline tokenizer" in str(caught.value)
    with pytest.raises(APIConnectionError, match="tokenize-text"):
        model.get_num_tokens_from_messages([HumanMessage("hello")])


async def test_unreachable_endpoint_raises_a_typed_error_async() -> None:
    model = ChatGrok(api_key="k", base_url=closed_port_url(), max_retries=0)
    with pytest.raises(APIConnectionError, match="tokenize-text"):
        await model.aget_num_tokens("hello")
    with pytest.raises(APIConnectionError, match="tokenize-text"):
        await model.aget_num_tokens_from_messages([HumanMessage("hello")])


def test_unknown_model_is_a_404(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server, model="grok-99")
    with pytest.raises(NotFoundError, match="grok-99") as caught:
        model.get_num_tokens("hello")
    assert caught.value.status_code == 404
    assert "tokenize-text" in str(caught.value)
    with (
        XAIClient(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url) as client,
        pytest.raises(NotFoundError),
    ):
        client.tokenize_text("hello", model="grok-99")


async def test_unknown_model_is_a_404_async(fake_xai_server: FakeXAIServer) -> None:
    with pytest.raises(NotFoundError, match="grok-99"):
        await grok(fake_xai_server, model="grok-99").aget_num_tokens("hello")
    client = AsyncXAIClient(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url)
    async with client:
        with pytest.raises(NotFoundError):
            await client.tokenize_text("hello", model="grok-99")


def test_an_answer_without_token_ids_is_a_validation_error() -> None:
    transport = httpx.MockTransport(lambda _: httpx.Response(200, json={"tokens": []}))
    model = ChatGrok(api_key="k", http_client=httpx.Client(transport=transport))
    with pytest.raises(APIResponseValidationError, match="token_ids"):
        model.get_num_tokens("hello")


# -- the client ------------------------------------------------------------------------------


def test_client_tokenize_text_returns_the_tokens(fake_xai_server: FakeXAIServer) -> None:
    with XAIClient(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url) as client:
        answer = client.tokenize_text("Grok é", model="grok-4.5", user="u-1")
    assert answer == {
        "token_ids": [
            {
                "token_id": fake_id("Grok"),
                "string_token": "Grok",
                "token_bytes": [71, 114, 111, 107],
            },
            {"token_id": fake_id(" "), "string_token": " ", "token_bytes": [32]},
            {"token_id": fake_id("é"), "string_token": "é", "token_bytes": [0xC3, 0xA9]},
        ]
    }
    assert tokenize_requests(fake_xai_server) == [
        {"text": "Grok é", "model": "grok-4.5", "user": "u-1"}
    ]


async def test_async_client_tokenize_text(fake_xai_server: FakeXAIServer) -> None:
    client = AsyncXAIClient(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url)
    async with client:
        answer = await client.tokenize_text("a b")
    assert [t["string_token"] for t in answer["token_ids"]] == ["a", " ", "b"]
    assert tokenize_requests(fake_xai_server)[0]["model"] == "grok-4.3"


# -- no tokenizer library --------------------------------------------------------------------


class _ImportRecorder(importlib.abc.MetaPathFinder):
    """Records every attempt to import a tokenizer library, installed or not."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname.split(".", maxsplit=1)[0] in {"tiktoken", "transformers", "tokenizers"}:
            self.attempts.append(fullname)


def test_no_tokenizer_library_is_imported(
    fake_xai_server: FakeXAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import langchain_core.language_models.base as lc_base

    def refuse(*_: Any) -> Any:
        msg = "LangChain's default GPT-2 tokenizer must not be used"
        raise AssertionError(msg)

    monkeypatch.setattr(lc_base, "get_tokenizer", refuse)
    monkeypatch.setattr(lc_base, "_get_token_ids_default_method", refuse)
    recorder = _ImportRecorder()
    monkeypatch.setattr(sys, "meta_path", [recorder, *sys.meta_path])
    model = grok(fake_xai_server)
    messages, _ = _conversation()
    model.get_num_tokens("hello there")
    model.get_token_ids("hello again")
    model.get_num_tokens_from_messages(messages, tools=[get_weather])
    asyncio.run(model.aget_num_tokens_from_messages(messages))
    assert recorder.attempts == []
    assert not {"tiktoken", "transformers", "tokenizers"} & set(sys.modules)


def test_failure_message_never_quotes_credentials_in_the_base_url() -> None:
    url = closed_port_url().replace("http://", "http://user:s3cret@")
    model = ChatGrok(api_key="xai-secret-key", base_url=url, max_retries=0)
    with pytest.raises(APIConnectionError, match="tokenize-text") as caught:
        model.get_num_tokens("hello")
    assert "s3cret" not in str(caught.value)
    assert "xai-secret-key" not in str(caught.value)


async def test_async_count_stops_other_requests_after_a_failure() -> None:
    started: list[str] = []
    cancelled: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        text = json.loads(request.content)["text"]
        started.append(text)
        if text == "bad":
            return httpx.Response(404, json={"code": "Not found", "error": "no such model"})
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(text)
            raise
        return httpx.Response(200, json={"token_ids": []})

    model = ChatGrok(
        api_key="k",
        max_retries=0,
        http_async_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    messages: list[Any] = [HumanMessage("slow one"), HumanMessage("bad"), HumanMessage("slow two")]
    with pytest.raises(NotFoundError, match="tokenize-text"):
        await model.aget_num_tokens_from_messages(messages)
    for _ in range(5):  # let the cancelled requests unwind
        await asyncio.sleep(0)
    assert sorted(started) == ["bad", "slow one", "slow two"]
    assert sorted(cancelled) == ["slow one", "slow two"]
