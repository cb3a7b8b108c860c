"""The O(1) async connection pool (`async_transport`, the default of ChatGrok's own async pools).

Everything goes through the emulator over real TCP, and connections are counted on the server
side (`RecordedRequest.connection_id`), so reuse, limits and expiry are observed rather than
assumed. Two edge cases the emulator cannot play (a server that drops a kept-alive connection
just as a request arrives on it) use a ten-line asyncio server in the test.
"""

from __future__ import annotations

import asyncio
import gc
import random
import socket
import ssl
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage

from langchain_grok import APIConnectionError, APITimeoutError, AsyncXAIClient, ChatGrok
from langchain_grok import async_transport as exported_async_transport
from langchain_grok._client._pools import new_async_pool
from langchain_grok._client._transport import LeanAsyncTransport, async_transport
from langchain_grok.testing import FakeXAIServer, ScriptedReply

MESSAGES = [{"role": "user", "content": "hi"}]


def lean_client(
    limits: httpx.Limits | None = None, timeout: httpx.Timeout | float = 10.0
) -> tuple[httpx.AsyncClient, LeanAsyncTransport]:
    transport = async_transport(limits=limits or httpx.Limits(max_connections=100))
    return httpx.AsyncClient(transport=transport, timeout=timeout), transport


def model_on(server: FakeXAIServer, http: httpx.AsyncClient | None, **extra: Any) -> ChatGrok:
    return ChatGrok(
        api_key=server.api_key,
        base_url=server.base_url,
        http_async_client=http,
        use_responses_api=False,
        **extra,
    )


def connections(server: FakeXAIServer) -> set[int]:
    return {r.connection_id for r in server.requests}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_transport_is_exported_lazily() -> None:
    assert exported_async_transport is async_transport


async def test_chatgrok_owned_pool_is_the_lean_pool(fake_xai_server: FakeXAIServer) -> None:
    model = model_on(fake_xai_server, None)
    assert (await model.ainvoke("a")).content == "You said: a"
    http = await model.async_client._http()
    assert isinstance(http._transport, LeanAsyncTransport)


# -- reuse and limits -------------------------------------------------------------------------


async def test_sequential_calls_reuse_one_connection(fake_xai_server: FakeXAIServer) -> None:
    http, transport = lean_client()
    model = model_on(fake_xai_server, http)
    for i in range(10):
        assert (await model.ainvoke(f"i{i}")).content == f"You said: i{i}"
        text = "".join([str(c.content) async for c in model.astream(f"s{i}")])
        assert text == f"You said: s{i}"
    assert len(fake_xai_server.requests) == 20
    assert connections(fake_xai_server) == {1}
    assert (transport.pool.open_connections, transport.pool.idle_connections) == (1, 1)
    await http.aclose()
    assert transport.pool.open_connections == 0


async def test_owned_pool_reuses_one_connection_too(fake_xai_server: FakeXAIServer) -> None:
    model = model_on(fake_xai_server, None)
    for i in range(5):
        await model.ainvoke(f"i{i}")
    assert connections(fake_xai_server) == {1}


async def test_500_concurrent_astreams_are_all_exact(fake_xai_server: FakeXAIServer) -> None:
    http, transport = lean_client(httpx.Limits(max_connections=1000))
    model = model_on(fake_xai_server, http)
    fake_xai_server.script(ScriptedReply(chunk_words=1, event_delay=0.001, repeat=500))

    async def one(i: int) -> str:
        return "".join([str(c.content) async for c in model.astream(f"word{i} and more")])

    results = await asyncio.gather(*(one(i) for i in range(500)))
    assert results == [f"You said: word{i} and more" for i in range(500)]
    assert transport.pool.open_connections == transport.pool.idle_connections
    assert len(connections(fake_xai_server)) <= 500
    await http.aclose()


async def test_max_connections_is_never_exceeded(fake_xai_server: FakeXAIServer) -> None:
    http, transport = lean_client(httpx.Limits(max_connections=5, max_keepalive_connections=5))
    model = model_on(fake_xai_server, http)
    fake_xai_server.script(ScriptedReply(delay=0.02, repeat=60))
    results = await asyncio.gather(*(model.ainvoke(f"c{i}") for i in range(60)))
    assert [r.content for r in results] == [f"You said: c{i}" for i in range(60)]
    # Never more than 5 open at once, and none closed (keep-alive 5): the same 5 throughout.
    assert len(connections(fake_xai_server)) == 5
    assert transport.pool.open_connections == 5
    await http.aclose()


