"""`XAIClient` and `AsyncXAIClient`: the only place that does HTTP I/O.

Both classes share every decision (configuration, request building, response checks, retry
policy, logging) through `_BaseClient`; only the few methods that touch the network are written
twice, with the same names and bodies that differ by `await`, in the style of httpx itself.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, cast

import httpx

from langchain_grok._constants import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MODEL,
    DEFAULT_POOL_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
    REQUEST_ID_HEADERS,
)
from langchain_grok._retry import retry_delay
from langchain_grok._sse import SSEDecodeError, SSEDecoder
from langchain_grok._version import __version__
from langchain_grok.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    error_from_payload,
    error_from_response,
    is_error_payload,
)

if TYPE_CHECKING:
    from collections.abc import (
        AsyncIterator,
        Awaitable,
        Callable,
        Iterable,
        Iterator,
        Mapping,
        Sequence,
    )
    from types import TracebackType

    from typing_extensions import Self

    from langchain_grok._types import ChatCompletion, ChatCompletionChunk, ModelList

__all__ = ["AsyncXAIClient", "XAIClient"]

logger = logging.getLogger("langchain_grok")

_T = TypeVar("_T")
_HTTP = TypeVar("_HTTP", httpx.Client, httpx.AsyncClient)

_DONE: Final = "[DONE]"
_SENSITIVE_HEADERS: Final = frozenset({"authorization", "x-api-key", "cookie", "set-cookie"})
_REDACTED: Final = "<redacted>"
_LOOPBACK_NAMES: Final = frozenset({"localhost"})


def resolve_api_key(api_key: str | None) -> str:
    """The key from the argument or `XAI_API_KEY`; fails before any request when there is none."""
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    if not key or not key.strip():
        msg = (
            f"No xAI API key: pass api_key=... or set the {API_KEY_ENV} environment variable "
            "(create a key at https://console.x.ai)."
        )
        raise ValueError(msg)
    return key.strip()


def resolve_base_url(base_url: str | None) -> str:
    """The base URL from the argument, `XAI_API_BASE`, or xAI's public endpoint."""
    url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    return url.rstrip("/")


def build_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    """Turn the user's timeout into httpx's; None means our finite defaults, never "forever".

    A bare number bounds every phase (so `timeout=30` also bounds the wait between two stream
    events), except connecting, which keeps its shorter default.
    """
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if timeout is None:
        return httpx.Timeout(
            connect=DEFAULT_CONNECT_TIMEOUT,
            read=DEFAULT_READ_TIMEOUT,
            write=DEFAULT_WRITE_TIMEOUT,
            pool=DEFAULT_POOL_TIMEOUT,
        )
    return httpx.Timeout(timeout, connect=min(float(timeout), DEFAULT_CONNECT_TIMEOUT))


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """A copy of the headers that is safe to log."""
    return {
        name: (_REDACTED if name.lower() in _SENSITIVE_HEADERS else value)
        for name, value in headers
    }


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _request_id(headers: httpx.Headers) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value: str | None = headers.get(name)
        if value:
            return value
    return None


def _forget_key(request: httpx.Request) -> None:
    # Once a request has been sent its headers are only of use to error reports and debuggers,
    # which must never see the key.
    if "authorization" in request.headers:
        request.headers["authorization"] = _REDACTED


def _transport_error(exc: httpx.TransportError, *, during: str) -> APIConnectionError:
    if isinstance(exc, httpx.PoolTimeout):
        msg = (
            "Timed out waiting for a free connection in the pool; raise the httpx limits "
            "(max_connections) or lower concurrency"
        )
        return APITimeoutError(msg)
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__
        return APITimeoutError(f"Request timed out ({kind}) {during}")
    detail = str(exc) or type(exc).__name__
    return APIConnectionError(f"Connection error {during}: {detail}")


@dataclass(slots=True)
class _OpenStream(Generic[_T]):
    """A stream that has produced its first events and may no longer be retried."""

    response: httpx.Response
    chunks: _T
    parser: _EventParser
    first: list[dict[str, Any]]


