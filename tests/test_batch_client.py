"""The Batch API client methods (both twins), the emulator's endpoints, and the tolerant readers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage

from langchain_grok import AsyncXAIClient, BatchItemError, XAIClient
from langchain_grok._batch_plan import assemble_results, chunk_requests, to_status
from langchain_grok.errors import (
    APIResponseValidationError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
)
from langchain_grok.testing import FakeXAIServer

BODY = {"model": "grok-4.3", "messages": [{"role": "user", "content": "hi"}]}


def item(request_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"batch_request_id": request_id, "batch_request": {"chat_get_completion": body or BODY}}


def sent(server: FakeXAIServer) -> list[tuple[str, str, dict[str, str], Any]]:
    return [(r.method, r.path, r.query, r.json) for r in server.requests]


def test_every_method_sends_the_documented_request() -> None:
    with FakeXAIServer(batch_progress=1) as server:
        client = XAIClient(api_key=server.api_key, base_url=server.base_url)
        batch = client.create_batch("nightly")
        batch_id = batch["batch_id"]
        assert batch["name"] == "nightly"
        assert batch["state"]["num_requests"] == 0
        assert client.add_batch_requests(batch_id, [item("a"), item("b")]) == {}
        state = client.get_batch(batch_id)["state"]
        page = client.list_batch_requests(batch_id, limit=1)
        results = client.list_batch_results(batch_id, limit=5, pagination_token=None)
        cancelled = client.cancel_batch(batch_id)
        listing = client.list_batches(limit=20)
        client.close()
    assert state == {
        "num_requests": 2,
        "num_pending": 1,
        "num_success": 1,
        "num_error": 0,
        "num_cancelled": 0,
    }
    assert page["batch_request_metadata"][0]["batch_request_id"] == "a"
    assert page["pagination_token"]
    assert results["results"][0]["batch_request_id"] == "a"
    assert results["results"][0]["batch_result"]["response"]["chat_get_completion"]["choices"]
    assert cancelled["cancel_time"]
    assert cancelled["state"]["num_cancelled"] == 1
    assert [b["batch_id"] for b in listing["batches"]] == [batch_id]
    base = "/v1/batches"
    assert sent(server) == [
        ("POST", base, {}, {"name": "nightly"}),
        ("POST", f"{base}/{batch_id}/requests", {}, {"batch_requests": [item("a"), item("b")]}),
        ("GET", f"{base}/{batch_id}", {}, None),
        ("GET", f"{base}/{batch_id}/requests", {"limit": "1"}, None),
        ("GET", f"{base}/{batch_id}/results", {"limit": "5"}, None),
        ("POST", f"{base}/{batch_id}:cancel", {}, None),
        ("GET", base, {"limit": "20"}, None),
    ]
    cancel = server.requests[5]
    assert cancel.body == b""
    assert "content-type" not in cancel.headers


async def test_async_twins_send_the_same_requests() -> None:
    with FakeXAIServer(batch_progress=1) as server:
        async with AsyncXAIClient(api_key=server.api_key, base_url=server.base_url) as client:
            batch_id = (await client.create_batch("nightly"))["batch_id"]
            await client.add_batch_requests(batch_id, [item("a"), item("b")])
            await client.get_batch(batch_id)
            await client.list_batch_requests(batch_id, limit=1)
            await client.list_batch_results(batch_id, limit=5)
            await client.cancel_batch(batch_id)
            await client.list_batches(limit=20)
            metadata = [m async for m in client.iter_batch_requests(batch_id, page_size=1)]
            results = [r async for r in client.iter_batch_results(batch_id, page_size=1)]
    assert [m["state"] for m in metadata] == ["succeeded", "cancelled"]
    assert [r["batch_request_id"] for r in results] == ["a"]
    base = "/v1/batches"
    assert [(m, p, q) for m, p, q, _ in sent(server)][:7] == [
        ("POST", base, {}),
        ("POST", f"{base}/{batch_id}/requests", {}),
        ("GET", f"{base}/{batch_id}", {}),
        ("GET", f"{base}/{batch_id}/requests", {"limit": "1"}),
        ("GET", f"{base}/{batch_id}/results", {"limit": "5"}),
        ("POST", f"{base}/{batch_id}:cancel", {}),
        ("GET", base, {"limit": "20"}),
    ]


def test_iterators_follow_pagination_tokens_to_the_end() -> None:
    with FakeXAIServer(batch_progress=100) as server:
        client = XAIClient(api_key=server.api_key, base_url=server.base_url)
        batch_id = client.create_batch("pages")["batch_id"]
        client.add_batch_requests(batch_id, [item(f"r{i}") for i in range(5)])
        client.get_batch(batch_id)
        before = len(server.requests)
        ids = [r["batch_request_id"] for r in client.iter_batch_results(batch_id, page_size=2)]
        tokens = [r.query.get("pagination_token") for r in server.requests[before:]]
        client.close()
    assert sorted(ids) == [f"r{i}" for i in range(5)]
    assert len(set(ids)) == 5
    assert tokens == [None, "2", "4"]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda c: c.create_batch(""), "name must be a non-empty string"),
        (lambda c: c.get_batch("a/b"), "batch_id must be a non-empty id"),
        (lambda c: c.cancel_batch("x?y"), "batch_id"),
        (lambda c: c.list_batches(limit=0), "limit must be a positive integer"),
        (lambda c: c.list_batch_results("b", limit=True), "limit"),
        (lambda c: c.list_batch_requests("b", pagination_token=3), "pagination_token"),
        (lambda c: c.add_batch_requests("b", []), "must not be empty"),
        (lambda c: c.add_batch_requests("b", "nope"), "batch_requests must be a list"),
        (lambda c: list(c.iter_batch_results("", page_size=2)), "batch_id"),
    ],
)
def test_bad_arguments_fail_before_any_request(call: Any, match: str) -> None:
    with FakeXAIServer() as server:
        with (
            XAIClient(api_key=server.api_key, base_url=server.base_url) as client,
            pytest.raises(ValueError, match=match),
        ):
            call(client)

        async def run() -> None:
            async with AsyncXAIClient(api_key=server.api_key, base_url=server.base_url) as client:
                with pytest.raises(ValueError, match=match):
                    await call(client)

        if "iter_batch_results" not in call.__code__.co_names:  # the sync-only generator case
            asyncio.run(run())
        assert server.requests == []


def test_a_page_without_its_list_is_a_protocol_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/results"):
            return httpx.Response(200, json={"pagination_token": "next"})
        return httpx.Response(200, json={"pagination_token": None})  # empty last page

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with XAIClient(api_key="k", base_url="https://api.x.ai/v1", http_client=http) as client:
        assert client.list_batch_requests("b") == {"pagination_token": None}
        with pytest.raises(APIResponseValidationError, match="`results` list"):
            client.list_batch_results("b")
        with pytest.raises(APIResponseValidationError, match="batch_id"):
            client.get_batch("b")


# -- the emulator's checks ------------------------------------------------------------------------


def test_emulator_adds_all_or_nothing_and_checks_like_chat() -> None:
    with FakeXAIServer() as server:
        client = XAIClient(api_key=server.api_key, base_url=server.base_url, max_retries=0)
        batch_id = client.create_batch("checks")["batch_id"]
        client.add_batch_requests(batch_id, [item("a")])
        bad_cases = [
            ([item("b"), item("c", {"model": "grok-4.3"})], "batch_requests\\[1\\].*messages"),
            ([item("a")], "duplicate batch_request_id 'a'"),
            ([item("d"), item("d")], "duplicate"),
            ([item("e", {**BODY, "stream": True})], "cannot stream"),
            ([item("f", {**BODY, "search_parameters": {"mode": "on"}})], "Live search"),
            ([{"batch_request": {"embeddings": BODY}}], "must hold one of"),
        ]
        for requests, match in bad_cases:
            with pytest.raises(APIStatusError, match=match):
                client.add_batch_requests(batch_id, requests)
        assert [r["batch_request_id"] for r in server.batch_requests(batch_id)] == ["a"]
        client.cancel_batch(batch_id)
        with pytest.raises(BadRequestError, match="cancelled"):
            client.add_batch_requests(batch_id, [item("z")])
        with pytest.raises(NotFoundError, match="not found"):
            client.get_batch("batch_missing")
        with pytest.raises(BadRequestError, match="pagination_token"):
            client.list_batch_results(batch_id, pagination_token="garbage")
        client.close()
        wrong = XAIClient(api_key="xai-wrong", base_url=server.base_url, max_retries=0)
        with pytest.raises(AuthenticationError, match="Incorrect API key"):
            wrong.list_batches()
        wrong.close()


# -- tolerant readers (pure) ------------------------------------------------------------------------


def _completion(text: str) -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion",
        "model": "grok-4.3",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
        "usage": {
            "prompt_tokens": 3,
            "completion_tokens": 2,
            "total_tokens": 5,
            "cost_in_usd_ticks": 70,
        },
    }


def test_results_accept_every_documented_error_and_success_spelling() -> None:
    rid = [f"lc-{i:06d}-of-000006" for i in range(6)]
    results: list[Any] = [
        {
            "batch_request_id": rid[0],
            "batch_result": {"response": {"chat_get_completion": _completion("ok")}},
        },
        {"batch_request_id": rid[1], "batch_result": {"error": "Model is not supported"}},
        {"batch_request_id": rid[2], "batch_result": {"error": {"code": 3, "message": "bad arg"}}},
        {"batch_request_id": rid[3], "error_message": "top-level message"},
        {  # protobuf's empty status next to a success is not an error
            "batch_request_id": rid[4],
            "batch_result": {
                "error": {"code": 0, "message": ""},
                "response": {"chat_get_completion": _completion("also ok")},
            },
        },
        {"batch_request_id": rid[5], "batch_result": {"response": "unknown"}},
    ]
    metadata: list[Any] = [{"batch_request_id": r, "state": "STATE_SUCCEEDED"} for r in rid]
    answers = assemble_results("b", metadata, reversed(results))
    assert isinstance(answers[0], AIMessage)
    assert answers[0].content == "ok"
    assert answers[0].response_metadata["cost_in_usd_ticks"] == 70
    assert answers[0].usage_metadata is not None
    assert answers[0].usage_metadata["total_tokens"] == 5
    assert [(a.code, a.message) for a in answers[1:4] if isinstance(a, BatchItemError)] == [
        ("failed", "Model is not supported"),
        ("3", "bad arg"),
        ("failed", "top-level message"),
    ]
    assert isinstance(answers[4], AIMessage)
    assert answers[4].content == "also ok"
    assert isinstance(answers[5], BatchItemError)
    assert answers[5].code == "unreadable"


def test_status_reads_missing_camel_case_and_string_counters() -> None:
    camel: Any = {
        "batch_id": "b",
        "state": {"numRequests": "4", "num_pending": 0, "num_success": 4},
    }
    status = to_status(camel)
    assert (status.total, status.pending, status.succeeded, status.failed, status.done) == (
        4,
        0,
        4,
        0,
        True,
    )
    empty = to_status({"batch_id": "b", "state": {}})
    assert not empty.done  # no requests yet (a file-based batch still loading) is not finished
    assert to_status({"batch_id": "b", "cancel_time": "2026-01-01T00:00:00Z"}).done


def test_chunks_respect_the_byte_and_count_bounds() -> None:
    items = [item(f"lc-{i:06d}-of-000010", {**BODY, "user": "x" * 100}) for i in range(10)]
    size = len(json.dumps(items[0], separators=(",", ":")))
    chunks = chunk_requests(items, max_bytes=3 * size + 30, max_count=100)
    assert [len(c) for c in chunks] == [3, 3, 3, 1]
    for chunk in chunks:
        assert len(json.dumps({"batch_requests": chunk}, separators=(",", ":"))) <= 3 * size + 30
    assert [len(c) for c in chunk_requests(items, max_count=4)] == [4, 4, 2]
    with pytest.raises(ValueError, match=r"inputs\[0\] is \d+ bytes"):
        chunk_requests(items, max_bytes=size)
