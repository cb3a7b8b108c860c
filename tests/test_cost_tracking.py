"""`get_grok_callback()`: exact billed totals across every way LangChain runs a model.

Each scripted reply carries a distinct, known `cost_in_usd_ticks` (a power of two times a
base, so any subset sums to a different number): a total equal to the sum of the scripted costs
proves every request was counted exactly once, a missed or doubled request changes it.
"""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import pytest
from langchain_core._api import LangChainBetaWarning
from langchain_core.caches import InMemoryCache
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool

from langchain_grok import ChatGrok, GrokCallbackHandler, GrokUsage, get_grok_callback
from langchain_grok.testing import FakeXAIServer, ScriptedReply

Api = Literal["chat", "responses"]
APIS: tuple[Api, ...] = ("chat", "responses")
BASE_TICKS = 1_000_003  # odd, so a total in USD never lands on a round float by luck
MODEL = "grok-4.3"


@contextmanager
def beta_ignored() -> Iterator[None]:
    """`stream_events(version="v3")` warns (once per process) that it is beta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LangChainBetaWarning)
        yield


def grok(server: FakeXAIServer, api: Api, **kwargs: Any) -> ChatGrok:
    return ChatGrok(
        api_key=server.api_key,
        base_url=server.base_url,
        model=MODEL,
        use_responses_api=api == "responses",
        **kwargs,
    )


def usage_body(
    api: Api, *, prompt: int, cached: int, visible: int, reasoning: int, ticks: int | None
) -> dict[str, Any]:
    """A usage object in the endpoint's own wire shape (chat excludes reasoning from output)."""
    if api == "chat":
        body: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": visible,
            "total_tokens": prompt + visible + reasoning,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        }
    else:
        body = {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": visible + reasoning,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": prompt + visible + reasoning,
        }
    if ticks is not None:
        body["cost_in_usd_ticks"] = ticks
    return body


class Script:
    """Scripted replies with distinct costs, and the totals the emulator will have billed."""

    def __init__(self, server: FakeXAIServer) -> None:
        self.server = server
        self.expected = GrokUsage()
        self._n = 0

    def add(
        self,
        api: Api,
        count: int = 1,
        *,
        with_cost: bool = True,
        tool_calls: list[dict[str, Any]] | None = None,
        content: str | None = None,
        model: str | None = None,
    ) -> None:
        for _ in range(count):
            n = self._n
            self._n += 1
            ticks = BASE_TICKS << n if with_cost else None
            prompt, cached, visible, reasoning = 10 + n, n, 3 + n, 2 * n
            usage = usage_body(
                api, prompt=prompt, cached=cached, visible=visible, reasoning=reasoning, ticks=ticks
            )
            self.server.script(
                ScriptedReply(
                    content=content if content is not None else f"answer {n}",
                    tool_calls=tool_calls,
                    usage=usage,
                    model=model,
                )
            )
            self.expected += GrokUsage(
                requests=1,
                requests_without_cost=0 if with_cost else 1,
                input_tokens=prompt,
                cached_input_tokens=cached,
                output_tokens=visible + reasoning,
                reasoning_tokens=reasoning,
                total_tokens=prompt + visible + reasoning,
                cost_in_usd_ticks=ticks or 0,
            )

    def check(self, cb: GrokCallbackHandler) -> None:
        assert self.server.pending_replies == 0  # every scripted (billed) reply was served
        assert cb.usage == self.expected
        assert cb.total_cost_in_usd_ticks == self.expected.cost_in_usd_ticks
        assert cb.total_cost_usd == self.expected.cost_in_usd_ticks / 10**10
        assert cb.successful_requests == len(self.server.requests)


def nested_chain(model: ChatGrok) -> Any:
    """prompt | model | parser, itself inside a bigger chain."""
    inner = ChatPromptTemplate.from_messages([("human", "{q}")]) | model | StrOutputParser()
    return RunnableLambda(lambda q: {"q": q}) | inner | RunnableLambda(lambda s: s.upper())


