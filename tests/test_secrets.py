"""The secret audit: the API key appears in no repr, str, log line, exception, serialized form,
callback payload, trace event or pickled error, and never travels to another origin.

A distinctive key is used so that a substring search is meaningful; each place is checked for the
whole key and for its distinctive middle (a truncated copy would still be a leak).
"""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
import socket
import traceback
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, dumps
from langchain_core.tracers.base import BaseTracer
from langchain_core.tracers.schemas import Run

from langchain_grok import AsyncXAIClient, ChatGrok, XAIClient
from langchain_grok.errors import APIError, GrokError
from langchain_grok.testing import (
    FakeXAIServer,
    ScriptedReply,
    error_reply,
    in_band_error_reply,
)

KEY = "xai-AUDIT-7c1f0e9d2b3a4f5e6d7c8b9a-KEY"
MIDDLE = "7c1f0e9d2b3a4f5e6d7c8b9a"
FAST = {"retry-after-ms": "1"}


def assert_clean(*texts: object) -> None:
    for text in texts:
        data = text if isinstance(text, bytes) else str(text).encode()
        assert KEY.encode() not in data, text
        assert MIDDLE.encode() not in data, text


@pytest.fixture
def server() -> Iterator[FakeXAIServer]:
    with FakeXAIServer(api_key=KEY) as running:
        yield running


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything langchain_grok, httpx and httpcore log, at DEBUG."""
    caplog.set_level(logging.DEBUG)
    for name in ("langchain_grok", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def grok(server: FakeXAIServer, **kwargs: Any) -> ChatGrok:
    kwargs.setdefault("use_responses_api", False)  # the mock transports answer chat shapes
    return ChatGrok(api_key=KEY, base_url=server.base_url, **kwargs)


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        lines.append(repr(record.args))
        if record.exc_info:
            lines.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(lines)


def _error_views(error: BaseException) -> list[object]:
    """Every way an error reaches a human or a log: str, repr, traceback, pickle, the chain."""
    views: list[object] = [
        str(error),
        repr(error),
        "".join(traceback.format_exception(error)),
        pickle.dumps(error),
        repr(vars(error)),
    ]
    link: BaseException | None = error
    while link is not None:
        views.append(repr(link))
        request = getattr(link, "_request", None) or getattr(link, "request", None)
        if isinstance(request, httpx.Request):
            views.append(repr(request.headers.raw))
        response = getattr(link, "response", None)
        if isinstance(response, httpx.Response):
            views.append(repr(response.request.headers.raw))
            views.append(pickle.dumps(response))
            views.extend(repr(hop.request.headers.raw) for hop in response.history)
        link = link.__cause__ or link.__context__
    return views


# -- representations and serialized forms ---------------------------------------------------------


def test_reprs_and_serialized_forms(server: FakeXAIServer) -> None:
    model = grok(
        server,
        model="grok-4.20-0309-non-reasoning",
        temperature=0.2,
        stop=["END"],
        model_kwargs={"user": "u-1"},
    )
    model.invoke("warm up")  # the lazily created clients exist now
    asyncio.run(model.ainvoke("warm up"))
    standalone = XAIClient(api_key=KEY, base_url=server.base_url)
    async_standalone = AsyncXAIClient(api_key=KEY, base_url=server.base_url)
    assert_clean(
        repr(model),
        str(model),
        repr(model.client),
        str(model.client),
        repr(model.async_client),
        repr(standalone),
        str(async_standalone),
        json.dumps(dumpd(model)),
        dumps(model),
        model.to_json(),
        model.model_dump(),
        model.model_dump(mode="json"),
        model.model_dump_json(),
        model._get_ls_params(),
        model._identifying_params,
        model._get_invocation_params(stop=["x"]),
        model.bind_tools([{"type": "function", "function": {"name": "f", "parameters": {}}}]),
        model.with_structured_output({"title": "T", "type": "object", "properties": {}}),
    )
    standalone.close()


class Recorder(BaseCallbackHandler):
    """Keeps every payload LangChain hands to callbacks (what LangSmith would upload)."""

    def __init__(self) -> None:
        self.seen: list[object] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.seen.extend([serialized, kwargs.get("invocation_params"), kwargs])

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        self.seen.append(kwargs)

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.seen.append(response)

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.seen.extend([error, kwargs])


class Tracer(BaseTracer):
    """A tracer that keeps its runs: the serialized run is exactly what a tracer exports."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[Run] = []

    def _persist_run(self, run: Run) -> None:
        self.runs.append(run)


