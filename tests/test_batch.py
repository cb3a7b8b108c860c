"""GrokBatch end to end through the emulator's Batch API: order, failures, cancel, resume."""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import subprocess
import sys
import textwrap
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate

from langchain_grok import BatchItemError, ChatGrok, GrokBatch
from langchain_grok.errors import APIConnectionError
from langchain_grok.testing import FakeXAIServer, ScriptedReply, error_reply, tool_call_reply

INPUTS: list[Any] = [
    "alpha",
    [SystemMessage("be brief"), HumanMessage("bravo")],
    ChatPromptTemplate.from_messages([("human", "{word}")]).invoke({"word": "charlie"}),
    [("human", "delta")],
    "echo",
    "foxtrot",
    "golf",
]
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"]


def grok(server: FakeXAIServer, **kwargs: Any) -> ChatGrok:
    kwargs.setdefault("model", "grok-4.3")
    return ChatGrok(api_key=server.api_key, base_url=server.base_url, **kwargs)


def contents(answers: list[Any]) -> list[str]:
    return [str(a.content) if isinstance(a, AIMessage) else f"<{a.code}>" for a in answers]


def model_requests(server: FakeXAIServer, suffix: str, method: str = "GET") -> list[Any]:
    return [r for r in server.requests if r.path.endswith(suffix) and r.method == method]


# -- the main path ----------------------------------------------------------------------------


def test_submit_poll_results_in_input_order_with_usage_and_cost() -> None:
    with FakeXAIServer(batch_progress=3) as server:
        batch = GrokBatch(grok(server, temperature=0.3, max_tokens=50))
        batch_id = batch.submit(INPUTS, name="order test")
        first = batch.status(batch_id)
        assert (first.total, first.pending, first.succeeded, first.done) == (7, 4, 3, False)
        final = batch.wait(batch_id, poll_interval=0)
        answers = batch.results(batch_id)

    assert final.done
    assert final.succeeded == 7
    assert final.name == "order test"
    assert contents(answers) == [f"You said: {w}" for w in WORDS]
    for answer in answers:
        assert isinstance(answer, AIMessage)
        assert answer.usage_metadata is not None
        assert answer.usage_metadata["input_tokens"] > 0
        assert answer.response_metadata["cost_in_usd_ticks"] > 0
        assert answer.response_metadata["model_provider"] == "xai"
    costs = [a.response_metadata["cost_in_usd_ticks"] for a in answers if isinstance(a, AIMessage)]
    assert final.cost_in_usd_ticks == sum(costs)
    # The emulator lists results newest first: input order is rebuilt from the request ids.
    listed = model_requests(server, "/results")
    assert listed
    assert listed[0].outcome == "completed"
    held = server.batch_requests(batch_id)
    body = held[1]["batch_request"]["chat_get_completion"]
    assert body["temperature"] == 0.3
    assert body["max_completion_tokens"] == 50
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "bravo"},
    ]
    assert "stream" not in body
    assert [h["batch_request_id"] for h in held] == [f"lc-{i:06d}-of-000007" for i in range(7)]


def test_results_listing_is_not_in_input_order_yet_answers_are() -> None:
    """The check above would pass by luck if the server listed results in input order."""
    with FakeXAIServer(batch_progress=10) as server:
        batch = GrokBatch(grok(server))
        batch_id = batch.submit(WORDS[:4])
        batch.wait(batch_id, poll_interval=0)
        raw = batch.model.client.list_batch_results(batch_id)["results"]
        answers = batch.results(batch_id)
    assert [r["batch_request_id"][:9] for r in raw] != sorted(
        r["batch_request_id"][:9] for r in raw
    )
    assert contents(answers) == [f"You said: {w}" for w in WORDS[:4]]


async def test_async_submit_poll_results_in_input_order() -> None:
    with FakeXAIServer(batch_progress=2) as server:
        batch = GrokBatch(grok(server))
        batch_id = await batch.asubmit(INPUTS)
        status = await batch.astatus(batch_id)
        assert (status.pending, status.done) == (5, False)
        final = await batch.await_(batch_id, poll_interval=0)
        answers = await batch.aresults(batch_id)
    assert final.done
    assert final.succeeded == 7
    assert contents(answers) == [f"You said: {w}" for w in WORDS]
    assert all(a.usage_metadata for a in answers if isinstance(a, AIMessage))


