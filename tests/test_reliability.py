"""Reliability of ChatGrok under concurrency, cancellation and process boundaries.

Everything runs against the emulator over loopback. The larger runs (500 concurrent streams,
thousands of calls with injected faults) live in `bench/soak.py` (`make soak`).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import traceback
import warnings
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import httpx
import pytest
from langchain_core.load import dumpd, load

from langchain_grok import ChatGrok
from langchain_grok.errors import APITimeoutError
from langchain_grok.testing import FakeXAIServer, ScriptedReply, error_reply

LONG = ScriptedReply(content=" ".join(f"w{i}" for i in range(400)), event_delay=0.01)


def grok(server: FakeXAIServer, **kwargs: Any) -> ChatGrok:
    # Chat Completions framing is asserted below; the Responses path has its own cases at the end.
    kwargs.setdefault("use_responses_api", False)
    return ChatGrok(api_key=server.api_key, base_url=server.base_url, **kwargs)


async def finished(server: FakeXAIServer, index: int = 0, timeout: float = 3.0) -> str:
    """The outcome of the `index`-th request, once the emulator knows how it ended."""
    request = server.requests[index]
    assert await asyncio.to_thread(request.finished.wait, timeout)
    return request.outcome


# -- concurrency -------------------------------------------------------------------------------


async def test_200_concurrent_astreams_on_one_model(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server)

    async def one(index: int) -> tuple[str, int, int]:
        chunks = [chunk async for chunk in model.astream(f"prompt {index}")]
        text = "".join(str(chunk.content) for chunk in chunks)
        usage = sum(1 for chunk in chunks if chunk.usage_metadata)
        last = [chunk.chunk_position for chunk in chunks].count("last")
        return text, usage, last

    results = await asyncio.gather(*(one(i) for i in range(200)))
    assert results == [(f"You said: prompt {i}", 1, 1) for i in range(200)]
    requests = await asyncio.to_thread(fake_xai_server.wait_for_requests, 200)
    assert len(requests) == 200
    assert {r.outcome for r in requests} == {"completed"}
    prompts = sorted(r.json["messages"][0]["content"] for r in requests)
    assert prompts == sorted(f"prompt {i}" for i in range(200))


def test_64_threads_share_one_model(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server)

    def one(index: int) -> str:
        if index % 2:
            return "".join(str(c.content) for c in model.stream(f"t{index}"))
        return str(model.invoke(f"t{index}").content)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one, range(64)))
    assert results == [f"You said: t{i}" for i in range(64)]


async def test_pool_exhaustion_is_a_typed_timeout_not_a_hang(
    fake_xai_server: FakeXAIServer,
) -> None:
    http = httpx.AsyncClient(
        limits=httpx.Limits(max_connections=2), timeout=httpx.Timeout(5, pool=0.2)
    )
    model = grok(fake_xai_server, http_async_client=http, max_retries=0)
    slow = " ".join(["slow"] * 20)  # about a second per stream
    fake_xai_server.script(ScriptedReply(content=slow, event_delay=0.05, repeat=2))
    streaming = [asyncio.Event(), asyncio.Event()]

    async def hold(index: int) -> str:
        text = ""
        async for chunk in model.astream(f"hold {index}"):
            streaming[index].set()
            text += str(chunk.content)
        return text

    holders = [asyncio.create_task(hold(i)) for i in range(2)]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in streaming)), 5)
    with pytest.raises(APITimeoutError, match="free connection in the pool") as info:
        await model.ainvoke("third")
    assert info.value.is_retryable
    assert not any(h.done() for h in holders)  # it failed while the pool was full, not after
    assert await asyncio.gather(*holders) == [slow, slow]
    assert (await model.ainvoke("fourth")).content == "You said: fourth"
    # The third call never reached the server: it waited for the pool, not for a reply.
    sent = sorted(r.json["messages"][0]["content"] for r in fake_xai_server.requests)
    assert sent == ["fourth", "hold 0", "hold 1"]
    await http.aclose()


def test_sync_pool_exhaustion_is_a_typed_timeout(fake_xai_server: FakeXAIServer) -> None:
    http = httpx.Client(limits=httpx.Limits(max_connections=1), timeout=httpx.Timeout(5, pool=0.2))
    model = grok(fake_xai_server, http_client=http, max_retries=0)
    fake_xai_server.script(LONG)
    holding = cast("Generator[Any, None, None]", model.stream("hold"))
    next(holding)  # the only connection is now busy with this stream
    with pytest.raises(APITimeoutError, match="free connection in the pool"):
        model.invoke("second")
    holding.close()
    assert fake_xai_server.requests[0].finished.wait(3)
    assert model.invoke("third").content == "You said: third"
    http.close()


# -- cancellation ----------------------------------------------------------------------------


async def test_cancelling_a_task_mid_stream_closes_the_response(
    fake_xai_server: FakeXAIServer,
) -> None:
    fake_xai_server.script(LONG)
    model = grok(fake_xai_server)
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in model.astream("long"):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await finished(fake_xai_server) == "client_disconnected"
    assert (await model.ainvoke("next")).content == "You said: next"
    chunks = [c async for c in model.astream("and a stream")]
    assert "".join(str(c.content) for c in chunks) == "You said: and a stream"


async def test_cancelling_during_a_retry_wait_is_prompt(fake_xai_server: FakeXAIServer) -> None:
    fake_xai_server.script(error_reply(429, "slow down", headers={"retry-after": "30"}))
    model = grok(fake_xai_server)
    task = asyncio.create_task(model.ainvoke("x"))
    await asyncio.to_thread(fake_xai_server.wait_for_requests, 1)
    await asyncio.sleep(0.05)  # the client is now sleeping its 30 s retry-after
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)
    assert len(fake_xai_server.requests) == 1
    assert (await model.ainvoke("next")).content == "You said: next"


def test_breaking_out_of_a_sync_stream_closes_the_response(
    fake_xai_server: FakeXAIServer,
) -> None:
    fake_xai_server.script(LONG)
    model = grok(fake_xai_server)
    for index, _ in enumerate(model.stream("long")):
        if index == 2:
            break
    request = fake_xai_server.requests[0]
    assert request.finished.wait(3)
    assert request.outcome == "client_disconnected"
    assert model.invoke("next").content == "You said: next"
    assert "".join(str(c.content) for c in model.stream("again")) == "You said: again"


async def test_closing_an_async_generator_closes_the_response(
    fake_xai_server: FakeXAIServer,
) -> None:
    fake_xai_server.script(LONG)
    model = grok(fake_xai_server)
    stream = model.astream("long")
    await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]
    assert await finished(fake_xai_server) == "client_disconnected"
    assert (await model.ainvoke("next")).content == "You said: next"


async def test_abandoning_an_async_stream_closes_the_response(
    fake_xai_server: FakeXAIServer,
) -> None:
    """`break` without `aclose()`: asyncio's async-generator hooks close it once unreferenced."""
    fake_xai_server.script(LONG)
    model = grok(fake_xai_server)
    async for _ in model.astream("long"):
        break
    assert await finished(fake_xai_server) == "client_disconnected"
    assert (await model.ainvoke("next")).content == "You said: next"


