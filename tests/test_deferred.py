"""Deferred completions: the client's submit / poll / wait, sync and async, through the emulator.

Each wait uses `poll_interval=0.01` so that real sleeps stay in the milliseconds; counts of polls
are read from `server.requests`, never from a clock.
"""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

import httpx
import pytest
from langchain_core.exceptions import ModelNotFoundError, ModelTimeoutError

from langchain_grok import AsyncXAIClient, XAIClient
from langchain_grok._deferred import PollSchedule
from langchain_grok.errors import (
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    DeferredTimeoutError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
)
from langchain_grok.testing import FakeXAIServer, ScriptedReply, error_reply, text_reply

MESSAGES = [{"role": "user", "content": "a long question"}]
FAST = {"retry-after-ms": "5"}  # the real retry path, with a short wait
POLL = "/v1/chat/deferred-completion/"
MODES = ["sync", "async"]


def call(server: FakeXAIServer, mode: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call one client method, on a fresh `XAIClient` or `AsyncXAIClient`."""
    options: dict[str, Any] = {"api_key": server.api_key, "base_url": server.base_url}
    options.update(kwargs.pop("client_options", {}))
    if mode == "sync":
        with XAIClient(**options) as client:
            return getattr(client, name)(*args, **kwargs)

    async def run() -> Any:
        async with AsyncXAIClient(**options) as client:
            return await getattr(client, name)(*args, **kwargs)

    return asyncio.run(run())


def polls(server: FakeXAIServer) -> list[Any]:
    """The polls received so far, once their answers are out (statuses are set then)."""
    finished = server.wait_for_requests(len(server.requests))
    return [r for r in finished if r.method == "GET" and r.path.startswith(POLL)]


def job_id(server: FakeXAIServer) -> str:
    return str(polls(server)[0].path.removeprefix(POLL))


# -- the happy path ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_result_arrives_after_the_scripted_number_of_pending_polls(mode: str) -> None:
    with FakeXAIServer(deferred_polls=2) as server:
        server.script(text_reply("the deferred answer"))
        result = call(server, mode, "deferred_chat_completion", MESSAGES, poll_interval=0.01)
        assert result["object"] == "chat.completion"
        assert result["choices"][0]["message"]["content"] == "the deferred answer"
        assert result["usage"]["cost_in_usd_ticks"] > 0
        submit, *gets = server.requests
        assert submit.method == "POST"
        assert submit.path == "/v1/chat/completions"
        assert submit.json["deferred"] is True
        assert submit.json["messages"] == MESSAGES
        assert "stream" not in submit.json
        assert "stream_options" not in submit.json
        # Two pending polls, then the result: each poll its own request for the same job.
        assert [r.status for r in gets] == [202, 202, 200]
        assert len({r.path for r in gets}) == 1
        assert all(r.method == "GET" and r.body == b"" for r in gets)
        assert all(r.headers["authorization"] == f"Bearer {server.api_key}" for r in gets)
        assert server.pending_replies == 0
        assert server.deferred.pending == {}


@pytest.mark.parametrize("mode", MODES)
def test_get_is_one_poll_and_a_result_is_handed_out_once(mode: str) -> None:
    with FakeXAIServer(deferred_polls=1) as server:
        request_id = call(server, mode, "start_deferred_completion", MESSAGES, temperature=0.5)
        assert isinstance(request_id, str)
        assert server.requests[0].json["temperature"] == 0.5
        assert server.deferred.pending == {request_id: 1}
        assert call(server, mode, "get_deferred_completion", request_id) is None
        done = call(server, mode, "get_deferred_completion", request_id)
        assert done["choices"][0]["message"]["content"] == "You said: a long question"
        with pytest.raises(NotFoundError) as caught:
            call(server, mode, "get_deferred_completion", request_id)
        error = caught.value
        assert isinstance(error, ModelNotFoundError)
        assert error.status_code == 404
        assert request_id in str(error)
        assert "unknown or expired" in str(error)
        assert "24 h" in str(error)
        assert [r.status for r in polls(server)] == [202, 200, 404]


# -- expiry, deadlines and resuming ------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_an_expired_job_raises_not_found_naming_it_and_polling_stops(mode: str) -> None:
    with FakeXAIServer(deferred_polls=3) as server:
        request_id = call(server, mode, "start_deferred_completion", MESSAGES)
        server.deferred.expire(request_id)
        with pytest.raises(NotFoundError, match=request_id) as caught:
            call(server, mode, "wait_deferred_completion", request_id, poll_interval=0.01)
        assert "unknown or expired" in caught.value.message
        assert len(polls(server)) == 1  # a 404 is final: no further polls


@pytest.mark.parametrize("mode", MODES)
def test_deadline_raises_a_typed_timeout_carrying_the_id_and_the_wait_resumes(mode: str) -> None:
    # Every wait is at least 0.0075 s, so a 0.02 s deadline allows at most 4 polls: fewer than
    # the 6 the job needs, however slow the machine.
    with FakeXAIServer(deferred_polls=5) as server:
        with pytest.raises(DeferredTimeoutError) as caught:
            call(
                server,
                mode,
                "deferred_chat_completion",
                MESSAGES,
                poll_interval=0.01,
                timeout=0.02,
            )
        error = caught.value
        request_id = job_id(server)
        assert isinstance(error, APITimeoutError)
        assert isinstance(error, ModelTimeoutError)
        assert error.deferred_request_id == request_id
        assert request_id in str(error)
        assert "wait_deferred_completion" in str(error)
        assert error.is_retryable is False  # sending again would pay for a second answer
        first_wait = len(polls(server))
        assert 1 <= first_wait < 6
        assert all(r.status == 202 for r in polls(server))
        result = call(
            server, mode, "wait_deferred_completion", request_id, poll_interval=0.01, timeout=5
        )
        assert result["choices"][0]["message"]["content"] == "You said: a long question"
        assert [r.status for r in polls(server)] == [202] * 5 + [200]
        assert len([r for r in server.requests if r.method == "POST"]) == 1


def test_deferred_timeout_error_survives_pickling() -> None:
    error = DeferredTimeoutError("not ready", deferred_request_id="job-1")
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, DeferredTimeoutError)
    assert copy.deferred_request_id == "job-1"
    assert str(copy) == "not ready"


# -- faults on polls ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_503_on_a_poll_is_retried_for_the_same_job(mode: str) -> None:
    with FakeXAIServer() as server:
        server.deferred.script_polls(error_reply(503, "busy", headers=FAST))
        result = call(server, mode, "deferred_chat_completion", MESSAGES, poll_interval=0.01)
        assert result["choices"][0]["message"]["content"] == "You said: a long question"
        assert [r.status for r in polls(server)] == [503, 200]
        assert len({r.path for r in polls(server)}) == 1


@pytest.mark.parametrize("mode", MODES)
def test_poll_failures_beyond_the_retries_do_not_end_the_wait(mode: str) -> None:
    with FakeXAIServer(deferred_polls=1) as server:
        server.deferred.script_polls(
            error_reply(429, "slow down", headers=FAST, repeat=2),
            ScriptedReply(status=502, headers=FAST),
        )
        result = call(
            server,
            mode,
            "deferred_chat_completion",
            MESSAGES,
            poll_interval=0.01,
            client_options={"max_retries": 0},
        )
        assert result["choices"][0]["message"]["content"] == "You said: a long question"
        # Faulted polls do not count as the job's pending polls.
        assert [r.status for r in polls(server)] == [429, 429, 502, 202, 200]


@pytest.mark.parametrize("mode", MODES)
def test_failing_polls_until_the_deadline_give_the_timeout_with_the_last_failure(
    mode: str,
) -> None:
    with FakeXAIServer() as server:
        server.deferred.script_polls(error_reply(503, "overloaded", headers=FAST, repeat=1000))
        with pytest.raises(DeferredTimeoutError) as caught:
            call(
                server,
                mode,
                "deferred_chat_completion",
                MESSAGES,
                poll_interval=0.01,
                timeout=0.05,
                client_options={"max_retries": 0},
            )
        error = caught.value
        assert error.deferred_request_id == job_id(server)
        assert "overloaded" in str(error)
        assert isinstance(error.__cause__, InternalServerError)
        # The job is intact: once the server recovers, the result is still there.
        server.deferred.clear_scripted_polls()
        result = call(server, mode, "wait_deferred_completion", error.deferred_request_id)
        assert result["choices"][0]["message"]["content"] == "You said: a long question"


@pytest.mark.parametrize("mode", MODES)
def test_a_final_poll_failure_is_raised_at_once(mode: str) -> None:
    with FakeXAIServer() as server:
        request_id = call(server, mode, "start_deferred_completion", MESSAGES)
        server.deferred.script_polls(error_reply(429, "used all available credits"))
        with pytest.raises(RateLimitError, match="credits"):
            call(server, mode, "wait_deferred_completion", request_id, poll_interval=0.01)
        with pytest.raises(AuthenticationError):
            call(
                server,
                mode,
                "get_deferred_completion",
                request_id,
                client_options={"api_key": "xai-wrong"},
            )
        assert [r.status for r in polls(server)] == [429, 400]
        assert server.deferred.pending == {request_id: 0}  # still fetchable with the right key


@pytest.mark.parametrize("mode", MODES)
def test_a_hung_poll_cannot_hold_the_caller_for_the_whole_read_timeout(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The client's read timeout is 600 s; the poll is cut at the time left (floor lowered from
    # 2 s to keep the test short), and the deadline then ends the wait.
    monkeypatch.setattr("langchain_grok._deferred.MIN_DEFERRED_POLL_TIMEOUT", 0.2)
    with FakeXAIServer() as server:
        server.deferred.script_polls(ScriptedReply(delay=2.0))
        with pytest.raises(DeferredTimeoutError) as caught:
            call(
                server,
                mode,
                "deferred_chat_completion",
                MESSAGES,
                poll_interval=0.01,
                timeout=0.05,
                client_options={"max_retries": 0},
            )
        assert isinstance(caught.value.__cause__, APITimeoutError)
        assert "timed out" in str(caught.value)


# -- cancellation ------------------------------------------------------------------------------


async def test_cancelling_an_async_wait_stops_polling() -> None:
    with FakeXAIServer(deferred_polls=10_000) as server:
        async with AsyncXAIClient(api_key=server.api_key, base_url=server.base_url) as client:
            task = asyncio.create_task(
                client.deferred_chat_completion(MESSAGES, poll_interval=0.01, timeout=60)
            )
            await asyncio.to_thread(server.wait_for_requests, 4)  # the POST and 3 polls
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            seen = len(server.wait_for_requests(len(server.requests)))
            await asyncio.sleep(0.05)
            assert len(server.requests) == seen
            assert next(iter(server.deferred.pending.values())) > 0  # the job is still there


# -- bad input fails before any request --------------------------------------------------------

BAD_SECONDS = [0, -1, float("nan"), float("inf"), True, "1", None]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("parameter", ["poll_interval", "timeout"])
@pytest.mark.parametrize("value", BAD_SECONDS)
def test_bad_poll_settings_fail_before_any_request_naming_the_parameter(
    fake_xai_server: FakeXAIServer, mode: str, parameter: str, value: Any
) -> None:
    for method, first in (
        ("deferred_chat_completion", MESSAGES),
        ("wait_deferred_completion", "x"),
    ):
        with pytest.raises(ValueError, match=f"^{parameter} must be a positive, finite number"):
            call(fake_xai_server, mode, method, first, **{parameter: value})
    assert fake_xai_server.requests == []


@pytest.mark.parametrize("mode", MODES)
def test_bad_request_ids_and_streaming_fail_before_any_request(
    fake_xai_server: FakeXAIServer, mode: str
) -> None:
    for bad_timeout in (0, -1.0, float("nan"), "2"):
        with pytest.raises(ValueError, match=r"^timeout must be"):
            call(fake_xai_server, mode, "get_deferred_completion", "job", timeout=bad_timeout)
    for bad in ("", "a/b", "a?b", 7):
        with pytest.raises(ValueError, match="request_id"):
            call(fake_xai_server, mode, "get_deferred_completion", bad)
        with pytest.raises(ValueError, match="request_id"):
            call(fake_xai_server, mode, "wait_deferred_completion", bad)
    for method in ("start_deferred_completion", "deferred_chat_completion"):
        with pytest.raises(ValueError, match="stream=True cannot be combined"):
            call(fake_xai_server, mode, method, MESSAGES, stream=True)
    assert fake_xai_server.requests == []


# -- protocol edges ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_server_that_ignores_deferred_is_a_protocol_error(mode: str) -> None:
    with FakeXAIServer() as server:
        server.script(ScriptedReply(body={"id": "x", "object": "chat.completion", "choices": []}))
        with pytest.raises(APIResponseValidationError, match="request_id"):
            call(server, mode, "deferred_chat_completion", MESSAGES, poll_interval=0.01)
        assert polls(server) == []


def _mock_client(*responses: httpx.Response) -> XAIClient:
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        return queue.pop(0)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    return XAIClient(api_key="k", base_url="https://api.x.ai/v1", http_client=http, max_retries=0)


def test_a_202_is_pending_whatever_its_body_and_the_generic_json_path_still_refuses_it() -> None:
    client = _mock_client(
        httpx.Response(202),
        httpx.Response(202, headers={"content-type": "application/json"}, content=b""),
        httpx.Response(202, json={"status": "pending"}),
        httpx.Response(202),
    )
    assert client.get_deferred_completion("job") is None
    assert client.get_deferred_completion("job") is None
    assert client.get_deferred_completion("job") is None
    with pytest.raises(APIResponseValidationError, match="Expected application/json"):
        client.request("GET", "/models")


def test_a_200_poll_that_is_not_a_completion_is_a_protocol_error() -> None:
    client = _mock_client(
        httpx.Response(200, json={"request_id": "job"}),
        httpx.Response(200, json={"code": "Internal error", "error": "job failed"}),
    )
    with pytest.raises(APIResponseValidationError, match="'job'"):
        client.get_deferred_completion("job")
    with pytest.raises(InternalServerError, match="job failed"):
        client.get_deferred_completion("job")


async def test_async_twin_reads_a_202_as_pending() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/chat/deferred-completion/job"
        return httpx.Response(202)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = AsyncXAIClient(api_key="k", base_url="https://api.x.ai/v1", http_client=http)
    assert await client.get_deferred_completion("job") is None
    await http.aclose()


def test_a_poll_timeout_caps_every_phase_of_the_client_s_own_timeouts() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(202)

    injected = httpx.Client(transport=httpx.MockTransport(handler), timeout=httpx.Timeout(50))
    client = XAIClient(api_key="k", http_client=injected)  # keeps the injected client's 50 s
    assert client.get_deferred_completion("job") is None
    assert client.get_deferred_completion("job", timeout=3) is None
    configured = XAIClient(
        api_key="k",
        http_client=injected,
        timeout=httpx.Timeout(1.0, connect=10.0, pool=None),
    )
    assert configured.get_deferred_completion("job", timeout=3) is None
    assert seen == [
        {"connect": 50, "read": 50, "write": 50, "pool": 50},
        {"connect": 3, "read": 3, "write": 3, "pool": 3},
        {"connect": 3, "read": 1, "write": 1, "pool": 3},
    ]


# -- the emulator's endpoint -------------------------------------------------------------------


def test_emulator_pending_answer_is_an_empty_202_with_the_usual_headers() -> None:
    with (
        FakeXAIServer(deferred_polls=1) as server,
        XAIClient(api_key=server.api_key, base_url=server.base_url) as client,
    ):
        request_id = client.start_deferred_completion(MESSAGES)
        auth = {"authorization": f"Bearer {server.api_key}"}
        url = f"{server.base_url}/chat/deferred-completion/{request_id}"
        pending = httpx.get(url, headers=auth)
        assert pending.status_code == 202
        assert pending.content == b""
        assert pending.headers["content-length"] == "0"
        assert "content-type" not in pending.headers
        assert pending.headers["x-request-id"]
        assert "x-ratelimit-remaining-requests" in pending.headers
        done = httpx.get(url, headers=auth)
        assert done.status_code == 200
        assert done.headers["content-type"] == "application/json"
        assert done.json()["object"] == "chat.completion"
        # Polls need the key like every request; other methods are refused.
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"authorization": "Bearer nope"}).status_code == 400
        assert httpx.post(url, headers=auth).status_code == 405
        assert httpx.get(url, headers=auth).status_code == 404


def test_emulator_refuses_deferred_streams_and_non_boolean_flags_without_using_the_script() -> None:
    with FakeXAIServer() as server:
        server.script(text_reply("kept for later"))
        url = f"{server.base_url}/chat/completions"
        auth = {"authorization": f"Bearer {server.api_key}"}
        body = {"model": "grok-4.3", "messages": MESSAGES, "deferred": True, "stream": True}
        streamed = httpx.post(url, headers=auth, json=body)
        assert streamed.status_code == 400
        assert "stream" in streamed.json()["error"]
        not_bool = httpx.post(url, headers=auth, json={**body, "stream": False, "deferred": "y"})
        assert not_bool.status_code == 422
        assert server.pending_replies == 1
        assert server.deferred.pending == {}
        ordinary = httpx.post(url, headers=auth, json={**body, "deferred": False, "stream": False})
        assert ordinary.json()["choices"][0]["message"]["content"] == "kept for later"


def test_emulator_scripted_errors_answer_the_submission_itself() -> None:
    with FakeXAIServer() as server:
        server.script(error_reply(503, "busy", headers=FAST))
        with XAIClient(api_key=server.api_key, base_url=server.base_url) as client:
            request_id = client.start_deferred_completion(MESSAGES)
        assert [r.status for r in server.requests] == [503, 200]
        assert list(server.deferred.pending) == [request_id]


def test_emulator_delayed_poll_is_then_answered_and_bad_schemas_fail_the_submission() -> None:
    with FakeXAIServer(deferred_polls=1) as server:
        server.deferred.script_polls(ScriptedReply(delay=0.01))
        with XAIClient(api_key=server.api_key, base_url=server.base_url) as client:
            result = client.deferred_chat_completion(MESSAGES, poll_interval=0.01)
            assert result["object"] == "chat.completion"
            assert [r.status for r in polls(server)] == [202, 200]  # the delayed one counted
            fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"$ref": "#/no"}}}
            with pytest.raises(BadRequestError, match="Invalid JSON schema"):
                client.start_deferred_completion(MESSAGES, response_format=fmt)
        assert len(server.deferred.pending) == 0


def test_emulator_job_controls() -> None:
    with pytest.raises(ValueError, match="deferred_polls"):
        FakeXAIServer(deferred_polls=-1)
    with FakeXAIServer(deferred_polls=2) as server:
        with pytest.raises(KeyError):
            server.deferred.expire("never-submitted")
        with XAIClient(api_key=server.api_key, base_url=server.base_url) as client:
            first = client.start_deferred_completion(MESSAGES)
            server.deferred.polls = 0  # only jobs submitted from now on
            second = client.start_deferred_completion(MESSAGES)
            assert server.deferred.pending == {first: 2, second: 0}
            assert client.get_deferred_completion(second) is not None
            server.reset()
            assert server.deferred.pending == {}
            with pytest.raises(NotFoundError):
                client.get_deferred_completion(first)


# -- the polling policy (pure) -----------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_waits_double_from_the_first_interval_up_to_the_cap_with_jitter_below_the_step() -> None:
    clock = FakeClock()
    schedule = PollSchedule("job", poll_interval=1.0, timeout=1000, clock=clock, rand=lambda: 0.0)
    assert [schedule.next_wait() for _ in range(7)] == [1, 2, 4, 8, 10, 10, 10]
    low = PollSchedule("job", poll_interval=1.0, timeout=1000, clock=clock, rand=lambda: 1.0)
    assert [low.next_wait() for _ in range(3)] == [0.75, 1.5, 3.0]
    # A first interval above the cap is kept: the caller asked for it.
    slow = PollSchedule("job", poll_interval=30.0, timeout=1000, clock=clock, rand=lambda: 0.0)
    assert [slow.next_wait() for _ in range(2)] == [30, 30]


def test_the_last_wait_is_cut_at_the_deadline_then_the_timeout_names_the_job() -> None:
    clock = FakeClock()
    schedule = PollSchedule("job-7", poll_interval=4.0, timeout=5.0, clock=clock, rand=lambda: 0)
    schedule.polled()
    assert schedule.next_wait() == 4.0
    clock.now += 4.0
    schedule.polled()
    assert schedule.next_wait() == 1.0  # not 8: one last poll at the deadline
    clock.now += 1.0
    schedule.polled()
    with pytest.raises(DeferredTimeoutError, match=r"'job-7' was not ready within 5 s \(3 polls\)"):
        schedule.next_wait()


def test_only_transient_poll_failures_are_ridden_out() -> None:
    schedule = PollSchedule("job", poll_interval=1.0, timeout=1.0, clock=FakeClock())
    overloaded = InternalServerError("Error code: 503 - busy", status_code=503)
    assert schedule.rides_out(overloaded)
    assert not schedule.rides_out(NotFoundError("Error code: 404 - gone", status_code=404))
    assert not schedule.rides_out(RateLimitError("Error code: 429 - credits", status_code=429))
    assert schedule.polls == 3
