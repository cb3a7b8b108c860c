"""`AsyncXAIClient`: the asynchronous twin of `XAIClient`, differing only by `await`."""

from __future__ import annotations

import asyncio
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
from langchain_grok._client._batches import AsyncBatchMethods
from langchain_grok._client._bodies import chat_body, response_body
from langchain_grok._client._platform import AsyncPlatformMethods
from langchain_grok._client._pools import drop_loop_pool, loop_pool
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
    from collections.abc import (
        AsyncIterator,
        Awaitable,
        Callable,
        Mapping,
        Sequence,
    )
    from types import TracebackType

    from typing_extensions import Self

    from langchain_grok._types import (
        ChatCompletion,
        ChatCompletionChunk,
    )

__all__ = ["AsyncXAIClient"]


class AsyncXAIClient(BaseClient[httpx.AsyncClient], AsyncBatchMethods, AsyncPlatformMethods):
    """Asynchronous twin of `XAIClient`: same names, awaitable, async iterators, `aclose()`."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        *,
        share_pool: bool = False,
    ) -> None:
        """Create a client; the arguments are those of `XAIClient`, with an `httpx.AsyncClient`.

        Connections are pooled per event loop, so one client can serve several
        `asyncio.run(...)` calls; each loop's pool is closed when that loop shuts down.

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
        self._given_http = http_client
        # Owned pools are kept per event loop (see _pools.loop_pool); `share_pool` uses the one
        # every sharing client of the loop uses.
        self._pool_key: object = "shared" if share_pool else object()

    async def aclose(self) -> None:
        """Close this client's pool for the running event loop.

        An injected `httpx.AsyncClient` and the shared pool are left open; pools of loops that
        already ended were closed when those loops shut down.
        """
        if self._given_http is None and self._pool_key != "shared":
            await drop_loop_pool(self._pool_key)

    async def _http(self) -> httpx.AsyncClient:
        """The injected client, or the pool for the running event loop."""
        if self._given_http is not None:
            return self._given_http
        return await loop_pool(self._pool_key, self.timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- public API ------------------------------------------------------------------------

    async def chat_completion(
        self,
        messages: Sequence[Mapping[str, Any]],
        model: str = DEFAULT_MODEL,
        temperature: float | None = None,
        *,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> ChatCompletion:
        """Create a chat completion; see `XAIClient.chat_completion`."""
        body = chat_body(messages, model, temperature, params, stream=False)
        result = await self.request("POST", paths.CHAT_COMPLETIONS, body, extra_headers)
        return cast("ChatCompletion", result)

    def stream_chat_completion(
        self,
        messages: Sequence[Mapping[str, Any]],
        model: str = DEFAULT_MODEL,
        temperature: float | None = None,
        *,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> AsyncIterator[ChatCompletionChunk]:
        """Stream a chat completion; see `XAIClient.stream_chat_completion`.

        Use it as `async for chunk in client.stream_chat_completion(...)`; call `aclose()` on
        the iterator (or let `async for` finish) to release the connection.
        """
        body = chat_body(messages, model, temperature, params, stream=True)
        return cast(
            "AsyncIterator[ChatCompletionChunk]",
            self.stream("POST", paths.CHAT_COMPLETIONS, body, extra_headers),
        )

    # -- deferred completions --------------------------------------------------------------

    async def start_deferred_completion(
        self,
        messages: Sequence[Mapping[str, Any]],
        model: str = DEFAULT_MODEL,
        temperature: float | None = None,
        *,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> str:
        """Submit a deferred chat completion; see `XAIClient.start_deferred_completion`."""
        body = chat_body(messages, model, temperature, deferred_params(params), stream=False)
        return submitted_id(await self.request("POST", paths.CHAT_COMPLETIONS, body, extra_headers))

    async def get_deferred_completion(
        self, request_id: str, *, timeout: float | None = None
    ) -> ChatCompletion | None:
        """Poll a deferred job once; see `XAIClient.get_deferred_completion`."""
        path = paths.fill(paths.DEFERRED_COMPLETION, request_id, name="request_id")

        async def read(response: httpx.Response) -> ChatCompletion | None:
            return self._parse_deferred(response, await response.aread(), request_id)

        cap = None if timeout is None else check_seconds("timeout", timeout)
        return await self._send("GET", path, None, None, stream=False, accept=read, timeout_cap=cap)

    async def wait_deferred_completion(
        self,
        request_id: str,
        *,
        poll_interval: float = DEFAULT_DEFERRED_POLL_INTERVAL,
        timeout: float = DEFAULT_DEFERRED_TIMEOUT,
    ) -> ChatCompletion:
        """Poll a deferred job until it is done; see `XAIClient.wait_deferred_completion`.

        Cancelling the task stops the wait at once (the job stays fetchable by its id).
        """
        schedule = PollSchedule(request_id, poll_interval=poll_interval, timeout=timeout)
        while True:
            try:
                result = await self.get_deferred_completion(
                    request_id, timeout=schedule.poll_timeout()
                )
            except APIError as exc:
                if not schedule.rides_out(exc):
                    raise
            else:
                if result is not None:
                    return result
                schedule.polled()
            await asyncio.sleep(schedule.next_wait())

    async def deferred_chat_completion(
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
        """Submit a deferred chat completion and wait for it; see `XAIClient`'s."""
        check_poll_settings(poll_interval, timeout)
        request_id = await self.start_deferred_completion(
            messages, model, temperature, extra_headers=extra_headers, **params
        )
        return await self.wait_deferred_completion(
            request_id, poll_interval=poll_interval, timeout=timeout
        )

    async def create_response(
        self,
        input: str | Sequence[Mapping[str, Any]],  # noqa: A002 - the API's field name
        model: str = DEFAULT_MODEL,
        *,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """Create a response; see `XAIClient.create_response`."""
        body = response_body(input, model, params, stream=False)
        result = await self.request("POST", paths.RESPONSES, body, extra_headers)
        return cast("dict[str, Any]", result)

    def stream_response(
        self,
        input: str | Sequence[Mapping[str, Any]],  # noqa: A002 - the API's field name
        model: str = DEFAULT_MODEL,
        *,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        """Stream a response's typed events; see `XAIClient.stream_response`."""
        body = response_body(input, model, params, stream=True)
        return self.stream("POST", paths.RESPONSES, body, extra_headers, responses=True)

    async def retrieve_response(self, response_id: str) -> dict[str, Any]:
        """Fetch a stored response; see `XAIClient.retrieve_response`."""
        result = await self.request(
            "GET", paths.fill(paths.RESPONSE, response_id, name="response_id")
        )
        return cast("dict[str, Any]", result)

    async def delete_response(self, response_id: str) -> dict[str, Any]:
        """Delete a stored response; see `XAIClient.delete_response`."""
        result = await self.request(
            "DELETE", paths.fill(paths.RESPONSE, response_id, name="response_id")
        )
        return cast("dict[str, Any]", result)

    async def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one JSON request with retries and return the decoded JSON body."""

        async def read(response: httpx.Response) -> Any:
            return self._parse_json(response, await response.aread())

        return await self._send(method, path, body, extra_headers, stream=False, accept=read)

    async def stream(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        *,
        responses: bool = False,
    ) -> AsyncIterator[dict[str, Any]]:
        """Send one request whose answer is an event stream; yield its decoded JSON events.

        `responses=True` reads a Responses API stream (typed events, no `[DONE]`).
        """
        opener = partial(self._open, responses=responses)
        opened = await self._send(
            method,
            path,
            body,
            extra_headers,
            stream=True,
            accept=opener,
        )
        try:
            for event in opened.first:
                yield event
            if not opened.parser.done:
                async for chunk in opened.chunks:
                    for event in opened.parser.feed(chunk):
                        yield event
                    if opened.parser.done:
                        break
                else:
                    for event in opened.parser.finish():
                        yield event
        except httpx.TransportError as exc:
            await opened.response.aclose()
            raise self._as_api_error(exc, during="while reading the stream") from exc
        finally:
            if not opened.response.is_closed:
                await self._drain(opened)

    async def _drain(self, opened: OpenStream[AsyncIterator[bytes]]) -> None:
        # See XAIClient._drain: read the terminator after [DONE] so the connection is reused.
        try:
            if opened.parser.done:
                drained = 0
                async for chunk in opened.chunks:
                    drained += len(chunk)
                    if drained > DRAIN_LIMIT:
                        break
        except httpx.TransportError:
            pass
        finally:
            await opened.response.aclose()

    # -- I/O twins -------------------------------------------------------------------------

    async def _open(
        self, response: httpx.Response, *, responses: bool
    ) -> OpenStream[AsyncIterator[bytes]]:
        parser = self._stream_parser(response, responses=responses)
        if parser is None:
            self._raise_for_body(response, await response.aread(), expected="text/event-stream")
            raise AssertionError  # pragma: no cover - _raise_for_body always raises
        chunks = response.aiter_bytes()
        async for chunk in chunks:
            first = list(parser.feed(chunk))
            if first or parser.done:
                return OpenStream(response, chunks, parser, first)
        return OpenStream(response, chunks, parser, list(parser.finish()))

    async def _send(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        extra_headers: Mapping[str, str] | None,
        *,
        stream: bool,
        accept: Callable[[httpx.Response], Awaitable[T]],
        timeout_cap: float | None = None,
    ) -> T:
        attempt = 0
        while True:
            http = await self._http()
            request = self._build_request(
                http,
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
                    response = await http.send(request, stream=True)
                finally:
                    forget_key(request)
                forget_redirect_keys(response, sent=request)
                self._log_response(response, started)
                try:
                    return await accept(response)
                except BaseException:
                    await response.aclose()
                    raise
                finally:
                    if not stream:
                        await response.aclose()
            except (httpx.HTTPError, APIError) as exc:
                error = self._as_api_error(exc, during=f"on {method} {path}")
                wait = self._retry_wait(error, attempt, request)
                if wait is None:
                    if error is exc:
                        raise
                    raise error from exc
            await asyncio.sleep(wait)
            attempt += 1
