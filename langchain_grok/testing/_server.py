"""`FakeXAIServer`: a local xAI API on 127.0.0.1, run by its own event loop thread.

Tests and offline demos talk to it over real TCP with the real client, so connection pooling,
timeouts, chunked decoding and retries are exercised the way production exercises them. The
server runs an asyncio loop in a daemon thread: the test's thread stays free to act as the
client, hundreds of keep-alive connections cost nothing, and `stop()` can cancel every delay and
stream at once.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from langchain_grok import _paths as paths
from langchain_grok.testing._batches import BatchStore
from langchain_grok.testing._batches_http import BATCHES_PATH, serve_batches
from langchain_grok.testing._deferred import (
    DEFERRED_PREFIX,
    DeferredJobs,
    check_deferred_request,
    is_deferred,
    serve_deferred_poll,
    start_deferred,
)
from langchain_grok.testing._http import serve_connection
from langchain_grok.testing._platform_http import is_platform_path, serve_platform
from langchain_grok.testing._records import (
    CLIENT_DISCONNECTED,
    CUT,
    PENDING,
    Outcome,
    RecordedRequest,
)
from langchain_grok.testing._respond import send_chat_reply, send_rejection
from langchain_grok.testing._responses_http import API_ROOT, RESPONSES_PATH, serve_responses
from langchain_grok.testing._responses_store import ResponseStore
from langchain_grok.testing._script import ScriptedReply
from langchain_grok.testing._validate import (
    Rejection,
    check_auth,
    check_chat_request,
    parse_json_body,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from types import TracebackType

    from typing_extensions import Self

    from langchain_grok.testing._http import HTTPRequest, ResponseWriter

    _Handler = Callable[[HTTPRequest, ResponseWriter, str], Awaitable[Outcome]]

_LOGGER = logging.getLogger("langchain_grok.testing")
_START_TIMEOUT: Final = 5.0
_STOP_TIMEOUT: Final = 2.0
_BACKLOG: Final = 1024
_DEFAULT_REPLY: Final = ScriptedReply()
_CHAT_PATH: Final = API_ROOT + paths.CHAT_COMPLETIONS


@dataclass
class _Queued:
    """A scripted reply and how many more requests it answers."""

    reply: ScriptedReply
    remaining: int


class FakeXAIServer:
    """A local emulator of the xAI REST API for tests and offline demos.

    `with FakeXAIServer() as server:` starts it on a free port; point a client at
    `server.base_url` with `server.api_key`. Queue replies with `server.script(...)`; with none
    queued it answers deterministically from the request. Every request is kept in
    `server.requests`; Responses API answers stored with `store: true` in
    `server.stored_responses`.

    Args:
        api_key: The only key it accepts (others get xAI's 400 "Incorrect API key").
        host: Interface to listen on.
        port: TCP port; 0 picks a free one.
        model_latency: Seconds to wait before every answer (for demos that should feel real).
        batch_progress: Batch API: pending requests each `GET /v1/batches/{id}` finishes.
        deferred_polls: How many polls a deferred job answers 202 before its result (see
            `deferred`, a `DeferredJobs`, to change it later, expire jobs or fault polls).
    """

    def __init__(
        self,
        api_key: str = "xai-fake-key",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model_latency: float = 0.0,
        batch_progress: int = 4,
        deferred_polls: int = 0,
    ) -> None:
        """Configure the server; nothing listens until `start()`."""
        self.api_key = api_key
        self.host = host
        self._requested_port = port
        self.model_latency = model_latency
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._lifecycle = threading.Lock()
        self._script: collections.deque[_Queued] = collections.deque()
        self._requests: list[RecordedRequest] = []
        self._responses = ResponseStore()
        self._batches = BatchStore(batch_progress)
        self.deferred = DeferredJobs(deferred_polls)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._port: int | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._connection_count = 0

    # -- lifecycle (caller's thread) ------------------------------------------------------

    def start(self) -> Self:
        """Start listening (no-op if running) and return the server."""
        with self._lifecycle:
            if self._loop is not None:
                return self
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=_run_loop, args=(loop,), name="FakeXAIServer", daemon=True
            )
            thread.start()
            try:
                future = asyncio.run_coroutine_threadsafe(self._listen(), loop)
                self._port = future.result(_START_TIMEOUT)
            except BaseException:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(_STOP_TIMEOUT)
                raise
            self._loop, self._thread = loop, thread
        return self

    def stop(self) -> None:
        """Close the listener and every connection (in-flight replies end as "cut"); idempotent."""
        with self._lifecycle:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                return
            self._loop = self._thread = None
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(_STOP_TIMEOUT)
            except Exception:
                _LOGGER.exception("FakeXAIServer did not shut down cleanly")
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_STOP_TIMEOUT)

    def __enter__(self) -> Self:
        """Start the server for the `with` block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    def __repr__(self) -> str:
        """Show where it listens, never the key."""
        where = self.base_url if self._port is not None else "not started"
        return f"FakeXAIServer({where}, requests={len(self._requests)})"

    # -- test-facing API (caller's thread) ------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port it listens on (known once started)."""
        if self._port is None:
            msg = "FakeXAIServer is not started: use `with FakeXAIServer()` or call start()"
            raise RuntimeError(msg)
        return self._port

    @property
    def base_url(self) -> str:
        """The API base, e.g. `http://127.0.0.1:54321/v1`, for a client's `base_url`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def stored_responses(self) -> Mapping[str, dict[str, Any]]:
        """A read-only snapshot of the stored Responses API answers: id -> response object."""
        return self._responses.snapshot()

    def batch_requests(self, batch_id: str) -> list[dict[str, Any]]:
        """The requests a batch holds, as the client added them, in order (KeyError if none)."""
        return self._batches.added_requests(batch_id)

    @property
    def pending_replies(self) -> int:
        """How many scripted replies are still queued (a test can assert all were used)."""
        with self._lock:
            return sum(entry.remaining for entry in self._script)

    def script(self, *replies: ScriptedReply) -> None:
        """Queue replies; each model request (chat or Responses) that passes validation takes one.

        Args:
            *replies: Replies in the order they should be used (`repeat` counts).
        """
        with self._lock:
            self._script.extend(_Queued(reply, reply.repeat) for reply in replies)

    def reset(self) -> None:
        """Forget queued replies, requests, stored responses, batches and deferred jobs."""
        with self._lock:
            self._script.clear()
            self._requests.clear()
        self._responses.clear()
        self._batches.clear()
        self.deferred.clear()

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least `n` requests have finished (response written or client gone).

        Args:
            n: How many finished requests to wait for.
            timeout: Seconds before giving up.

        Returns:
            A snapshot of all recorded requests, in arrival order.

        Raises:
            TimeoutError: Fewer than `n` requests finished in time.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while sum(r.outcome != PENDING for r in self._requests) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    msg = f"{n} finished requests expected within {timeout}s"
                    raise TimeoutError(msg)
                self._changed.wait(remaining)
            return list(self._requests)

    # -- server side (loop thread) --------------------------------------------------------

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(
            self._on_connection, self.host, self._requested_port, backlog=_BACKLOG
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def _shutdown(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(server.wait_closed(), _STOP_TIMEOUT / 2)
        await asyncio.sleep(0)  # let aborted transports run connection_lost and close sockets

    def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A plain callback that starts its own task: asyncio 3.11 logs a spurious error when a
        # coroutine callback's task ends cancelled, which is how every connection ends at stop().
        self._connection_count += 1
        task = asyncio.get_running_loop().create_task(
            self._serve(reader, writer, self._connection_count)
        )
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, connection_id: int
    ) -> None:
        async def handle(request: HTTPRequest, response: ResponseWriter) -> None:
            await self._handle(request, response, connection_id)

        try:
            await serve_connection(reader, writer, handle)
        except Exception:  # an emulator bug must cost one connection, not the server
            _LOGGER.exception("FakeXAIServer connection %d failed", connection_id)
            writer.transport.abort()

    async def _handle(
        self, request: HTTPRequest, response: ResponseWriter, connection_id: int
    ) -> None:
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            body=request.body,
            json=_try_json(request.body),
            connection_id=connection_id,
        )
        with self._changed:
            self._requests.append(record)
        outcome: Outcome = CUT  # what remains if cancelled by stop()
        try:
            if self.model_latency:
                await asyncio.sleep(self.model_latency)
            outcome = await self._route(request, response)
        except OSError:
            outcome = CLIENT_DISCONNECTED
        except Exception:
            _LOGGER.exception("FakeXAIServer failed on %s %s", request.method, request.path)
            outcome = await _answer_internal_error(response)
        finally:
            with self._changed:
                record.outcome, record.status = outcome, response.status
                self._changed.notify_all()
            record.finished.set()

    async def _route(self, request: HTTPRequest, response: ResponseWriter) -> Outcome:
        path = request.path.rstrip("/") or "/"
        for serves, handler in self._endpoints():
            if serves(path):
                return await handler(request, response, path)
        rejection = Rejection(404, f"No handler for {request.method} {request.path}")
        return await send_rejection(response, rejection)

    def _endpoints(self) -> tuple[tuple[Callable[[str], bool], _Handler], ...]:
        """Which handler serves which paths, in the order they are tried.

        Built per request (a handful of partials) so that a test changing `api_key` on a
        running server is obeyed at once.
        """
        key = self.api_key
        return (
            (lambda path: path == _CHAT_PATH, self._chat_endpoint),
            (
                _under(RESPONSES_PATH),
                partial(
                    serve_responses, api_key=key, store=self._responses, next_reply=self._next_reply
                ),
            ),
            (
                _under(BATCHES_PATH),
                partial(
                    serve_batches, api_key=key, store=self._batches, next_reply=self._next_reply
                ),
            ),
            (is_platform_path, partial(serve_platform, api_key=key)),
            (
                lambda path: path.startswith(DEFERRED_PREFIX),
                partial(serve_deferred_poll, api_key=key, jobs=self.deferred),
            ),
        )

    async def _chat_endpoint(
        self, request: HTTPRequest, response: ResponseWriter, path: str
    ) -> Outcome:
        del path  # one path only
        if request.method != "POST":
            return await _method_not_allowed(response, request, "POST")
        return await self._chat_completions(request, response)

    async def _chat_completions(self, request: HTTPRequest, response: ResponseWriter) -> Outcome:
        payload: Any = None
        rejection = check_auth(request.headers, self.api_key)
        if rejection is None:
            payload, rejection = parse_json_body(request.headers, request.body)
        if rejection is None:
            rejection = check_chat_request(payload)
        deferred = rejection is None and is_deferred(payload)
        if deferred:
            rejection = check_deferred_request(payload)
        if rejection is not None:
            return await send_rejection(response, rejection)
        if deferred:
            return await start_deferred(response, payload, self._next_reply(), self.deferred)
        return await send_chat_reply(response, payload, self._next_reply())

    def _next_reply(self) -> ScriptedReply:
        with self._lock:
            if not self._script:
                return _DEFAULT_REPLY
            entry = self._script[0]
            entry.remaining -= 1
            if entry.remaining <= 0:
                self._script.popleft()
            return entry.reply


def _under(root: str) -> Callable[[str], bool]:
    """A matcher for `root` and every path below it."""
    return lambda path: path == root or path.startswith(root + "/")


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Thread body: run the loop until stopped, then cancel leftovers and close it."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        try:
            leftovers = asyncio.all_tasks(loop)
            for task in leftovers:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _try_json(body: bytes) -> Any | None:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


async def _method_not_allowed(
    response: ResponseWriter, request: HTTPRequest, allowed: str
) -> Outcome:
    rejection = Rejection(405, f"Method {request.method} is not allowed on {request.path}")
    return await send_rejection(response, rejection, {"allow": allowed})


async def _answer_internal_error(response: ResponseWriter) -> Outcome:
    """After an emulator bug: a 500 if nothing was sent yet, else drop the connection."""
    if response.status is not None:
        response.abort()
        return CUT
    try:
        return await send_rejection(response, Rejection(500, "FakeXAIServer internal error"))
    except OSError:
        return CLIENT_DISCONNECTED