async def test_callbacks_tracers_and_stream_events(server: FakeXAIServer) -> None:
    model = grok(server, temperature=0.1)
    recorder, tracer = Recorder(), Tracer()
    config: Any = {"callbacks": [recorder, tracer]}
    model.invoke("sync", config=config)
    await model.ainvoke("async", config=config)
    list(model.stream("stream", config=config))
    server.script(error_reply(500, "boom", headers=FAST, repeat=3))
    with pytest.raises(GrokError):
        await model.ainvoke("fails", config=config)
    events = [e async for e in model.astream_events("events", version="v2")]
    invocation = [
        s["invocation_params"]
        for s in recorder.seen
        if isinstance(s, dict) and "invocation_params" in s
    ]
    assert invocation  # the callbacks did receive invocation params
    assert all(p["_type"] == "xai-chat" for p in invocation)
    assert_clean(
        repr(recorder.seen),
        *(run.model_dump_json() for run in tracer.runs),
        repr(events),
    )


# -- logs -------------------------------------------------------------------------------------


def test_debug_logs_of_every_path(
    server: FakeXAIServer, debug_logs: pytest.LogCaptureFixture
) -> None:
    model = grok(server)
    model.invoke("ok")
    list(model.stream("ok"))
    server.script(error_reply(503, "busy", headers=FAST, repeat=3))
    with pytest.raises(GrokError):
        model.invoke("retried then failed")
    server.script(ScriptedReply(content="a b c d", cut_after_events=2))
    with pytest.raises(GrokError):
        list(model.stream("cut"))
    asyncio.run(model.ainvoke("async"))
    text = _log_text(debug_logs)
    assert "Retrying POST" in text  # the retries were logged...
    assert "authorization" in text.lower()  # ...and the redacted header was
    assert "send_request_headers" in text  # httpcore's DEBUG lines were captured too
    assert_clean(text)


# -- exceptions ----------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# case -> (replies, entry point, max_retries): status failures are retried (with a 1 ms
# retry-after), so the errors built on the retry path are checked too.
FAILURES: dict[str, tuple[list[ScriptedReply], str, int]] = {
    "5xx after retries": ([error_reply(503, "busy", headers=FAST, repeat=3)], "invoke", 2),
    "429 after retries": ([error_reply(429, "slow down", headers=FAST, repeat=3)], "stream", 2),
    "in-band error": ([in_band_error_reply(repeat=3)], "stream", 1),
    "cut mid-stream": ([ScriptedReply(content="a b c d", cut_after_events=2)], "stream", 1),
    "reset before headers": ([ScriptedReply(cut_after_events=0, repeat=3)], "stream", 0),
    "error frame": ([ScriptedReply(content="a b c", error_event_at=1)], "stream", 1),
    "malformed frame": ([ScriptedReply(content="a b c", malformed_at_event=1)], "stream", 1),
    "stall": ([ScriptedReply(content="a b c d", event_delay=1.0)], "stream", 1),
    "read timeout": ([ScriptedReply(delay=1.0)], "invoke", 0),
}


@pytest.mark.parametrize("case", list(FAILURES))
@pytest.mark.parametrize("sync", [True, False])
def test_exceptions_of_every_failure(server: FakeXAIServer, case: str, sync: bool) -> None:
    replies, kind, retries = FAILURES[case]
    server.script(*replies)
    model = grok(server, timeout=0.2, max_retries=retries)

    async def run_async() -> None:
        if kind == "invoke":
            await model.ainvoke("x")
        else:
            [_ async for _ in model.astream("x")]

    with pytest.raises(APIError) as info:
        if sync:
            model.invoke("x") if kind == "invoke" else list(model.stream("x"))
        else:
            asyncio.run(run_async())
    assert_clean(*_error_views(info.value))


def test_connection_refused_and_wrong_key_errors() -> None:
    refused = ChatGrok(api_key=KEY, base_url=f"http://127.0.0.1:{_closed_port()}/v1", max_retries=0)
    with pytest.raises(APIError) as info:
        refused.invoke("x")
    assert_clean(*_error_views(info.value))
    with FakeXAIServer(api_key="xai-some-other-key") as other, pytest.raises(APIError) as info:
        ChatGrok(api_key=KEY, base_url=other.base_url).invoke("x")
    assert "Incorrect API key" in str(info.value)
    assert_clean(*_error_views(info.value))


