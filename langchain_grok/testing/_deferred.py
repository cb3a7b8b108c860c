"""Deferred chat completions: `deferred: true` submissions and their polling endpoint.

A chat request with `deferred: true` that passes the usual checks takes the next scripted
reply like any other, but the finished `chat.completion` is stored under a new `request_id`
and only `{"request_id": ...}` is sent back. `GET /v1/chat/deferred-completion/{id}` then
answers 202 with an empty body for the job's first `polls` polls, 200 with the completion on
the next one, and 404 ever after (xAI hands a result out once), or at once for an unknown or
expired id.

Tests steer it through `FakeXAIServer.deferred` (a `DeferredJobs`): how many polls a new job
stays pending, making a job expire, and faults for the next polls (a 503, a delay).
"""

from __future__ import annotations

import collections
import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from langchain_grok import _paths as paths
from langchain_grok.testing._chat import build_answer, completion_body
from langchain_grok.testing._records import COMPLETED, Outcome
from langchain_grok.testing._respond import (
    CHAT_FRAMING,
    merge_headers,
    send_fixed_reply,
    send_json,
    send_rejection,
    success_headers,
)
from langchain_grok.testing._responses_http import API_ROOT
from langchain_grok.testing._schema_values import SchemaError
from langchain_grok.testing._validate import Rejection, check_auth

if TYPE_CHECKING:
    from collections.abc import Mapping

    from langchain_grok.testing._http import HTTPRequest, ResponseWriter
    from langchain_grok.testing._script import ScriptedReply

DEFERRED_PREFIX: Final = API_ROOT + paths.DEFERRED_COMPLETION.removesuffix("{id}")
_PENDING_STATUS: Final = 202


@dataclass
class _Job:
    body: dict[str, Any]
    pending_polls: int


class DeferredJobs:
    """The emulator's deferred jobs, and the knobs a test turns on them.

    Thread-safe: the test's thread reads and changes it while the server's thread answers.

    Attributes:
        polls: How many polls a job submitted from now on answers 202 before its result
            (0: the first poll gets it). Jobs already submitted keep their count.
    """

    def __init__(self, polls: int = 0) -> None:
        """Start with no jobs; each new one stays pending for `polls` polls."""
        _check_polls(polls)
        self.polls = polls
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._faults: collections.deque[ScriptedReply] = collections.deque()

    @property
    def pending(self) -> dict[str, int]:
        """A snapshot of the jobs whose result is not fetched yet: id -> polls still pending."""
        with self._lock:
            return {request_id: job.pending_polls for request_id, job in self._jobs.items()}

    def expire(self, request_id: str) -> None:
        """Drop a job, as xAI does after 24 h: from now on its polls answer 404.

        Raises:
            KeyError: No such job (never submitted, expired, or already fetched).
        """
        with self._lock:
            del self._jobs[request_id]

    def script_polls(self, *replies: ScriptedReply) -> None:
        """Answer the next polls (of any job) with these replies instead, one poll each.

        A reply with an error `status`, a `body` or a `raw_body` is sent as is and the poll does
        not count towards the job's pending polls (e.g. `error_reply(503, ...)` to test that a
        transient failure is retried). A reply with only a `delay` delays the poll, which is
        then answered normally. `repeat` is honoured.
        """
        with self._lock:
            for reply in replies:
                self._faults.extend([reply] * reply.repeat)

    def clear_scripted_polls(self) -> None:
        """Forget the poll replies not used yet (the server "recovers")."""
        with self._lock:
            self._faults.clear()

    def clear(self) -> None:
        """Forget every job and scripted poll fault."""
        with self._lock:
            self._jobs.clear()
            self._faults.clear()

    def add(self, body: dict[str, Any]) -> str:
        """Store a finished completion as a new job; return its request id."""
        request_id = str(uuid.uuid4())
        with self._lock:
            self._jobs[request_id] = _Job(body, self.polls)
        return request_id

    def next_fault(self) -> ScriptedReply | None:
        """The scripted fault for this poll, if any."""
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def poll(self, request_id: str) -> tuple[bool, dict[str, Any] | None]:
        """One poll: `(True, None)` pending, `(True, body)` done (and gone), `(False, None)` 404."""
        with self._lock:
            job = self._jobs.get(request_id)
            if job is None:
                return False, None
            if job.pending_polls > 0:
                job.pending_polls -= 1
                return True, None
            del self._jobs[request_id]
            return True, job.body


