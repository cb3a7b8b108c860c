"""The fault matrix of the transport, sync and async, through the real emulator over loopback.

Each case asserts the exception type, `status_code`, `request_id` where the server sent one,
and how many attempts the emulator saw.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest

from langchain_grok import AsyncXAIClient, XAIClient
from langchain_grok.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from langchain_grok.testing import (
    FakeXAIServer,
    ScriptedReply,
    error_reply,
    in_band_error_reply,
    text_reply,
)

MESSAGES = [{"role": "user", "content": "hello there"}]
FAST = {"retry-after-ms": "20"}  # real retry path, short wait


def run(server: FakeXAIServer, mode: str, kind: str, **client_kwargs: Any) -> list[Any]:
    """Make one chat call (sync or async, streamed or not) and return what it produced.

    A stream's chunks are collected into the returned list until the call raises; on error the
    exception propagates with `.partial` set to the chunks seen so far.
    """
    client_kwargs = {"api_key": server.api_key, "base_url": server.base_url, **client_kwargs}
    if mode == "sync":
        return _run_sync(kind, client_kwargs)
    return asyncio.run(_run_async(kind, client_kwargs))


def _run_sync(kind: str, client_kwargs: dict[str, Any]) -> list[Any]:
    seen: list[Any] = []
    with XAIClient(**client_kwargs) as client:
        try:
            if kind == "invoke":
                seen.append(client.chat_completion(MESSAGES))
            else:
                seen.extend(client.stream_chat_completion(MESSAGES))
        except APIError as exc:
            exc.partial = seen  # type: ignore[attr-defined]
            raise
    return seen


async def _run_async(kind: str, client_kwargs: dict[str, Any]) -> list[Any]:
    seen: list[Any] = []
    async with AsyncXAIClient(**client_kwargs) as client:
        try:
            if kind == "invoke":
                seen.append(await client.chat_completion(MESSAGES))
            else:
                async for chunk in client.stream_chat_completion(MESSAGES):
                    seen.append(chunk)  # noqa: PERF401 - keep what arrived before an error
        except APIError as exc:
            exc.partial = seen  # type: ignore[attr-defined]
            raise
    return seen


MODES = pytest.mark.parametrize("mode", ["sync", "async"])
KINDS = pytest.mark.parametrize("kind", ["invoke", "stream"])


@pytest.mark.slow
@MODES
def test_429_with_retry_after_one_second_then_success(
    fake_xai_server: FakeXAIServer, mode: str
) -> None:
    fake_xai_server.script(
        error_reply(429, "slow down", headers={"retry-after": "1"}), text_reply("ok")
    )
    started = time.monotonic()
    result = run(fake_xai_server, mode, "invoke")
    waited = time.monotonic() - started
    assert result[0]["choices"][0]["message"]["content"] == "ok"
    assert len(fake_xai_server.requests) == 2
    assert 0.9 <= waited < 5


@MODES
@KINDS
def test_503_twice_then_success(fake_xai_server: FakeXAIServer, mode: str, kind: str) -> None:
    fake_xai_server.script(error_reply(503, "busy", headers=FAST, repeat=2), text_reply("fine now"))
    result = run(fake_xai_server, mode, kind)
    assert len(fake_xai_server.requests) == 3
    text = (
        result[0]["choices"][0]["message"]["content"]
        if kind == "invoke"
        else "".join(c["choices"][0]["delta"].get("content", "") for c in result if c["choices"])
    )
    assert text == "fine now"


@MODES
@KINDS
def test_500_beyond_max_retries(fake_xai_server: FakeXAIServer, mode: str, kind: str) -> None:
    headers = {**FAST, "x-request-id": "req-500"}
    fake_xai_server.script(error_reply(500, "kaput", headers=headers, repeat=10))
    with pytest.raises(InternalServerError) as info:
        run(fake_xai_server, mode, kind, max_retries=3)
    assert info.value.status_code == 500
    assert info.value.request_id == "req-500"
    assert str(info.value) == "Error code: 500 - Internal error: kaput"
    assert len(fake_xai_server.requests) == 4


@MODES
@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, UnprocessableEntityError),
    ],
)
def test_client_errors_are_typed_and_not_retried(
    fake_xai_server: FakeXAIServer, mode: str, status: int, cls: type[APIStatusError]
) -> None:
    fake_xai_server.script(error_reply(status, "no", headers={"x-request-id": f"r{status}"}))
    with pytest.raises(cls) as info:
        run(fake_xai_server, mode, "stream")
    assert type(info.value) is cls
    assert info.value.status_code == status
    assert info.value.request_id == f"r{status}"
    assert len(fake_xai_server.requests) == 1


@MODES
def test_credits_exhausted_429_is_not_retried(fake_xai_server: FakeXAIServer, mode: str) -> None:
    message = (
        "Your team 1234 has either used all available credits or reached its monthly "
        "spending limit. To continue making API requests, please purchase more credits."
    )
    fake_xai_server.script(error_reply(429, message, headers={"retry-after": "0"}, repeat=5))
    with pytest.raises(RateLimitError) as info:
        run(fake_xai_server, mode, "invoke")
    assert info.value.status_code == 429
    assert not info.value.is_retryable
    assert len(fake_xai_server.requests) == 1


@MODES
def test_wrong_key_is_the_real_apis_400(fake_xai_server: FakeXAIServer, mode: str) -> None:
    with pytest.raises(AuthenticationError) as info:
        run(fake_xai_server, mode, "invoke", api_key="xai-wrong-key-123")
    assert info.value.status_code == 400
    assert "xai-wrong-key-123" not in str(info.value)
    assert len(fake_xai_server.requests) == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@MODES
@KINDS
def test_connection_refused(mode: str, kind: str) -> None:
    base_url = f"http://127.0.0.1:{_closed_port()}/v1"
    started = time.monotonic()
    with pytest.raises(APIConnectionError) as info:
        asyncio.run(_run_async(kind, {"api_key": "k", "base_url": base_url, "max_retries": 1})) if (
            mode == "async"
        ) else _run_sync(kind, {"api_key": "k", "base_url": base_url, "max_retries": 1})
    assert not isinstance(info.value, APITimeoutError)
    assert "Connection error" in str(info.value)
    # One retry with backoff happened (0.25-0.5 s) before giving up.
    assert time.monotonic() - started >= 0.2


@MODES
@KINDS
def test_silent_server_hits_the_read_timeout(
    fake_xai_server: FakeXAIServer, mode: str, kind: str
) -> None:
    fake_xai_server.script(ScriptedReply(delay=3.0))
    with pytest.raises(APITimeoutError) as info:
        run(fake_xai_server, mode, kind, timeout=0.3, max_retries=0)
    assert "ReadTimeout" in str(info.value)
    assert len(fake_xai_server.requests) == 1


@MODES
def test_stall_between_events_is_a_timeout_not_an_end(
    fake_xai_server: FakeXAIServer, mode: str
) -> None:
    fake_xai_server.script(ScriptedReply(content="a b c d", event_delay=1.0))
    with pytest.raises(APITimeoutError) as info:
        run(fake_xai_server, mode, "stream", timeout=0.3, max_retries=0)
    assert len(info.value.partial) == 1  # type: ignore[attr-defined]


@MODES
def test_stream_cut_after_three_events(fake_xai_server: FakeXAIServer, mode: str) -> None:
    fake_xai_server.script(
        ScriptedReply(content="one two three four five six", cut_after_events=3, repeat=5)
    )
    with pytest.raises(APIConnectionError) as info:
        run(fake_xai_server, mode, "stream")
    assert len(info.value.partial) == 3  # type: ignore[attr-defined]
    # The first events reached the caller, so the stream is not retried.
    assert len(fake_xai_server.requests) == 1


@MODES
def test_stream_cut_before_any_event_is_retried(fake_xai_server: FakeXAIServer, mode: str) -> None:
    fake_xai_server.script(ScriptedReply(cut_after_events=0), text_reply("second try"))
    chunks = run(fake_xai_server, mode, "stream")
    assert len(fake_xai_server.requests) == 2
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])


@MODES
def test_200_with_error_body_on_a_stream_request(fake_xai_server: FakeXAIServer, mode: str) -> None:
    fake_xai_server.script(in_band_error_reply("Timed out waiting for first token", repeat=3))
    with pytest.raises(InternalServerError) as info:
        run(fake_xai_server, mode, "stream", max_retries=2)
    assert info.value.status_code == 503
    assert "Timed out waiting for first token" in str(info.value)
    assert info.value.partial == []  # type: ignore[attr-defined]
    assert len(fake_xai_server.requests) == 3  # retried like any overload


@MODES
def test_200_with_error_body_then_success(fake_xai_server: FakeXAIServer, mode: str) -> None:
    fake_xai_server.script(in_band_error_reply(), text_reply("recovered"))
    result = run(fake_xai_server, mode, "invoke")
    assert result[0]["choices"][0]["message"]["content"] == "recovered"
    assert len(fake_xai_server.requests) == 2


@MODES
def test_malformed_frame(fake_xai_server: FakeXAIServer, mode: str) -> None:
    fake_xai_server.script(ScriptedReply(content="a b c d e", malformed_at_event=2))
    with pytest.raises(APIResponseValidationError) as info:
        run(fake_xai_server, mode, "stream")
    assert info.value.status_code == 200
    assert info.value.request_id  # the emulator sends x-request-id on success
    assert len(info.value.partial) == 2  # type: ignore[attr-defined]
    assert len(fake_xai_server.requests) == 1


@MODES
def test_error_frame_mid_stream(fake_xai_server: FakeXAIServer, mode: str) -> None:
    fake_xai_server.script(
        ScriptedReply(
            content="a b c d e",
            error_event_at=2,
            error_event={"code": "Some resource has been exhausted", "error": "quota"},
        )
    )
    with pytest.raises(RateLimitError) as info:
        run(fake_xai_server, mode, "stream")
    assert len(info.value.partial) == 2  # type: ignore[attr-defined]
    assert len(fake_xai_server.requests) == 1


@MODES
def test_event_over_the_size_cap(fake_xai_server: FakeXAIServer, mode: str) -> None:
    fake_xai_server.script(ScriptedReply(content="x" * (9 * 1024 * 1024)))
    with pytest.raises(APIResponseValidationError, match="size cap"):
        run(fake_xai_server, mode, "stream")
    assert len(fake_xai_server.requests) == 1


def test_breaking_out_of_a_sync_stream_closes_the_connection(
    fake_xai_server: FakeXAIServer,
) -> None:
    fake_xai_server.script(ScriptedReply(content=" ".join(["w"] * 200), event_delay=0.01))
    with XAIClient(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url) as client:
        for index, _ in enumerate(client.stream_chat_completion(MESSAGES)):
            if index == 2:
                break
        (request,) = fake_xai_server.requests
        assert request.finished.wait(3)
        assert request.outcome == "client_disconnected"
        # The client is still usable afterwards.
        assert client.chat_completion(MESSAGES)["choices"]


async def test_closing_an_async_stream_closes_the_connection(
    fake_xai_server: FakeXAIServer,
) -> None:
    fake_xai_server.script(ScriptedReply(content=" ".join(["w"] * 200), event_delay=0.01))
    async with AsyncXAIClient(
        api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url
    ) as client:
        stream = client.stream_chat_completion(MESSAGES)
        async for _ in stream:
            break
        await stream.aclose()  # type: ignore[attr-defined]
        (request,) = fake_xai_server.requests
        assert await asyncio.to_thread(request.finished.wait, 3)
        assert request.outcome == "client_disconnected"
        assert (await client.chat_completion(MESSAGES))["choices"]


def test_one_pool_reused_across_calls(fake_xai_server: FakeXAIServer) -> None:
    with XAIClient(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url) as client:
        client.chat_completion(MESSAGES)
        list(client.stream_chat_completion(MESSAGES))
        client.chat_completion(MESSAGES)
    assert len({r.connection_id for r in fake_xai_server.requests}) == 1


def test_list_models(fake_xai_server: FakeXAIServer) -> None:
    with XAIClient(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url) as client:
        models = client.list_models()
    assert "grok-4.3" in [m["id"] for m in models["data"]]


def test_recorded_streams_replay_through_the_client(fake_xai_server: FakeXAIServer) -> None:
    from .recordings import load, names

    for prefix in names("_stream_"):
        sse = load(prefix)["response"]["sse"]
        fake_xai_server.script(
            ScriptedReply(raw_body=sse.encode(), content_type="text/event-stream")
        )
        with XAIClient(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url) as c:
            chunks = list(c.stream_chat_completion(MESSAGES))
        expected = sse.count("data: {")
        assert len(chunks) == expected, prefix


def test_responses_client_create_stream_retrieve_delete(fake_xai_server: FakeXAIServer) -> None:
    from langchain_grok.errors import NotFoundError

    with XAIClient(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url) as client:
        stored = client.create_response("keep me", store=True)
        assert stored["status"] == "completed"
        assert client.retrieve_response(stored["id"])["id"] == stored["id"]
        events = list(client.stream_response("stream me", store=False))
        assert events[0]["type"] == "response.created"
        assert events[-1]["type"] == "response.completed"
        assert client.delete_response(stored["id"])["deleted"] is True
        with pytest.raises(NotFoundError):
            client.retrieve_response(stored["id"])
        with pytest.raises(ValueError, match="response_id"):
            client.retrieve_response("../models")


async def test_async_responses_stream_failed_event(fake_xai_server: FakeXAIServer) -> None:
    fake_xai_server.script(ScriptedReply(content="a b c", failed=True))
    async with AsyncXAIClient(
        api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url, max_retries=0
    ) as client:
        seen = []
        with pytest.raises(APIStatusError):
            async for event in client.stream_response("x"):
                seen.append(event["type"])  # noqa: PERF401 - keep what arrived before the error
        assert "response.output_text.delta" in seen