# -- every call style, both APIs ---------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_sync_call_styles_total_exactly_what_was_billed(
    fake_xai_server: FakeXAIServer, api: Api
) -> None:
    script = Script(fake_xai_server)
    script.add(api, 10)
    model = grok(fake_xai_server, api)
    with get_grok_callback() as cb:
        model.invoke("one")
        assert "".join(str(c.content) for c in model.stream("two")) == "answer 1"
        grok(fake_xai_server, api, streaming=True).invoke("three")
        model.batch(["a", "b", "c"], config={"max_concurrency": 3})  # thread pool
        assert nested_chain(model).invoke("x").startswith("ANSWER")
        nested_chain(model).batch(["y", "z"])
        with beta_ignored():
            assert model.stream_events("four", version="v3").output.text == "answer 9"
    script.check(cb)
    assert cb.requests_without_cost == 0
    assert cb.by_model == {MODEL: script.expected}


@pytest.mark.parametrize("api", APIS)
async def test_async_call_styles_total_exactly_what_was_billed(
    fake_xai_server: FakeXAIServer, api: Api
) -> None:
    script = Script(fake_xai_server)
    script.add(api, 12)
    model = grok(fake_xai_server, api)

    async def drain(text: str) -> str:
        return "".join([str(c.content) async for c in model.astream(text)])

    with get_grok_callback() as cb:
        await model.ainvoke("one")
        await drain("two")
        await asyncio.gather(
            model.ainvoke("g1"), drain("g2"), model.ainvoke("g3"), drain("g4"), drain("g5")
        )
        await model.abatch(["b1", "b2"])
        await nested_chain(model).ainvoke("x")
        _ = [e async for e in model.astream_events("events", version="v2")]
        with beta_ignored():
            v3 = await model.astream_events("v3 events", version="v3")
        await v3
    script.check(cb)


async def test_tasks_created_in_block_are_counted_even_when_awaited_after_it(
    fake_xai_server: FakeXAIServer,
) -> None:
    # A task copies the context when it is created, so it belongs to the block that created it.
    script = Script(fake_xai_server)
    script.add("chat", 2)
    model = grok(fake_xai_server, "chat")
    with get_grok_callback() as cb:
        pending = asyncio.create_task(model.ainvoke("later"))
        await asyncio.sleep(0)
    await pending
    await asyncio.get_running_loop().create_task(model.ainvoke("outside"))  # created outside
    assert cb.successful_requests == 1
    assert cb.total_cost_in_usd_ticks in {BASE_TICKS, BASE_TICKS << 1}


def test_both_apis_in_one_block(fake_xai_server: FakeXAIServer) -> None:
    script = Script(fake_xai_server)
    script.add("chat", 2)
    script.add("responses", 2)
    chat, responses = grok(fake_xai_server, "chat"), grok(fake_xai_server, "responses")
    with get_grok_callback() as cb:
        chat.invoke("a")
        list(chat.stream("b"))
        responses.invoke("c")
        list(responses.stream("d"))
    script.check(cb)
    paths = [r.path for r in fake_xai_server.requests]
    assert paths == ["/v1/chat/completions"] * 2 + ["/v1/responses"] * 2


# -- agents and nesting ------------------------------------------------------------------------