async def test_keepalive_limit_closes_the_surplus(fake_xai_server: FakeXAIServer) -> None:
    http, transport = lean_client(httpx.Limits(max_connections=10, max_keepalive_connections=2))
    model = model_on(fake_xai_server, http)
    fake_xai_server.script(ScriptedReply(delay=0.05, repeat=20))
    await asyncio.gather(*(model.ainvoke(f"a{i}") for i in range(10)))
    assert len(connections(fake_xai_server)) == 10
    assert (transport.pool.open_connections, transport.pool.idle_connections) == (2, 2)
    await asyncio.gather(*(model.ainvoke(f"b{i}") for i in range(10)))
    # 2 kept alive and reused, 8 new.
    assert len(connections(fake_xai_server)) == 18
    await http.aclose()


async def test_expired_keepalive_connection_is_not_reused(fake_xai_server: FakeXAIServer) -> None:
    http, transport = lean_client(httpx.Limits(max_connections=10, keepalive_expiry=0.05))
    model = model_on(fake_xai_server, http)
    await model.ainvoke("first")
    await asyncio.sleep(0.15)
    await model.ainvoke("second")
    assert len(connections(fake_xai_server)) == 2
    assert transport.pool.open_connections == 1  # the expired one was closed, not leaked
    await http.aclose()


async def test_a_full_pool_evicts_another_origins_idle_connection(
    fake_xai_server: FakeXAIServer,
) -> None:
    http, transport = lean_client(httpx.Limits(max_connections=1))
    with FakeXAIServer() as other:
        first = model_on(fake_xai_server, http)
        second = model_on(other, http)
        assert (await first.ainvoke("a")).content == "You said: a"
        assert (await second.ainvoke("b")).content == "You said: b"  # needs first's slot
        assert (await first.ainvoke("c")).content == "You said: c"
        assert [r.connection_id for r in fake_xai_server.requests] == [1, 2]
        assert [r.connection_id for r in other.requests] == [1]
        assert transport.pool.open_connections == 1
    await http.aclose()


# -- stale connections ------------------------------------------------------------------------


async def test_connection_closed_by_the_server_is_detected_before_reuse() -> None:
    server = FakeXAIServer(port=free_port())
    with server:
        http, transport = lean_client()
        model = model_on(server, http, max_retries=0)
        assert (await model.ainvoke("before")).content == "You said: before"
        server.stop()  # closes every connection, the idle one included
        server.start()  # same port, a new process-side listener
        assert (await model.ainvoke("after")).content == "You said: after"
        assert [r.json["messages"][0]["content"] for r in server.requests] == ["before", "after"]
        assert transport.pool.open_connections == 1
        await http.aclose()


