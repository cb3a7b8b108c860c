"""`XAIClient`: the synchronous twin (network I/O only; decisions live in `_base`)."""

from __future__ import annotations

import contextlib
import time
from functools import partial
from typing import TYPE_CHECKING, Any, cast

import httpx

from langchain_grok import _paths as paths
from langchain_grok._client._base import (
    DRAIN_LIMIT,
    BaseClient,
    OpenStream,
    T,
    forget_key,
    forget_redirect_keys,
)
from langchain_grok._client._batches import SyncBatchMethods
from langchain_grok._client._bodies import chat_body, response_body
from langchain_grok._client._platform import SyncPlatformMethods
from langchain_grok._client._pools import process_pool
from langchain_grok._constants import (
    DEFAULT_DEFERRED_POLL_INTERVAL,
    DEFAULT_DEFERRED_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MODEL,
)
from langchain_grok._deferred import (
    PollSchedule,
    check_poll_settings,
    check_seconds,
    deferred_params,
    submitted_id,
)
from langchain_grok.errors import APIError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from types import TracebackType

    from typing_extensions import Self

    from langchain_grok._types import (
        ChatCompletion,
        ChatCompletionChunk,
    )

__all__ = ["XAIClient"]


class XAIClient(BaseClient[httpx.Client], SyncBatchMethods, SyncPlatformMethods):
    """Synchronous client for the xAI REST API.

    One instance holds one connection pool; reuse it across calls and close it (or use it as a
    context manager) when done. Requests are retried on connection failures, timeouts, 408,
    409, 429 (except exhausted credits) and 5xx with jittered exponential backoff, honouring
    `retry-after-ms` / `retry-after`; streams are retried only until their first event.

    Example:
        >>> with XAIClient() as client:  # doctest: +SKIP
        ...     reply = client.chat_completion([{"role": "user", "content": "Hi"}])
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        *,
        share_pool: bool = False,
    ) -> None:
        """Create a client.

        Args:
            api_key: xAI API key; defaults to the `XAI_API_KEY` environment variable.
            base_url: API root including `/v1`; defaults to `XAI_API_BASE`, then
                `https://api.x.ai/v1`.
            timeout: Seconds, or an `httpx.Timeout`; None gives finite defaults (connect 10 s,
                read 600 s, which is also the longest silence tolerated inside a stream).
            max_retries: Retries after the first attempt (0 disables retrying).
            default_headers: Headers added to every request.
            http_client: An `httpx.Client` to use as given (proxies, transports, limits, its
                own timeouts unless `timeout` is also passed). It is not closed by `close()`.
            share_pool: Use the connection pool shared by every sharing client in this process
                (what `ChatGrok` does, as it is never closed); `close()` leaves it open.

        Raises:
            ValueError: No API key in the argument or the environment, or a bad `base_url`.
        """
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            timeout_given=timeout is not None or http_client is None,
        )
        self._owns_http = http_client is None and not share_pool
        if http_client is not None:
            self._http = http_client
        elif share_pool:
            self._http = process_pool(self.timeout)
        else:
            self._http = httpx.Client(timeout=self.timeout)

    def close(self) -> None:
        """Close the connection pool (unless it belongs to an injected `httpx.Client`)."""
        if self._owns_http:
            self._http.close()

    def __del__(self) -> None:
        # A forgotten client (e.g. one a ChatGrok created lazily) must not leave sockets for the
        # garbage collector to find: close the pool we own.
        if getattr(self, "_owns_http", False):
            with contextlib.suppress(Exception):
                self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- public API ------------------------------------------------------------------------

    def chat_completion(
        self,
        messages: Sequence[Mapping[str, Any]],
        model: str = DEFAULT_MODEL,
        temperature: float | None = None,
        *,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> ChatCompletion:
        """Create a chat completion (`POST /v1/chat/completions`).

        Args:
            messages: xAI message dicts, sent as given.
            model: Model id or alias.
            temperature: Sampling temperature; omitted from the body when None.
            extra_headers: Headers for this request only (e.g. `x-grok-conv-id`).
            **params: Any other body fields (tools, tool_choice, response_format, ...).

        Returns:
            The decoded `chat.completion` JSON.
        """
        body = chat_body(messages, model, temperature, params, stream=False)
        return cast(
            "ChatCompletion", self.request("POST", paths.CHAT_COMPLETIONS, body, extra_headers)
        )

    def stream_chat_completion(
        self,
        messages: Sequence[Mapping[str, Any]],
        model: str = DEFAULT_MODEL,
        temperature: float | None = None,
        *,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> Iterator[ChatCompletionChunk]:
        """Stream a chat completion; yields each decoded `chat.completion.chunk`.

        The request is sent when iteration starts. Breaking out of the loop (or closing the
        iterator) closes the HTTP response. A connection lost mid-stream raises
        `APIConnectionError`; the stream never just stops early.
        """
        body = chat_body(messages, model, temperature, params, stream=True)
        return cast(
            "Iterator[ChatCompletionChunk]",
            self.stream("POST", paths.CHAT_COMPLETIONS, body, extra_headers),
        )

    # -- deferred completions --------------------------------------------------------------

    def start_deferred_completion(
        self,
        messages: Sequence[Mapping[str, Any]],
        model: str = DEFAULT_MODEL,
        temperature: float | None = None,
        *,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> str:
        """Submit a deferred chat completion (`deferred: true`) and return its request id.

        The arguments are those of `chat_completion`. Keep the id: the result is fetched with
        `get_deferred_completion` / `wait_deferred_completion`, once, within 24 hours.

        Raises:
            ValueError: `stream=True` was passed (a deferred result is fetched whole).
        """
        body = chat_body(messages, model, temperature, deferred_params(params), stream=False)
        return submitted_id(self.request("POST", paths.CHAT_COMPLETIONS, body, extra_headers))

    def get_deferred_completion(
        self, request_id: str, *, timeout: float | None = None
    ) -> ChatCompletion | None:
        """Poll a deferred job once: its `chat.completion`, or None while it is pending.

        A returned result is gone from xAI's side: the next poll of the id raises.

        Args:
            request_id: The id from `start_deferred_completion`.
            timeout: Seconds bounding each phase of this poll (and of each of its retries);
                None keeps the client's timeouts.

        Raises:
            NotFoundError: The id is unknown, expired (24 h) or its result was already fetched.
        """
        path = paths.fill(paths.DEFERRED_COMPLETION, request_id, name="request_id")

        def read(response: httpx.Response) -> ChatCompletion | None:
            return self._parse_deferred(response, response.read(), request_id)

        cap = None if timeout is None else check_seconds("timeout", timeout)
        return self._send("GET", path, None, None, stream=False, accept=read, timeout_cap=cap)

    def wait_deferred_completion(
        self,
        request_id: str,
        *,
        poll_interval: float = DEFAULT_DEFERRED_POLL_INTERVAL,
        timeout: float = DEFAULT_DEFERRED_TIMEOUT,
    ) -> ChatCompletion:
        """Poll a deferred job until it is done; also resumes a wait that timed out.

        Each poll is a short request of its own, bounded by the time left (at least 2 s), so a
        hung poll cannot hold the caller long past the deadline. The wait between polls starts
        at `poll_interval` and doubles up to 10 s (with jitter); a poll failing transiently
        (5xx, 429, connection, timeout) after the usual retries does not end the wait.

        Args:
            request_id: The id from `start_deferred_completion` (or a `DeferredTimeoutError`).
            poll_interval: Seconds before the second poll (the first is immediate).
            timeout: Seconds to wait in all before giving up.

        Raises:
            DeferredTimeoutError: Still pending at the deadline; `.deferred_request_id` resumes.
            NotFoundError: The id is unknown, expired, or its result was already fetched.
            ValueError: A bad `request_id`, `poll_interval` or `timeout` (before any request).
        """
        schedule = PollSchedule(request_id, poll_interval=poll_interval, timeout=timeout)
        while True:
            try:
                result = self.get_deferred_completion(request_id, timeout=schedule.poll_timeout())
            except APIError as exc:
                if not schedule.rides_out(exc):
                    raise
            else:
                if result is not None:
                    return result
                schedule.polled()
            time.sleep(schedule.next_wait())

    def deferred_chat_completion(
        self,
        messages: Sequence[Mapping[str, Any]],
        model: str = DEFAULT_MODEL,
        temperature: float | None = None,
        *,
        poll_interval: float = DEFAULT_DEFERRED_POLL_INTERVAL,
        timeout: float = DEFAULT_DEFERRED_TIMEOUT,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> ChatCompletion:
        """Submit a deferred chat completion and wait for it (`start_` then `wait_`).

        Raises:
            DeferredTimeoutError: Still pending at the deadline; `.deferred_request_id` resumes.
            ValueError: A bad parameter, before the job is submitted.
        """
        check_poll_settings(poll_interval, timeout)
        request_id = self.start_deferred_completion(
            messages, model, temperature, extra_headers=extra_headers, **params
        )
        return self.wait_deferred_completion(
            request_id, poll_interval=poll_interval, timeout=timeout
        )

    def create_response(
        self,
        input: str | Sequence[Mapping[str, Any]],  # noqa: A002 - the API's field name
        model: str = DEFAULT_MODEL,
        *,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """Create a response (`POST /v1/responses`), xAI's recommended API.

        Args:
            input: A string or a list of input items, sent as given.
            model: Model id or alias.
            extra_headers: Headers for this request only.
            **params: Any other body fields (`tools`, `store`, `include`, `reasoning`, ...).

        Returns:
            The decoded `response` object.
        """
        body = response_body(input, model, params, stream=False)
        return cast("dict[str, Any]", self.request("POST", paths.RESPONSES, body, extra_headers))

    def stream_response(
        self,
        input: str | Sequence[Mapping[str, Any]],  # noqa: A002 - the API's field name
        model: str = DEFAULT_MODEL,
        *,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> Iterator[dict[str, Any]]:
        """Stream a response; yields each typed event (`response.output_text.delta`, ...).

        The stream ends after `response.completed` (or `.incomplete`); `error` and
        `response.failed` events raise typed errors; unknown event types are passed through.
        """
        body = response_body(input, model, params, stream=True)
        return self.stream("POST", paths.RESPONSES, body, extra_headers, responses=True)

    def retrieve_response(self, response_id: str) -> dict[str, Any]:
        """Fetch a stored response (`GET /v1/responses/{id}`); 404 raises `NotFoundError`."""
        return cast(
            "dict[str, Any]",
            self.request("GET", paths.fill(paths.RESPONSE, response_id, name="response_id")),
        )

    def delete_response(self, response_id: str) -> dict[str, Any]:
        """Delete a stored response (`DELETE /v1/responses/{id}`)."""
        return cast(
            "dict[str, Any]",
            self.request("DELETE", paths.fill(paths.RESPONSE, response_id, name="response_id")),
        )

    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one JSON request with retries and return the decoded JSON body."""

        def read(response: httpx.Response) -> Any:
            return self._parse_json(response, response.read())

        return self._send(method, path, body, extra_headers, stream=False, accept=read)

    def stream(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        *,
        responses: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Send one request whose answer is an event stream; yield its decoded JSON events.

        `responses=True` reads a Responses API stream (typed events, no `[DONE]`).
        """
        opener = partial(self._open, responses=responses)
        opened = self._send(
            method,
            path,
            body,
            extra_headers,
            stream=True,
            accept=opener,
        )
        try:
            yield from opened.first
            if not opened.parser.done:
                for chunk in opened.chunks:
                    yield from opened.parser.feed(chunk)
                    if opened.parser.done:
                        break
                else:
                    yield from opened.parser.finish()
        except httpx.TransportError as exc:
            opened.response.close()
            raise self._as_api_error(exc, during="while reading the stream") from exc
        finally:
            if not opened.response.is_closed:
                self._drain(opened)

    def _drain(self, opened: OpenStream[Iterator[bytes]]) -> None:
        # After [DONE] only the body's terminator is left: reading it lets the connection go
        # back to the pool. A consumer that stopped early, or a server that keeps talking,
        # gets the connection closed instead.
        try:
            if opened.parser.done:
                drained = 0
                for chunk in opened.chunks:
                    drained += len(chunk)
                    if drained > DRAIN_LIMIT:
                        break
        except httpx.TransportError:
            pass  # the answer was complete; a failure in the terminator changes nothing
        finally:
            opened.response.close()

    # -- I/O twins -------------------------------------------------------------------------

    def _open(self, response: httpx.Response, *, responses: bool) -> OpenStream[Iterator[bytes]]:
        parser = self._stream_parser(response, responses=responses)
        if parser is None:
            self._raise_for_body(response, response.read(), expected="text/event-stream")
            raise AssertionError  # pragma: no cover - _raise_for_body always raises
        chunks = response.iter_bytes()
        for chunk in chunks:
            first = list(parser.feed(chunk))
            if first or parser.done:
                return OpenStream(response, chunks, parser, first)
        return OpenStream(response, chunks, parser, list(parser.finish()))

    def _send(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        extra_headers: Mapping[str, str] | None,
        *,
        stream: bool,
        accept: Callable[[httpx.Response], T],
        timeout_cap: float | None = None,
    ) -> T:
        attempt = 0
        while True:
            request = self._build_request(
                self._http,
                method,
                path,
                body,
                stream=stream,
                extra_headers=extra_headers,
                timeout_cap=timeout_cap,
            )
            self._log_sent(request)
            started = time.monotonic()
            try:
                try:
                    response = self._http.send(request, stream=True)
                finally:
                    forget_key(request)
                forget_redirect_keys(response, sent=request)
                self._log_response(response, started)
                try:
                    return accept(response)
                except BaseException:
                    response.close()
                    raise
                finally:
                    if not stream:
                        response.close()
            except (httpx.HTTPError, APIError) as exc:
                error = self._as_api_error(exc, during=f"on {method} {path}")
                wait = self._retry_wait(error, attempt, request)
                if wait is None:
                    if error is exc:
                        raise
                    raise error from exc
            time.sleep(wait)
            attempt += 1