@tool
def lookup_city(place: str) -> str:
    """Find the country of a place."""
    return {"Paris": "France", "Rome": "Italy"}.get(place, "unknown")


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("streaming", [False, True])
def test_agent_tool_loop_counts_each_model_call_once(
    fake_xai_server: FakeXAIServer, api: Api, *, streaming: bool
) -> None:
    from langchain.agents import create_agent

    script = Script(fake_xai_server)
    both = [
        {"name": "lookup_city", "arguments": {"place": "Paris"}, "id": "call_1"},
        {"name": "lookup_city", "arguments": {"place": "Rome"}, "id": "call_2"},
    ]
    script.add(api, tool_calls=both, content="")
    script.add(
        api,
        tool_calls=[{"name": "lookup_city", "arguments": {"place": "Oslo"}, "id": "call_3"}],
        content="",
    )
    script.add(api, content="France and Italy.")
    agent = create_agent(grok(fake_xai_server, api, streaming=streaming), tools=[lookup_city])
    with get_grok_callback() as cb:
        result = agent.invoke({"messages": [HumanMessage("Where are Paris and Rome?")]})
    assert result["messages"][-1].content == "France and Italy."
    script.check(cb)
    assert cb.successful_requests == 3


async def test_agent_tool_loop_async_stream(fake_xai_server: FakeXAIServer) -> None:
    from langchain.agents import create_agent

    script = Script(fake_xai_server)
    call = [{"name": "lookup_city", "arguments": {"place": "Paris"}, "id": "call_1"}]
    script.add("responses", tool_calls=call, content="")
    script.add("responses", content="France.")
    agent: Any = create_agent(grok(fake_xai_server, "responses"), tools=[lookup_city])
    with get_grok_callback() as cb:
        question = {"messages": [HumanMessage("Where is Paris?")]}
        _ = [step async for step in agent.astream(question, stream_mode="messages")]
    script.check(cb)


def test_nested_blocks_outer_includes_inner_each_once(fake_xai_server: FakeXAIServer) -> None:
    script = Script(fake_xai_server)
    script.add("chat", 4)
    model = grok(fake_xai_server, "chat")
    inner_seen: list[GrokCallbackHandler] = []

    def step_with_its_own_block(text: str) -> str:
        # Inside a chain run started in the outer block: the model run reaches the outer
        # handler by inheritance and the inner one through the ContextVar.
        with get_grok_callback() as inner:
            answer = str(model.invoke(text).content)
        inner_seen.append(inner)
        return answer

    with get_grok_callback() as outer:
        model.invoke("outer only")  # BASE << 0
        with get_grok_callback() as inner:
            model.invoke("inner")  # BASE << 1
        RunnableLambda(step_with_its_own_block).invoke("in a chain")  # BASE << 2
        model.invoke("outer again", config={"callbacks": [outer]})  # explicit and inherited
    script.check(outer)
    assert inner.usage.cost_in_usd_ticks == BASE_TICKS << 1
    assert inner_seen[0].usage.cost_in_usd_ticks == BASE_TICKS << 2
    assert inner.successful_requests == inner_seen[0].successful_requests == 1
    assert not outer._ledger.runs


def test_run_outside_the_block_is_not_counted(fake_xai_server: FakeXAIServer) -> None:
    script = Script(fake_xai_server)
    script.add("chat", 4)
    model = grok(fake_xai_server, "chat")
    model.invoke("before")
    with get_grok_callback() as cb:
        model.invoke("inside")
    model.invoke("after")
    list(model.stream("after, streamed"))
    assert cb.successful_requests == 1
    assert cb.total_cost_in_usd_ticks == BASE_TICKS << 1


# -- isolation ---------------------------------------------------------------------------------