class DroppingServer:
    """HTTP/1.1 server that answers, then drops the connection when the next request arrives.

    That is the race no readability check can see: the server closes a kept-alive connection
    just as the client sends on it. `drop_every_time` also drops requests on new connections.
    """

    BODY = b'{"id":"x","object":"chat.completion","model":"grok-4.3","choices":[]}'

    def __init__(self, *, drop_every_time: bool = False) -> None:
        self.connections = 0
        self.answered = 0
        self.drop_every_time = drop_every_time

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                await reader.readexactly(length)
                if served or self.drop_every_time:
                    break  # drop it without answering
                served += 1
                self.answered += 1
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(self.BODY), self.BODY)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def test_request_on_a_connection_dropped_by_the_server_is_retried_once() -> None:
    dropping = DroppingServer()
    server = await asyncio.start_server(dropping.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    http, transport = lean_client()
    client = AsyncXAIClient(
        api_key="k", base_url=f"http://127.0.0.1:{port}/v1", http_client=http, max_retries=0
    )
    for _ in range(3):  # each reuse meets a dropped connection, retried on a new one
        assert (await client.chat_completion(MESSAGES))["id"] == "x"
    assert (dropping.connections, dropping.answered) == (3, 3)
    assert transport.pool.open_connections == 1
    await http.aclose()
    server.close()
    await server.wait_closed()


async def test_a_drop_on_a_new_connection_is_an_error_not_a_loop() -> None:
    dropping = DroppingServer(drop_every_time=True)
    server = await asyncio.start_server(dropping.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    http, transport = lean_client()
    client = AsyncXAIClient(
        api_key="k", base_url=f"http://127.0.0.1:{port}/v1", http_client=http, max_retries=0
    )
    with pytest.raises(APIConnectionError, match="Connection error"):
        await client.chat_completion(MESSAGES)
    assert dropping.connections == 1
    assert transport.pool.open_connections == 0
    await http.aclose()
    server.close()
    await server.wait_closed()


# -- cancellation -----------------------------------------------------------------------------


async def test_cancellation_storm_leaves_no_checked_out_connection(
    fake_xai_server: FakeXAIServer,
) -> None:
    http, transport = lean_client(httpx.Limits(max_connections=20), timeout=httpx.Timeout(10))
    model = model_on(fake_xai_server, http, max_retries=0)
    fake_xai_server.script(ScriptedReply(content="a b c d e f g h", event_delay=0.01, repeat=300))
    rng = random.Random(7)  # noqa: S311 - reproducible timings, not secrets

    async def stream(i: int) -> str:
        return "".join([str(c.content) async for c in model.astream(f"s{i}")])

    async def early_exit(i: int) -> None:
        async for _ in model.astream(f"e{i}"):
            break

    jobs: list[asyncio.Task[Any]] = []
    for i in range(150):
        kind = i % 3
        if kind == 0:
            coro: Any = asyncio.wait_for(stream(i), rng.uniform(0.0, 0.08))
        elif kind == 1:
            coro = asyncio.wait_for(model.ainvoke(f"i{i}"), rng.uniform(0.0, 0.05))
        else:
            coro = early_exit(i)
        jobs.append(asyncio.create_task(coro))
    await asyncio.sleep(0.02)  # all started (a task cancelled before it starts proves nothing)
    for job in jobs[::7]:
        job.cancel()
    outcomes = await asyncio.gather(*jobs, return_exceptions=True)
    assert all(
        o is None or isinstance(o, (str, asyncio.CancelledError, TimeoutError, AIMessage))
        for o in outcomes
    ), [type(o) for o in outcomes if isinstance(o, BaseException)][:5]
    assert any(isinstance(o, (asyncio.CancelledError, TimeoutError)) for o in outcomes)
    # A stream abandoned by a cancelled task is closed when its generator is finalized; the
    # exceptions kept in `outcomes` hold those generators through their tracebacks.
    del outcomes, jobs
    gc.collect()
    await asyncio.sleep(0.05)
    pool = transport.pool
    assert pool.open_connections == pool.idle_connections  # nothing checked out
    assert pool.open_connections <= 20
    # And the pool still serves the full limit at once.
    fake_xai_server.reset()
    fake_xai_server.script(ScriptedReply(delay=0.05, repeat=20))
    results = await asyncio.gather(*(model.ainvoke(f"after{i}") for i in range(20)))
    assert [r.content for r in results] == [f"You said: after{i}" for i in range(20)]
    await http.aclose()


async def test_cancelled_waiters_do_not_lose_slots(fake_xai_server: FakeXAIServer) -> None:
    http, transport = lean_client(httpx.Limits(max_connections=1))
    model = model_on(fake_xai_server, http, max_retries=0)
    fake_xai_server.script(ScriptedReply(delay=0.1), ScriptedReply(repeat=10))
    holder = asyncio.create_task(model.ainvoke("holder"))
    await asyncio.sleep(0.02)
    waiters = [asyncio.create_task(model.ainvoke(f"w{i}")) for i in range(5)]
    await asyncio.sleep(0.01)
    for waiter in waiters[:4]:
        waiter.cancel()
    assert (await holder).content == "You said: holder"
    assert (await waiters[4]).content == "You said: w4"
    assert (await model.ainvoke("last")).content == "You said: last"
    assert connections(fake_xai_server) == {1}
    assert transport.pool.open_connections == transport.pool.idle_connections == 1
    await http.aclose()


async def test_a_waiter_cancelled_just_after_its_wake_up_passes_it_on(
    fake_xai_server: FakeXAIServer,
) -> None:
    http, transport = lean_client(httpx.Limits(max_connections=1), timeout=httpx.Timeout(5, pool=2))
    model = model_on(fake_xai_server, http, max_retries=0)
    request = http.build_request(
        "POST",
        fake_xai_server.base_url + "/chat/completions",
        json={"model": "grok-4.3", "messages": MESSAGES},
        headers={"authorization": f"Bearer {fake_xai_server.api_key}"},
    )
    held = await http.send(request, stream=True)  # the only connection
    first = asyncio.create_task(model.ainvoke("first"))
    second = asyncio.create_task(model.ainvoke("second"))
    await asyncio.sleep(0.05)  # both wait for the pool
    await held.aclose()  # wakes `first` without yielding to the loop ...
    first.cancel()  # ... which is cancelled before it can use the wake-up
    with pytest.raises(asyncio.CancelledError):
        await first
    # Without passing the wake-up on, `second` would sit until the pool timeout.
    assert (await second).content == "You said: second"
    assert transport.pool.open_connections == transport.pool.idle_connections
    await http.aclose()


# -- pool timeout -----------------------------------------------------------------------------


async def test_full_pool_times_out_with_the_typed_error(fake_xai_server: FakeXAIServer) -> None:
    http, transport = lean_client(
        httpx.Limits(max_connections=1), timeout=httpx.Timeout(5, pool=0.1)
    )
    model = model_on(fake_xai_server, http, max_retries=0)
    fake_xai_server.script(ScriptedReply(delay=0.5), ScriptedReply())
    holder = asyncio.create_task(model.ainvoke("holder"))
    await asyncio.sleep(0.05)
    with pytest.raises(APITimeoutError, match="free connection in the pool"):
        await model.ainvoke("waits")
    assert not holder.done()
    assert (await holder).content == "You said: holder"
    assert (await model.ainvoke("then")).content == "You said: then"
    sent = [r.json["messages"][0]["content"] for r in fake_xai_server.requests]
    assert sent == ["holder", "then"]  # the timed-out call never reached the server
    assert transport.pool.open_connections == 1
    await http.aclose()


# -- TLS and proxies --------------------------------------------------------------------------


def test_tls_uses_httpx_ssl_context_and_verify() -> None:
    strict = async_transport().pool._ssl_context
    assert strict is not None
    assert strict.verify_mode == ssl.CERT_REQUIRED
    assert strict.check_hostname
    lax = async_transport(verify=False).pool._ssl_context
    assert lax is not None
    assert lax.verify_mode == ssl.CERT_NONE


async def test_https_origin_speaks_tls(fake_xai_server: FakeXAIServer) -> None:
    # The emulator speaks plain HTTP, so a TLS handshake against it must fail: proof that an
    # https URL gets TLS rather than being sent in clear.
    http, transport = lean_client()
    base = fake_xai_server.base_url.replace("http://127.0.0.1", "https://localhost")
    client = AsyncXAIClient(api_key="k", base_url=base, http_client=http, max_retries=0)
    with pytest.raises(APIConnectionError):
        await client.chat_completion(MESSAGES)
    assert not fake_xai_server.requests  # no request line was ever parsed by the server
    assert transport.pool.open_connections == 0
    await http.aclose()


def test_owned_pool_falls_back_to_httpx_when_proxies_are_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(new_async_pool(httpx.Timeout(5))._transport, LeanAsyncTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    assert isinstance(new_async_pool(httpx.Timeout(5))._transport, httpx.AsyncHTTPTransport)


async def test_requests_go_through_the_environment_proxy(
    fake_xai_server: FakeXAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The emulator accepts absolute-form targets, so it can play the proxy: a request for a
    # host that does not exist arrives at it only if the proxy variable was honoured.
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{fake_xai_server.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    model = ChatGrok(
        api_key=fake_xai_server.api_key,
        base_url="http://api.grok.invalid/v1",
        use_responses_api=False,
        max_retries=0,
    )
    with pytest.warns(UserWarning, match="plain http"):  # the client is made at the first call
        reply = await model.ainvoke("via proxy")
    assert reply.content == "You said: via proxy"
    [request] = fake_xai_server.requests
    assert request.headers.get("host") == "api.grok.invalid"