def _check_polls(polls: object) -> None:
    if isinstance(polls, bool) or not isinstance(polls, int) or polls < 0:
        msg = f"deferred_polls must be an integer >= 0, got {polls!r}"
        raise ValueError(msg)


def is_deferred(payload: Mapping[str, Any]) -> bool:
    """Whether a decoded chat body asks for a deferred completion (any non-false value)."""
    return payload.get("deferred") not in (None, False)


def check_deferred_request(payload: Mapping[str, Any]) -> Rejection | None:
    """The checks a deferred submission gets on top of a chat request's.

    A non-boolean `deferred` fails deserialization (422); `stream: true` with it is refused
    (400), since a deferred result is fetched whole.
    """
    if not isinstance(payload.get("deferred"), bool):
        return Rejection(
            422,
            "Failed to deserialize the JSON body into the target type: deferred: "
            "invalid type: expected a boolean",
        )
    if payload.get("stream") is True:
        return Rejection(400, "Deferred completions cannot be streamed: remove `stream: true`")
    return None


async def start_deferred(
    response: ResponseWriter,
    payload: Mapping[str, Any],
    reply: ScriptedReply,
    jobs: DeferredJobs,
) -> Outcome:
    """Answer a validated deferred submission: store the completion, send its request id.

    A reply that fixes the answer (an error status, `body`, `raw_body`) answers the submission
    itself, so a test can make submitting fail; `delay` delays the submission.
    """
    outcome = await send_fixed_reply(response, reply, CHAT_FRAMING)
    if outcome is not None:
        return outcome
    try:
        answer = build_answer(payload, reply)
    except SchemaError as exc:  # the real API rejects unsatisfiable schemas up front
        return await send_rejection(response, Rejection(400, f"Invalid JSON schema: {exc}"))
    request_id = jobs.add(completion_body(answer))
    headers = merge_headers(success_headers(stream=False), reply.headers)
    return await send_json(response, 200, {"request_id": request_id}, headers)


async def serve_deferred_poll(
    request: HTTPRequest, response: ResponseWriter, path: str, *, api_key: str, jobs: DeferredJobs
) -> Outcome:
    """Answer `GET /v1/chat/deferred-completion/{id}`: 202 pending, 200 once, then 404.

    Args:
        request: The request.
        response: Where to write.
        path: The request path without a trailing slash.
        api_key: The key the server accepts (polls need it like every request).
        jobs: The server's deferred jobs.

    Returns:
        How the response ended.
    """
    if request.method != "GET":
        rejection = Rejection(405, f"Method {request.method} is not allowed on {request.path}")
        return await send_rejection(response, rejection, {"allow": "GET"})
    refused = check_auth(request.headers, api_key)
    if refused is not None:
        return await send_rejection(response, refused)
    fault = jobs.next_fault()
    if fault is not None:
        outcome = await send_fixed_reply(response, fault, CHAT_FRAMING)
        if outcome is not None:
            return outcome
    request_id = path.removeprefix(DEFERRED_PREFIX)
    known, body = jobs.poll(request_id)
    if not known:
        message = f"Deferred completion '{request_id}' not found"
        return await send_rejection(response, Rejection(404, message))
    headers = success_headers(stream=False)
    if body is None:
        del headers["content-type"]  # an empty 202 has no media type
        await response.send(_PENDING_STATUS, headers, b"")
        return COMPLETED
    return await send_json(response, 200, body, headers)