def test_bound_tools_reach_every_request_and_tool_calls_come_back() -> None:
    def lookup(city: str) -> str:
        """Look a city up."""
        return city

    with FakeXAIServer() as server:
        server.script(tool_call_reply("lookup", {"city": "Paris"}, repeat=2))
        model = grok(server).bind_tools([lookup], tool_choice="lookup")
        batch = GrokBatch(model)
        batch_id = batch.submit(["France?", "Also France?"])
        batch.wait(batch_id, poll_interval=0)
        answers = batch.results(batch_id)
        held = server.batch_requests(batch_id)
    for item in held:
        body = item["batch_request"]["chat_get_completion"]
        assert body["tools"][0]["function"]["name"] == "lookup"
    assert all(isinstance(a, AIMessage) for a in answers)
    assert [a.tool_calls[0]["args"] for a in answers] == [{"city": "Paris"}] * 2  # type: ignore[union-attr]


# -- failures, cancel, pagination --------------------------------------------------------------


def test_per_item_failures_are_reported_in_place() -> None:
    with FakeXAIServer(batch_progress=5) as server:
        server.script(
            ScriptedReply(),
            error_reply(400, "Model is not supported for batch processing"),
            ScriptedReply(),
            error_reply(500, "worker lost"),
        )
        batch = GrokBatch(grok(server))
        batch_id = batch.submit(WORDS[:5])
        status = batch.wait(batch_id, poll_interval=0)
        answers = batch.results(batch_id)
    assert (status.succeeded, status.failed, status.done) == (3, 2, True)
    assert contents(answers) == [
        "You said: alpha",
        "<failed>",
        "You said: charlie",
        "<failed>",
        "You said: echo",
    ]
    failure = answers[1]
    assert isinstance(failure, BatchItemError)
    assert (failure.index, failure.batch_request_id) == (1, "lc-000001-of-000005")
    assert failure.message == "Model is not supported for batch processing"
    assert isinstance(answers[3], BatchItemError)
    assert answers[3].message == "worker lost"
    assert pickle.loads(pickle.dumps(failure)).message == failure.message


def test_cancel_stops_pending_items_and_keeps_finished_ones() -> None:
    with FakeXAIServer(batch_progress=1) as server:
        batch = GrokBatch(grok(server))
        batch_id = batch.submit(WORDS[:4])
        assert batch.status(batch_id).succeeded == 1
        cancelled = batch.cancel(batch_id)
        after = batch.status(batch_id)  # a poll after cancelling processes nothing more
        answers = batch.results(batch_id)
    assert (cancelled.succeeded, cancelled.cancelled, cancelled.done) == (1, 3, True)
    assert cancelled.cancel_time is not None
    assert (after.succeeded, after.cancelled) == (1, 3)
    assert contents(answers) == ["You said: alpha", "<cancelled>", "<cancelled>", "<cancelled>"]


async def test_async_cancel() -> None:
    with FakeXAIServer(batch_progress=1) as server:
        batch = GrokBatch(grok(server))
        batch_id = await batch.asubmit(WORDS[:3])
        cancelled = await batch.acancel(batch_id)
        answers = await batch.aresults(batch_id)
    assert (cancelled.succeeded, cancelled.cancelled, cancelled.done) == (0, 3, True)
    assert contents(answers) == ["<cancelled>"] * 3


def test_results_before_the_end_mark_pending_items() -> None:
    with FakeXAIServer(batch_progress=2) as server:
        batch = GrokBatch(grok(server))
        batch_id = batch.submit(WORDS[:4])
        batch.status(batch_id)
        answers = batch.results(batch_id)
    assert contents(answers) == ["You said: alpha", "You said: bravo", "<pending>", "<pending>"]


@pytest.mark.parametrize("use_async", [False, True])
def test_results_and_requests_are_read_page_by_page(use_async: bool) -> None:
    with FakeXAIServer(batch_progress=100) as server:
        batch = GrokBatch(grok(server), page_size=2)
        batch_id = batch.submit(WORDS[:5])
        batch.wait(batch_id, poll_interval=0)
        before = len(server.requests)
        answers = asyncio.run(batch.aresults(batch_id)) if use_async else batch.results(batch_id)
        seen = server.requests[before:]
        pages = [r for r in seen if r.path.endswith("/results")]
        request_pages = [r for r in seen if r.path.endswith("/requests")]
    assert contents(answers) == [f"You said: {w}" for w in WORDS[:5]]
    assert [p.query.get("pagination_token") for p in pages] == [None, "2", "4"]
    assert all(p.query["limit"] == "2" for p in pages)
    assert len(request_pages) == 3