# -- processes -------------------------------------------------------------------------------


def _run_in_child(model: ChatGrok) -> tuple[str, str]:
    """What the child process answers (sync and async), or its traceback."""
    try:
        sync = str(model.invoke("from the child").content)
        async_ = str(asyncio.run(model.ainvoke("async from the child")).content)
    except BaseException:  # report anything to the parent
        return "error", traceback.format_exc()
    return sync, async_


def test_a_model_used_before_fork_works_in_the_child(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server)
    assert model.invoke("parent").content == "You said: parent"
    assert asyncio.run(model.ainvoke("parent async")).content == "You said: parent async"
    parent_client = model.client
    reader, writer = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads running
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        os.close(reader)
        os.write(writer, "\0".join(_run_in_child(model)).encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        answer = pipe.read().decode()
    os.waitpid(pid, 0)
    assert answer.split("\0") == ["You said: from the child", "You said: async from the child"]
    requests = fake_xai_server.wait_for_requests(4)
    parent_connections = {requests[0].connection_id}
    child_connections = {r.connection_id for r in requests[2:]}
    # The child opened its own connections instead of sharing the parent's socket.
    assert not parent_connections & child_connections
    # And the parent still works with its own pool afterwards.
    assert model.client is parent_client
    assert model.invoke("parent again").content == "You said: parent again"


_INHERITED: ChatGrok | None = None


def _invoke_inherited(prompt: str) -> str:
    assert _INHERITED is not None
    return str(_INHERITED.invoke(prompt).content)


def _invoke_pickled(model: ChatGrok, prompt: str) -> str:
    return str(model.invoke(prompt).content)


def _invoke_loaded(dumped: dict[str, Any], prompt: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # `load` is marked beta
        model = load(
            dumped,
            allowed_objects=[ChatGrok],
            valid_namespaces=["langchain_grok"],
            secrets_from_env=True,
        )
    return str(model.invoke(prompt).content)


def test_a_fork_pool_of_two_workers(fake_xai_server: FakeXAIServer) -> None:
    global _INHERITED  # noqa: PLW0603 - how a fork pool hands objects to its workers
    _INHERITED = grok(fake_xai_server)
    assert _INHERITED.invoke("warm").content == "You said: warm"  # the parent's pool exists
    prompts = [f"job {i}" for i in range(6)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with multiprocessing.get_context("fork").Pool(2) as pool:
            results = pool.map(_invoke_inherited, prompts)
    assert results == [f"You said: {p}" for p in prompts]
    _INHERITED = None


def test_a_spawn_pool_gets_models_by_pickle_and_by_dumpd(
    fake_xai_server: FakeXAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XAI_API_KEY", fake_xai_server.api_key)  # inherited by the workers
    fresh = grok(fake_xai_server)
    dumped = dumpd(fresh)
    assert fake_xai_server.api_key not in repr(dumped)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pickled = pool.starmap(_invoke_pickled, [(fresh, "p0"), (fresh, "p1")])
        loaded = pool.starmap(_invoke_loaded, [(dumped, "d0"), (dumped, "d1")])
    assert pickled == ["You said: p0", "You said: p1"]
    assert loaded == ["You said: d0", "You said: d1"]


def test_a_used_model_pickles(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server)
    model.invoke("first")
    asyncio.run(model.ainvoke("first, async"))
    clone = pickle.loads(pickle.dumps(model))
    assert clone.invoke("clone").content == "You said: clone"
    assert model.invoke("original").content == "You said: original"