def test_blocks_in_two_threads_do_not_mix() -> None:
    with FakeXAIServer() as server_a, FakeXAIServer() as server_b:
        scripts = {"a": Script(server_a), "b": Script(server_b)}
        scripts["a"].add("chat", 4)
        scripts["b"].add("responses", 3, model="grok-4.20")
        handlers: dict[str, GrokCallbackHandler] = {}
        barrier = threading.Barrier(2)

        def work(name: str, server: FakeXAIServer, api: Api, n: int) -> None:
            model = grok(server, api)
            with get_grok_callback() as cb:
                barrier.wait()  # both blocks are open at the same time
                model.batch([f"q{i}" for i in range(n)])
            handlers[name] = cb

        threads = [
            threading.Thread(target=work, args=("a", server_a, "chat", 4)),
            threading.Thread(target=work, args=("b", server_b, "responses", 3)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        scripts["a"].check(handlers["a"])
        scripts["b"].check(handlers["b"])
        assert list(handlers["b"].by_model) == ["grok-4.20"]


async def test_blocks_in_two_tasks_do_not_mix() -> None:
    with FakeXAIServer() as server_a, FakeXAIServer() as server_b:
        script_a, script_b = Script(server_a), Script(server_b)
        script_a.add("responses", 3)
        script_b.add("chat", 2)
        both_open = asyncio.Event()
        opened = 0

        async def work(server: FakeXAIServer, api: Api, n: int) -> GrokCallbackHandler:
            nonlocal opened
            model = grok(server, api)
            with get_grok_callback() as cb:
                opened += 1
                if opened == 2:
                    both_open.set()
                await both_open.wait()
                await asyncio.gather(*(model.ainvoke(f"q{i}") for i in range(n)))
            return cb

        cb_a, cb_b = await asyncio.gather(work(server_a, "responses", 3), work(server_b, "chat", 2))
        script_a.check(cb_a)
        script_b.check(cb_b)


# -- what is not xAI spend, and what has no price ----------------------------------------------


def test_other_provider_in_the_same_chain_is_not_counted(fake_xai_server: FakeXAIServer) -> None:
    script = Script(fake_xai_server)
    script.add("chat")
    other = GenericFakeChatModel(
        messages=iter(
            [
                AIMessage(
                    "summary",
                    usage_metadata={"input_tokens": 7, "output_tokens": 5, "total_tokens": 12},
                    response_metadata={"model_name": "other-model", "cost_in_usd_ticks": 99},
                )
            ]
        )
    )
    chain = grok(fake_xai_server, "chat") | RunnableLambda(lambda m: m.content) | other
    with get_grok_callback() as cb:
        assert chain.invoke("hello").content == "summary"
    script.check(cb)
    assert cb.other_provider_requests == 1
    assert list(cb.by_model) == [MODEL]


@pytest.mark.parametrize("api", APIS)
def test_replies_without_cost_count_tokens_and_say_so(
    fake_xai_server: FakeXAIServer, api: Api
) -> None:
    script = Script(fake_xai_server)
    script.add(api)
    script.add(api, 2, with_cost=False)
    model = grok(fake_xai_server, api)
    with get_grok_callback() as cb:
        model.invoke("priced")
        model.invoke("not priced")
        list(model.stream("not priced, streamed"))
    script.check(cb)
    assert cb.requests_without_cost == 2
    assert cb.total_cost_in_usd_ticks == BASE_TICKS
    assert "(2 requests without cost)" in str(cb)


def test_stream_without_usage_is_a_request_without_cost(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server, "chat", stream_usage=False)  # the server sends no usage
    with get_grok_callback() as cb:
        assert "".join(str(c.content) for c in model.stream("hello there"))
    assert cb.successful_requests == cb.requests_without_cost == 1
    assert cb.total_tokens == cb.total_cost_in_usd_ticks == 0


@pytest.mark.parametrize("api", APIS)
def test_stream_closed_after_its_last_chunk_is_still_billed(
    fake_xai_server: FakeXAIServer, api: Api
) -> None:
    # Stopping at the chunk that carries usage skips on_llm_end (langchain-core reports an
    # error instead), but the server sent and billed the whole reply.
    script = Script(fake_xai_server)
    script.add(api)
    model = grok(fake_xai_server, api)
    with get_grok_callback() as cb:
        stream = model.stream("hello")
        assert isinstance(stream, Generator)
        for chunk in stream:
            assert isinstance(chunk, AIMessageChunk)
            if chunk.usage_metadata:
                break
        stream.close()
    script.check(cb)


async def test_failed_request_is_not_counted(fake_xai_server: FakeXAIServer) -> None:
    from langchain_grok.errors import BadRequestError
    from langchain_grok.testing import error_reply

    fake_xai_server.script(error_reply(400, "bad"))
    model = grok(fake_xai_server, "chat", max_retries=0)
    with get_grok_callback() as cb, pytest.raises(BadRequestError):
        await model.ainvoke("x")
    assert cb.usage == GrokUsage()
    assert not cb._ledger.runs


def test_cache_hits_are_not_billed(fake_xai_server: FakeXAIServer) -> None:
    script = Script(fake_xai_server)
    script.add("chat")
    model = grok(fake_xai_server, "chat", cache=InMemoryCache())
    with get_grok_callback() as cb:
        first = model.invoke("same")
        second = model.invoke("same")
    assert second.content == first.content
    script.check(cb)
    assert cb.cache_hits == 1


def test_served_model_name_keys_the_breakdown(fake_xai_server: FakeXAIServer) -> None:
    script = Script(fake_xai_server)
    script.add("chat", model="grok-4.3-0309")  # what an alias resolves to on the server
    script.add("responses")
    with get_grok_callback() as cb:
        grok(fake_xai_server, "chat").invoke("a")
        grok(fake_xai_server, "responses").invoke("b")
    assert set(cb.by_model) == {"grok-4.3-0309", MODEL}
    assert sum(cb.by_model.values(), GrokUsage()) == cb.usage
    assert cb.usage_metadata[MODEL]["input_tokens"] == cb.by_model[MODEL].input_tokens


def test_summary_and_aliases(fake_xai_server: FakeXAIServer) -> None:
    script = Script(fake_xai_server)
    script.add("chat")
    with get_grok_callback() as cb:
        grok(fake_xai_server, "chat").invoke("a")
    text = repr(cb)
    assert text == str(cb)
    assert f"Tokens Used: {script.expected.total_tokens}" in text
    assert f"Total Cost (USD): ${BASE_TICKS / 10**10:.10f}" in text
    assert "without cost" not in text
    assert (cb.prompt_tokens, cb.completion_tokens, cb.total_cost) == (
        cb.input_tokens,
        cb.output_tokens,
        cb.total_cost_usd,
    )


def test_handler_can_be_passed_without_the_context_manager(
    fake_xai_server: FakeXAIServer,
) -> None:
    script = Script(fake_xai_server)
    script.add("responses", 2)
    cb = GrokCallbackHandler()
    model = grok(fake_xai_server, "responses")
    model.invoke("a", config={"callbacks": [cb]})
    model.invoke("b")
    assert cb.successful_requests == 1
    assert cb.total_cost_in_usd_ticks == BASE_TICKS


@pytest.mark.parametrize("api", APIS)
async def test_a_stream_carries_its_cost_on_one_chunk_only(
    fake_xai_server: FakeXAIServer, api: Api
) -> None:
    # What makes the merged message (the one on_llm_end sees) hold the cost once: were it on
    # two chunks, merging would add the integers.
    script = Script(fake_xai_server)
    script.add(api, 2)
    model = grok(fake_xai_server, api)
    sync_chunks = list(model.stream("hello"))
    async_chunks = [c async for c in model.astream("hello")]
    for chunks, ticks in ((sync_chunks, BASE_TICKS), (async_chunks, BASE_TICKS << 1)):
        costs = [
            c.response_metadata["cost_in_usd_ticks"]
            for c in chunks
            if "cost_in_usd_ticks" in c.response_metadata
        ]
        assert costs == [ticks]
        merged = sum(chunks[1:], chunks[0])
        assert merged.response_metadata["cost_in_usd_ticks"] == ticks


@pytest.mark.parametrize("api", APIS)
async def test_stream_cut_before_its_usage_is_not_counted(
    fake_xai_server: FakeXAIServer, api: Api
) -> None:
    from langchain_grok.errors import APIConnectionError

    # The partial message has xAI's metadata but no usage: nothing says what was billed.
    words = " ".join(f"w{i}" for i in range(20))
    fake_xai_server.script(ScriptedReply(content=words, cut_after_events=8))
    model = grok(fake_xai_server, api, max_retries=0)
    received: list[AIMessageChunk] = []
    with get_grok_callback() as cb, pytest.raises(APIConnectionError):
        async for chunk in model.astream("hello"):
            received.append(chunk)  # noqa: PERF401 (keeps what came before the error)
    assert received  # the run failed with a partial message (reasoning or text so far)
    assert cb.usage == GrokUsage()
    assert not cb._ledger.runs


def test_several_choices_are_one_billed_request(fake_xai_server: FakeXAIServer) -> None:
    # With n=2 each choice's message carries the whole request's usage: count it once.
    usage = usage_body("chat", prompt=9, cached=0, visible=4, reasoning=0, ticks=BASE_TICKS)
    choices = [
        {"index": i, "message": {"role": "assistant", "content": f"c{i}"}, "finish_reason": "stop"}
        for i in range(2)
    ]
    body = {"id": "r1", "object": "chat.completion", "created": 1, "model": MODEL}
    fake_xai_server.script(ScriptedReply(body={**body, "choices": choices, "usage": usage}))
    model = grok(fake_xai_server, "chat", n=2)
    with get_grok_callback() as cb:
        result = model.generate([[HumanMessage("two answers")]])
    assert [g.text for g in result.generations[0]] == ["c0", "c1"]
    assert cb.successful_requests == 1
    assert (cb.total_cost_in_usd_ticks, cb.total_tokens) == (BASE_TICKS, 13)


@pytest.mark.parametrize("api", APIS)
def test_many_concurrent_threads_sum_exactly(fake_xai_server: FakeXAIServer, api: Api) -> None:
    # 24 runs on 12 threads end concurrently; the lock keeps every addition.
    script = Script(fake_xai_server)
    script.add(api, 24)
    model = grok(fake_xai_server, api)
    with get_grok_callback() as cb:
        model.batch([f"q{i}" for i in range(24)], config={"max_concurrency": 12})
    script.check(cb)


# -- the arithmetic alone ----------------------------------------------------------------------


def test_reply_usage_reads_exactly_what_the_reply_says() -> None:
    from langchain_grok._usage import reply_usage

    priced = AIMessage(
        "x",
        usage_metadata={
            "input_tokens": 8,
            "output_tokens": 5,
            "total_tokens": 13,
            "input_token_details": {"cache_read": 3},
            "output_token_details": {"reasoning": 2},
        },
        response_metadata={"model_provider": "xai", "cost_in_usd_ticks": 7},
    )
    assert reply_usage(priced) == GrokUsage(
        requests=1,
        input_tokens=8,
        cached_input_tokens=3,
        output_tokens=5,
        reasoning_tokens=2,
        total_tokens=13,
        cost_in_usd_ticks=7,
    )
    for ticks in (None, True, 7.0, "7"):  # only an int is a cost; no float or bool slips in
        bare = AIMessage(
            "x", response_metadata={"model_provider": "xai", "cost_in_usd_ticks": ticks}
        )
        assert reply_usage(bare) == GrokUsage(requests=1, requests_without_cost=1)


def test_usage_adds_field_by_field_and_converts_ticks_to_usd() -> None:
    a = GrokUsage(requests=1, input_tokens=2, cost_in_usd_ticks=3 * 10**9)
    b = GrokUsage(requests=2, requests_without_cost=1, reasoning_tokens=4, cost_in_usd_ticks=10**10)
    total = a + b
    assert total == GrokUsage(
        requests=3,
        requests_without_cost=1,
        input_tokens=2,
        reasoning_tokens=4,
        cost_in_usd_ticks=13 * 10**9,
    )
    assert total.cost_usd == 1.3
    assert total.to_usage_metadata()["output_token_details"] == {"reasoning": 4}