class _EventParser:
    """Bytes of a chat-completions event stream in, decoded JSON chunks out (no I/O).

    It raises instead of returning when the stream breaks its protocol: a frame that is not
    JSON, an error frame, or a body that ends before `[DONE]` (a cut stream must never look like
    a finished answer).
    """

    __slots__ = ("_decoder", "done", "request_id", "status_code")

    def __init__(self, *, status_code: int, request_id: str | None) -> None:
        self._decoder = SSEDecoder()
        self.done = False
        self.status_code = status_code
        self.request_id = request_id

    def feed(self, chunk: bytes) -> Iterator[dict[str, Any]]:
        try:
            events = self._decoder.feed(chunk)
        except SSEDecodeError as exc:
            raise self._invalid(str(exc)) from exc
        for event in events:
            yield from self._decode(event.data)
            if self.done:
                return

    def finish(self) -> Iterator[dict[str, Any]]:
        try:
            events = self._decoder.flush()
        except SSEDecodeError as exc:
            raise self._invalid(str(exc)) from exc
        for event in events:
            yield from self._decode(event.data)
            if self.done:
                return
        msg = "The event stream ended before [DONE]: the answer is incomplete"
        raise APIConnectionError(msg, request_id=self.request_id)

    def _decode(self, data: str) -> Iterator[dict[str, Any]]:
        if data == _DONE:
            self.done = True
            return
        try:
            payload = json.loads(data)
        except ValueError as exc:
            msg = f"Malformed JSON in stream event: {data[:200]!r}"
            raise self._invalid(msg) from exc
        if not isinstance(payload, dict):
            msg = f"Stream event is not a JSON object: {data[:200]!r}"
            raise self._invalid(msg)
        if is_error_payload(payload):
            raise error_from_payload(payload, request_id=self.request_id)
        yield payload

    def _invalid(self, message: str) -> APIResponseValidationError:
        return APIResponseValidationError(
            message, status_code=self.status_code, request_id=self.request_id
        )