def test_timeout_while_pending_raises_and_the_batch_keeps_going() -> None:
    with FakeXAIServer(batch_progress=1) as server:
        batch = GrokBatch(grok(server))
        batch_id = batch.submit(WORDS[:3])
        with pytest.raises(TimeoutError, match="2 of 3 requests pending"):
            batch.wait(batch_id, poll_interval=0, timeout=0)
        with pytest.raises(TimeoutError, match="pending"):
            asyncio.run(batch.await_(batch_id, poll_interval=0, timeout=0))
        assert batch.wait(batch_id, poll_interval=0).done


# -- resuming ------------------------------------------------------------------------------------


_CHILD = textwrap.dedent(
    """
    import json, sys
    from langchain_grok import ChatGrok, GrokBatch
    from langchain_core.messages import AIMessage
    answers = GrokBatch(ChatGrok(model="grok-4.3")).results(sys.argv[1])
    print(json.dumps([
        {"content": a.content, "usage": a.usage_metadata, "id": a.id}
        if isinstance(a, AIMessage) else {"error": a.code, "message": a.message}
        for a in answers
    ]))
    """
)


def test_results_from_a_new_process_with_only_the_batch_id() -> None:
    with FakeXAIServer(batch_progress=100) as server:
        server.script(ScriptedReply(), ScriptedReply(), error_reply(400, "bad third"))
        batch = GrokBatch(grok(server))
        batch_id = batch.submit(WORDS[:4])
        batch.wait(batch_id, poll_interval=0)
        here = batch.results(batch_id)
        env = {
            **os.environ,
            "XAI_API_KEY": server.api_key,
            "XAI_API_BASE": server.base_url,
        }
        child = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", _CHILD, batch_id],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    assert child.returncode == 0, child.stderr
    there = json.loads(child.stdout)
    expected = [
        {"content": a.content, "usage": a.usage_metadata, "id": a.id}
        if isinstance(a, AIMessage)
        else {"error": a.code, "message": a.message}
        for a in here
    ]
    assert there == expected
    assert there[2] == {"error": "failed", "message": "bad third"}


class _FailingAdds(httpx.HTTPTransport):
    """A real transport that loses the connection on the n-th add-requests call."""

    def __init__(self, fail_on: int) -> None:
        super().__init__()
        self.fail_on, self.adds = fail_on, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/requests"):
            self.adds += 1
            if self.adds == self.fail_on:
                msg = "connection lost"
                raise httpx.ConnectError(msg, request=request)
        return super().handle_request(request)


class _AsyncFailingAdds(httpx.AsyncHTTPTransport):
    def __init__(self, fail_on: int) -> None:
        super().__init__()
        self.fail_on, self.adds = fail_on, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/requests"):
            self.adds += 1
            if self.adds == self.fail_on:
                msg = "connection lost"
                raise httpx.ConnectError(msg, request=request)
        return await super().handle_async_request(request)


def test_resume_after_a_half_done_submit_adds_only_the_missing_requests() -> None:
    with FakeXAIServer(batch_progress=100) as server:
        with httpx.Client(transport=_FailingAdds(2)) as http:
            flaky = grok(server, max_retries=0, http_client=http)
            with pytest.raises(APIConnectionError) as caught:
                GrokBatch(flaky, max_requests_per_call=2).submit(WORDS)
        client = grok(server).client
        (listed,) = client.list_batches()["batches"]
        batch_id = listed["batch_id"]
        assert any(batch_id in note for note in getattr(caught.value, "__notes__", [batch_id]))
        assert len(server.batch_requests(batch_id)) == 2  # the first call of 2 got through
        batch = GrokBatch(grok(server), max_requests_per_call=2)
        early = batch.results(batch_id)
        assert contents(early)[2:] == ["<not_submitted>"] * 5

        before = len(model_requests(server, "/requests", "POST"))
        assert batch.submit(WORDS, batch_id=batch_id) == batch_id
        adds = model_requests(server, "/requests", "POST")[before:]
        held = server.batch_requests(batch_id)
        batch.wait(batch_id, poll_interval=0)
        answers = batch.results(batch_id)
    assert [len(a.json["batch_requests"]) for a in adds] == [2, 2, 1]  # 5 missing, in chunks of 2
    assert [h["batch_request_id"] for h in held] == [f"lc-{i:06d}-of-000007" for i in range(7)]
    assert contents(answers) == [f"You said: {w}" for w in WORDS]