# -- transport ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base_url",
    [
        "http://api.example.com/v1",
        "http://localhost.evil.test/v1",
        "http://127.0.0.1.nip.io/v1",
        "http://10.0.0.8:8080/v1",
    ],
)
def test_plain_http_to_a_non_loopback_host_warns(base_url: str) -> None:
    with pytest.warns(UserWarning, match="plain http"):
        XAIClient(api_key=KEY, base_url=base_url)
    with pytest.warns(UserWarning, match="plain http"):
        AsyncXAIClient(api_key=KEY, base_url=base_url)
    model = ChatGrok(api_key=KEY, base_url=base_url)  # the key is only used at the first call
    with pytest.warns(UserWarning, match="plain http") as warned:
        model.client  # noqa: B018 - creating the client is what warns
    assert_clean(*(str(w.message) for w in warned))


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:9/v1", "http://localhost:9/v1", "http://[::1]:9/v1", "https://x.test/v1"],
)
def test_loopback_and_https_do_not_warn(base_url: str) -> None:
    # filterwarnings=error turns any warning into a failure
    XAIClient(api_key=KEY, base_url=base_url).close()


class Origins:
    """A MockTransport world: api.x.ai redirects, other hosts record what reached them."""

    def __init__(self, location: str, final_status: int = 200) -> None:
        self.location = location
        self.final_status = final_status
        self.seen: list[tuple[str, str | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        origin = f"{request.url.scheme}://{request.url.host}"
        self.seen.append((f"{origin}{request.url.path}", request.headers.get("authorization")))
        if request.url.path == "/v1/chat/completions":
            return httpx.Response(307, headers={"location": self.location})
        if self.final_status >= 400:
            return httpx.Response(self.final_status, json={"code": "Internal error", "error": "x"})
        return httpx.Response(
            200,
            json={
                "id": "r",
                "object": "chat.completion",
                "created": 0,
                "model": "grok-4.3",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "from elsewhere"},
                        "finish_reason": "stop",
                    }
                ],
            },
        )


@pytest.mark.parametrize(
    "location",
    [
        "https://evil.test/v1/steal",  # another host
        "http://api.x.ai/v1/steal",  # same host, downgraded to plain http
        "https://api.x.ai:8443/v1/steal",  # same host, another port
    ],
)
@pytest.mark.parametrize("sync", [True, False])
def test_redirects_never_carry_the_key_to_another_origin(location: str, sync: bool) -> None:
    origins = Origins(location)
    transport = httpx.MockTransport(origins)
    if sync:
        http = httpx.Client(transport=transport, follow_redirects=True)
        ChatGrok(
            api_key=KEY, base_url="https://api.x.ai/v1", http_client=http, use_responses_api=False
        ).invoke("x")
    else:
        ahttp = httpx.AsyncClient(transport=transport, follow_redirects=True)
        model = ChatGrok(
            api_key=KEY,
            base_url="https://api.x.ai/v1",
            http_async_client=ahttp,
            use_responses_api=False,
        )
        asyncio.run(model.ainvoke("x"))
    (first, first_auth), (second, second_auth) = origins.seen
    assert first == "https://api.x.ai/v1/chat/completions"
    assert first_auth == f"Bearer {KEY}"
    assert second == location.replace(":8443", "")
    assert second_auth is None


@pytest.mark.parametrize("sync", [True, False])
def test_errors_after_a_same_origin_redirect_hold_no_key(sync: bool) -> None:
    """The key rightly follows a same-origin redirect, but the error kept afterwards (its
    `.response.request` is the redirected request) must not carry it: it used to, and a
    pickled error (a task queue, a multiprocessing result) held the key in clear."""
    origins = Origins("https://api.x.ai/v1/moved", final_status=500)
    transport = httpx.MockTransport(origins)
    with pytest.raises(APIError) as info:
        if sync:
            http = httpx.Client(transport=transport, follow_redirects=True)
            XAIClient(
                api_key=KEY, base_url="https://api.x.ai/v1", http_client=http, max_retries=0
            ).chat_completion([{"role": "user", "content": "x"}])
        else:
            ahttp = httpx.AsyncClient(transport=transport, follow_redirects=True)
            client = AsyncXAIClient(
                api_key=KEY, base_url="https://api.x.ai/v1", http_client=ahttp, max_retries=0
            )
            asyncio.run(client.chat_completion([{"role": "user", "content": "x"}]))
    assert origins.seen[1] == ("https://api.x.ai/v1/moved", f"Bearer {KEY}")
    assert_clean(*_error_views(info.value))


def test_errors_on_a_redirect_hop_hold_no_key() -> None:
    """A transport failure on the second hop: httpx's exception (our error's __cause__) holds
    the hop's request, which carried the key."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/chat/completions":
            return httpx.Response(307, headers={"location": "/v1/moved"})
        msg = "connection reset on the second hop"
        raise httpx.ReadError(msg, request=request)

    http = httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=True)
    client = XAIClient(api_key=KEY, base_url="https://api.x.ai/v1", http_client=http, max_retries=0)
    with pytest.raises(APIError) as info:
        client.chat_completion([{"role": "user", "content": "x"}])
    assert isinstance(info.value.__cause__, httpx.ReadError)
    assert_clean(*_error_views(info.value))