class _BaseClient(Generic[_HTTP]):
    """Configuration and every non-I/O step shared by the sync and async clients."""

    _http: _HTTP

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
        timeout_given: bool,
    ) -> None:
        if max_retries < 0:
            msg = f"max_retries must be >= 0, got {max_retries}"
            raise ValueError(msg)
        self._api_key = resolve_api_key(api_key)
        self.base_url = resolve_base_url(base_url)
        url = httpx.URL(self.base_url)
        if url.scheme not in ("http", "https") or not url.host:
            msg = f"base_url must be an http(s) URL, got {self.base_url!r}"
            raise ValueError(msg)
        if url.scheme == "http" and not _is_loopback(url.host):
            warnings.warn(
                f"base_url {self.base_url!r} is plain http: the API key would travel "
                "unencrypted. Use https for anything but a local server.",
                UserWarning,
                stacklevel=3,
            )
        self.max_retries = max_retries
        self.timeout = build_timeout(timeout)
        # An injected httpx client keeps its own timeouts unless the caller also named one.
        self._timeout_given = timeout_given
        self._headers = {
            "accept": "application/json",
            "content-type": "application/json",
            "user-agent": f"langchain-grok/{__version__} httpx/{httpx.__version__}",
            **dict(default_headers or {}),
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, max_retries={self.max_retries})"

    # -- request building -------------------------------------------------------------------

    def _build_request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        *,
        stream: bool,
        extra_headers: Mapping[str, str] | None,
    ) -> httpx.Request:
        headers = dict(self._headers)
        if stream:
            headers["accept"] = "text/event-stream"
        if extra_headers:
            headers.update(extra_headers)
        headers["authorization"] = f"Bearer {self._api_key}"
        timeout: Any = self.timeout if self._timeout_given else httpx.USE_CLIENT_DEFAULT
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        if content is None:
            del headers["content-type"]
        return self._http.build_request(
            method, self.base_url + path, content=content, headers=headers, timeout=timeout
        )

    # -- response checks (pure) -------------------------------------------------------------

    def _raise_for_body(self, response: httpx.Response, raw: bytes, *, expected: str) -> None:
        """Raise the typed error for a response that is not the `expected` content type.

        Called for every error status, and for a 200 whose content type is wrong, which is how
        xAI reports overload in-band (`{code, error}` JSON on a stream request).
        """
        request_id = _request_id(response.headers)
        if response.status_code >= 400:  # noqa: PLR2004
            raise error_from_response(response, raw, request_id)
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        if is_error_payload(payload):
            raise error_from_payload(payload, response=response, request_id=request_id)
        content_type = response.headers.get("content-type", "(none)")
        msg = (
            f"Expected {expected} from {response.request.url.path}, got {content_type} "
            f"with HTTP {response.status_code}: {raw[:200]!r}"
        )
        raise APIResponseValidationError(
            msg, status_code=response.status_code, request_id=request_id
        )

    def _parse_json(self, response: httpx.Response, raw: bytes) -> Any:
        request_id = _request_id(response.headers)
        content_type = response.headers.get("content-type", "")
        if response.status_code >= 400 or "json" not in content_type:  # noqa: PLR2004
            self._raise_for_body(response, raw, expected="application/json")
        try:
            payload = json.loads(raw)
        except ValueError as exc:
            msg = f"Response body is not valid JSON: {raw[:200]!r}"
            raise APIResponseValidationError(
                msg, status_code=response.status_code, request_id=request_id
            ) from exc
        if is_error_payload(payload):
            raise error_from_payload(payload, response=response, request_id=request_id)
        return payload

    def _stream_parser(self, response: httpx.Response) -> _EventParser | None:
        """A parser when the response really is an event stream; None when it must be read."""
        content_type = response.headers.get("content-type", "")
        if response.status_code >= 400 or "text/event-stream" not in content_type:  # noqa: PLR2004
            return None
        return _EventParser(
            status_code=response.status_code, request_id=_request_id(response.headers)
        )

    # -- retry policy and logging -----------------------------------------------------------

    def _as_api_error(self, exc: Exception, *, during: str) -> APIError:
        if isinstance(exc, APIError):
            return exc
        if isinstance(exc, httpx.TransportError):
            return _transport_error(exc, during=during)
        msg = f"HTTP client error {during}: {type(exc).__name__}: {exc}"
        error = APIConnectionError(msg)
        error.is_retryable = False  # redirects, decoding: sending again gives the same result
        return error

    def _retry_wait(self, error: APIError, attempt: int, request: httpx.Request) -> float | None:
        """Seconds to wait before the next attempt, or None to give up and raise `error`."""
        if attempt >= self.max_retries or not error.is_retryable:
            return None
        headers = None
        if isinstance(error, APIStatusError) and error.response is not None:
            headers = error.response.headers
        delay = retry_delay(attempt, headers)
        logger.debug(
            "Retrying %s %s in %.2f s (retry %d of %d) after: %s",
            request.method,
            request.url,
            delay,
            attempt + 1,
            self.max_retries,
            error.message,
        )
        return delay

    def _log_sent(self, request: httpx.Request) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "HTTP %s %s headers=%s",
                request.method,
                request.url,
                redact_headers(request.headers.multi_items()),
            )

    def _log_response(self, response: httpx.Response, started: float) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "HTTP %s %s -> %d in %.0f ms (request_id=%s)",
                response.request.method,
                response.request.url,
                response.status_code,
                (time.monotonic() - started) * 1000,
                _request_id(response.headers),
            )

    @staticmethod
    def _chat_body(
        messages: Sequence[Mapping[str, Any]],
        model: str,
        temperature: float | None,
        params: Mapping[str, Any],
        *,
        stream: bool,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "messages": list(messages)}
        if temperature is not None:
            body["temperature"] = temperature
        body.update(params)
        if stream:
            body["stream"] = True
        else:
            body.pop("stream", None)
            body.pop("stream_options", None)
        return body