async def test_async_resume_after_a_half_done_submit() -> None:
    with FakeXAIServer(batch_progress=100) as server:
        created = await GrokBatch(grok(server)).acreate("resumable")
        async with httpx.AsyncClient(transport=_AsyncFailingAdds(3)) as http:
            flaky = grok(server, max_retries=0, http_async_client=http)
            with pytest.raises(APIConnectionError):
                await GrokBatch(flaky, max_requests_per_call=3).asubmit(WORDS, batch_id=created)
        assert len(server.batch_requests(created)) == 6
        batch = GrokBatch(grok(server))
        await batch.asubmit(WORDS, batch_id=created)
        await batch.asubmit(WORDS, batch_id=created)  # nothing left to add: adds nothing
        held = server.batch_requests(created)
        await batch.await_(created, poll_interval=0)
        answers = await batch.aresults(created)
    assert len(held) == 7
    assert len({h["batch_request_id"] for h in held}) == 7
    assert contents(answers) == [f"You said: {w}" for w in WORDS]


def test_resume_with_other_inputs_is_refused_before_adding() -> None:
    with FakeXAIServer() as server:
        batch = GrokBatch(grok(server))
        batch_id = batch.submit(WORDS[:3])
        posts = len(model_requests(server, "/requests", "POST"))
        with pytest.raises(ValueError, match=r"inputs has 4 items, but batch .* submit of 3"):
            batch.submit(WORDS[:4], batch_id=batch_id)
        assert len(model_requests(server, "/requests", "POST")) == posts


# -- bad input --------------------------------------------------------------------------------


def test_bad_input_fails_before_any_request() -> None:
    def search_tool() -> dict[str, Any]:
        return {"type": "web_search"}

    with FakeXAIServer() as server:
        model = grok(server)
        batch = GrokBatch(model)
        with pytest.raises(TypeError, match="inputs must be a list"):
            batch.submit("hello")
        with pytest.raises(ValueError, match="inputs must not be empty"):
            batch.submit([])
        with pytest.raises(ValueError, match=r"inputs\[1\]"):
            batch.submit(["fine", 42])  # type: ignore[list-item]
        with pytest.raises(ValueError, match=r"inputs\[1\] is \d+ bytes"):
            GrokBatch(model, max_request_bytes=400).submit(["short", "x" * 500])
        with pytest.raises(ValueError, match="name must be a non-empty string"):
            batch.submit(["fine"], name="  ")
        with pytest.raises(ValueError, match="name applies to a new batch only"):
            batch.submit(["fine"], name="n", batch_id="batch_1")
        with pytest.raises(ValueError, match="batch_id must be a non-empty id"):
            batch.submit(["fine"], batch_id="a/b")
        with pytest.raises(ValueError, match="batch_id"):
            batch.results("")
        with pytest.raises(ValueError, match="poll_interval"):
            batch.wait("batch_1", poll_interval=-1)
        with pytest.raises(ValueError, match="timeout"):
            batch.wait("batch_1", timeout=float("nan"))
        with pytest.raises(ValueError, match="page_size"):
            GrokBatch(model, page_size=0)
        with pytest.raises(TypeError, match="model must be a ChatGrok"):
            GrokBatch(model | (lambda m: m))
        with pytest.raises(ValueError, match="server-side tools"):
            GrokBatch(model.bind_tools([search_tool()]))
        with pytest.raises(TypeError, match="inputs must be a list"):
            asyncio.run(batch.asubmit("hello"))
        with pytest.raises(ValueError, match=r"inputs\[0\]"):
            asyncio.run(batch.asubmit([object()]))  # type: ignore[list-item]
        with pytest.raises(ValueError, match="poll_interval"):
            asyncio.run(batch.await_("batch_1", poll_interval=float("inf")))
        assert server.requests == []


def test_results_of_a_batch_not_made_by_grokbatch_are_refused() -> None:
    with FakeXAIServer() as server:
        client = grok(server).client
        batch_id = client.create_batch("foreign")["batch_id"]
        body = {"model": "grok-4.3", "messages": [{"role": "user", "content": "hi"}]}
        client.add_batch_requests(
            batch_id,
            [{"batch_request_id": "mine-1", "batch_request": {"chat_get_completion": body}}],
        )
        with pytest.raises(ValueError, match="no requests submitted by GrokBatch"):
            GrokBatch(grok(server)).results(batch_id)