class XAIClient(_BaseClient[httpx.Client]):
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
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=self.timeout)

    def close(self) -> None:
        """Close the connection pool (unless it belongs to an injected `httpx.Client`)."""
        if self._owns_http:
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
        body = self._chat_body(messages, model, temperature, params, stream=False)
        return cast(
            "ChatCompletion", self.request("POST", "/chat/completions", body, extra_headers)
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
        body = self._chat_body(messages, model, temperature, params, stream=True)
        return cast(
            "Iterator[ChatCompletionChunk]",
            self.stream("POST", "/chat/completions", body, extra_headers),
        )

    def list_models(self) -> ModelList:
        """List the models the key may use (`GET /v1/models`)."""
        return cast("ModelList", self.request("GET", "/models"))

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
    ) -> Iterator[dict[str, Any]]:
        """Send one request whose answer is an event stream; yield its decoded JSON events."""
        opened = self._send(method, path, body, extra_headers, stream=True, accept=self._open)
        try:
            yield from opened.first
            if opened.parser.done:
                return
            for chunk in opened.chunks:
                yield from opened.parser.feed(chunk)
                if opened.parser.done:
                    return
            yield from opened.parser.finish()
        except httpx.TransportError as exc:
            raise self._as_api_error(exc, during="while reading the stream") from exc
        finally:
            opened.response.close()

    # -- I/O twins -------------------------------------------------------------------------

    def _open(self, response: httpx.Response) -> _OpenStream[Iterator[bytes]]:
        parser = self._stream_parser(response)
        if parser is None:
            self._raise_for_body(response, response.read(), expected="text/event-stream")
            raise AssertionError  # pragma: no cover - _raise_for_body always raises
        chunks = response.iter_bytes()
        for chunk in chunks:
            first = list(parser.feed(chunk))
            if first or parser.done:
                return _OpenStream(response, chunks, parser, first)
        return _OpenStream(response, chunks, parser, list(parser.finish()))

    def _send(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        extra_headers: Mapping[str, str] | None,
        *,
        stream: bool,
        accept: Callable[[httpx.Response], _T],
    ) -> _T:
        attempt = 0
        while True:
            request = self._build_request(
                method, path, body, stream=stream, extra_headers=extra_headers
            )
            self._log_sent(request)
            started = time.monotonic()
            try:
                try:
                    response = self._http.send(request, stream=True)
                finally:
                    _forget_key(request)
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


class AsyncXAIClient(_BaseClient[httpx.AsyncClient]):
    """Asynchronous twin of `XAIClient`: same names, awaitable, async iterators, `aclose()`."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        """Create a client; the arguments are those of `XAIClient`, with an `httpx.AsyncClient`.

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
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self.timeout)

    async def aclose(self) -> None:
        """Close the connection pool (unless it belongs to an injected `httpx.AsyncClient`)."""
        if self._owns_http:
            await self._http.aclose()

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
        body = self._chat_body(messages, model, temperature, params, stream=False)
        result = await self.request("POST", "/chat/completions", body, extra_headers)
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
        body = self._chat_body(messages, model, temperature, params, stream=True)
        return cast(
            "AsyncIterator[ChatCompletionChunk]",
            self.stream("POST", "/chat/completions", body, extra_headers),
        )

    async def list_models(self) -> ModelList:
        """List the models the key may use (`GET /v1/models`)."""
        return cast("ModelList", await self.request("GET", "/models"))

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
    ) -> AsyncIterator[dict[str, Any]]:
        """Send one request whose answer is an event stream; yield its decoded JSON events."""
        opened = await self._send(method, path, body, extra_headers, stream=True, accept=self._open)
        try:
            for event in opened.first:
                yield event
            if opened.parser.done:
                return
            async for chunk in opened.chunks:
                for event in opened.parser.feed(chunk):
                    yield event
                if opened.parser.done:
                    return
            for event in opened.parser.finish():
                yield event
        except httpx.TransportError as exc:
            raise self._as_api_error(exc, during="while reading the stream") from exc
        finally:
            await opened.response.aclose()

    # -- I/O twins -------------------------------------------------------------------------

    async def _open(self, response: httpx.Response) -> _OpenStream[AsyncIterator[bytes]]:
        parser = self._stream_parser(response)
        if parser is None:
            self._raise_for_body(response, await response.aread(), expected="text/event-stream")
            raise AssertionError  # pragma: no cover - _raise_for_body always raises
        chunks = response.aiter_bytes()
        async for chunk in chunks:
            first = list(parser.feed(chunk))
            if first or parser.done:
                return _OpenStream(response, chunks, parser, first)
        return _OpenStream(response, chunks, parser, list(parser.finish()))

    async def _send(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        extra_headers: Mapping[str, str] | None,
        *,
        stream: bool,
        accept: Callable[[httpx.Response], Awaitable[_T]],
    ) -> _T:
        attempt = 0
        while True:
            request = self._build_request(
                method, path, body, stream=stream, extra_headers=extra_headers
            )
            self._log_sent(request)
            started = time.monotonic()
            try:
                try:
                    response = await self._http.send(request, stream=True)
                finally:
                    _forget_key(request)
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
