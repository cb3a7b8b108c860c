"""Configuration and every non-I/O step shared by `XAIClient` and `AsyncXAIClient`.

The `_client` package is the only place that imports httpx and talks to the network; this
module holds what both clients decide the same way (key and URL resolution, timeouts, request
building, response checks, retry policy, logging), so the sync and async twins differ only by
`await`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import math
import os
import re
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
    DEFAULT_POOL_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
    REQUEST_ID_HEADERS,
)
from langchain_grok._deferred import deferred_not_found
from langchain_grok._events import EventParser
from langchain_grok._retry import retry_delay
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
    from collections.abc import Iterable, Mapping

    from langchain_grok._types import ChatCompletion

logger = logging.getLogger("langchain_grok")

T = TypeVar("T")
HTTP = TypeVar("HTTP", httpx.Client, httpx.AsyncClient)

_SENSITIVE_HEADERS: Final = frozenset({"authorization", "x-api-key", "cookie", "set-cookie"})
_REDACTED: Final = "<redacted>"
_LOOPBACK_NAMES: Final = frozenset({"localhost"})
# What httpx can put in a header line: a token for the name, printable ASCII (and tabs) for the
# value. Anything else fails inside httpx as an untyped UnicodeEncodeError or, for CR/LF, as a
# "connection error" that gets retried.
_HEADER_NAME: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE: Final = re.compile(r"[\t\x20-\x7e]*")
# How much of a body may follow [DONE] and still be read so the connection can be reused.
DRAIN_LIMIT: Final = 64 * 1024
# Parsed endpoint URLs kept per client: the fixed paths, plus a few with ids in them.
_URL_CACHE_SIZE: Final = 32


def resolve_api_key(api_key: str | None) -> str:
    """The key from the argument or `XAI_API_KEY`; fails before any request when there is none."""
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    if not key or not key.strip():
        msg = (
            f"No xAI API key: pass api_key=... or set the {API_KEY_ENV} environment variable "
            "(create a key at https://console.x.ai)."
        )
        raise ValueError(msg)
    if not _HEADER_VALUE.fullmatch(key.strip()):
        # Never quote the key itself, not even in this message.
        msg = (
            "The xAI API key contains characters an HTTP header cannot carry (non-ASCII or "
            f"control characters): check the value of api_key / {API_KEY_ENV}."
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
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        msg = (
            "timeout must be a positive, finite number of seconds or an httpx.Timeout, "
            f"got {timeout!r}"
        )
        raise ValueError(msg)
    if timeout is None:
        return httpx.Timeout(
            connect=DEFAULT_CONNECT_TIMEOUT,
            read=DEFAULT_READ_TIMEOUT,
            write=DEFAULT_WRITE_TIMEOUT,
            pool=DEFAULT_POOL_TIMEOUT,
        )
    return httpx.Timeout(timeout, connect=min(float(timeout), DEFAULT_CONNECT_TIMEOUT))


def cap_timeout(timeout: httpx.Timeout, seconds: float) -> httpx.Timeout:
    """`timeout` with no phase longer than `seconds` (a phase without a limit gets `seconds`)."""

    def cap(value: float | None) -> float:
        return seconds if value is None else min(value, seconds)

    return httpx.Timeout(
        connect=cap(timeout.connect),
        read=cap(timeout.read),
        write=cap(timeout.write),
        pool=cap(timeout.pool),
    )


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


def request_id_of(headers: httpx.Headers) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value: str | None = headers.get(name)
        if value:
            return value
    return None


def forget_key(request: httpx.Request) -> None:
    # Once a request has been sent its headers are only of use to error reports and debuggers,
    # which must never see the key.
    if "authorization" in request.headers:
        request.headers["authorization"] = _REDACTED


def forget_redirect_keys(response: httpx.Response, sent: httpx.Request) -> None:
    """Redact the key in the requests of every redirect hop (an injected client may follow them).

    httpx builds a new request for each hop and, for a same-origin hop, copies the key into it;
    the final response (kept by errors as `.response`) points at that copy. Without redirects
    the response's request is `sent` itself, already redacted: nothing to do (a hot path).
    """
    if response.request is sent:
        return
    for hop in (*response.history, response):
        forget_key(hop.request)


def check_headers(headers: Mapping[str, str]) -> None:
    """Reject headers httpx cannot send, naming the header (and never quoting a secret)."""
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            msg = f"invalid HTTP header name {name!r}"
            raise ValueError(msg)
        if isinstance(value, bytes):  # sent as given by httpx: only line breaks are refused
            value = value.decode("latin-1")  # noqa: PLW2901 - checked, not used
            if not any(c in value for c in "\r\n\0"):
                continue
        if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
            shown = _REDACTED if name.lower() in _SENSITIVE_HEADERS else repr(value)
            msg = (
                f"header {name!r} has a value HTTP cannot carry (only printable ASCII, no "
                f"line breaks): {shown}"
            )
            raise ValueError(msg)


def encode_body(body: Mapping[str, Any]) -> bytes:
    """The request body as strict JSON; a value JSON cannot carry fails naming its parameter."""
    try:
        return json.dumps(body, ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        name = next((key for key, value in body.items() if not _is_json(value)), None)
        where = f"parameter {name!r}" if name is not None else "the request body"
        msg = f"{where} cannot be sent as JSON: {type(exc).__name__}: {exc}"
        raise ValueError(msg) from exc


def _is_json(value: object) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return False
    return True


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
class OpenStream(Generic[T]):
    """A stream that has produced its first events and may no longer be retried."""

    response: httpx.Response
    chunks: T
    parser: EventParser
    first: list[dict[str, Any]]


class BaseClient(Generic[HTTP]):
    """Configuration and every non-I/O step shared by the sync and async clients."""

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
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            msg = f"max_retries must be an integer >= 0, got {max_retries!r}"
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
        check_headers(default_headers or {})
        self._headers = {
            "accept": "application/json",
            "content-type": "application/json",
            "user-agent": f"langchain-grok/{__version__} httpx/{httpx.__version__}",
            **dict(default_headers or {}),
        }
        self._urls: dict[str, httpx.URL] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, max_retries={self.max_retries})"

    # -- request building -------------------------------------------------------------------

    def _build_request(
        self,
        http: HTTP,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        *,
        stream: bool,
        extra_headers: Mapping[str, str] | None,
        timeout_cap: float | None = None,
    ) -> httpx.Request:
        headers = dict(self._headers)
        if stream:
            headers["accept"] = "text/event-stream"
        if extra_headers:
            check_headers(extra_headers)
            headers.update(extra_headers)
        headers["authorization"] = f"Bearer {self._api_key}"
        timeout: Any = self.timeout if self._timeout_given else httpx.USE_CLIENT_DEFAULT
        if timeout_cap is not None:  # e.g. a poll that must not outlive a deadline
            timeout = cap_timeout(
                self.timeout if self._timeout_given else http.timeout, timeout_cap
            )
        content = None if body is None else encode_body(body)
        if content is None:
            del headers["content-type"]
        return http.build_request(
            method, self._url(path), content=content, headers=headers, timeout=timeout
        )

    def _url(self, path: str) -> httpx.URL:
        """The endpoint's parsed URL: httpx would parse and validate the string on every call.

        Keyed by the full string, so a client whose `base_url` is reassigned stays right.
        """
        text = self.base_url + path
        url = self._urls.get(text)
        if url is None:
            url = httpx.URL(text)
            if len(self._urls) < _URL_CACHE_SIZE:
                self._urls[text] = url
        return url

    # -- response checks (pure) -------------------------------------------------------------

    def _raise_for_body(self, response: httpx.Response, raw: bytes, *, expected: str) -> None:
        """Raise the typed error for a response that is not the `expected` content type.

        Called for every error status, and for a 200 whose content type is wrong, which is how
        xAI reports overload in-band (`{code, error}` JSON on a stream request).
        """
        request_id = request_id_of(response.headers)
        if response.status_code >= 400:  # noqa: PLR2004
            raise error_from_response(response, raw, request_id)
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: hostile, deeply nested JSON
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
        # The request id is read only on the error paths: each header lookup scans them all.
        content_type = response.headers.get("content-type", "")
        if response.status_code >= 400 or "json" not in content_type:  # noqa: PLR2004
            self._raise_for_body(response, raw, expected="application/json")
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # RecursionError: deeply nested JSON
            msg = f"Response body is not valid JSON: {raw[:200]!r}"
            raise APIResponseValidationError(
                msg, status_code=response.status_code, request_id=request_id_of(response.headers)
            ) from exc
        if is_error_payload(payload):
            raise error_from_payload(
                payload, response=response, request_id=request_id_of(response.headers)
            )
        return payload

    def _parse_deferred(
        self, response: httpx.Response, raw: bytes, request_id: str
    ) -> ChatCompletion | None:
        """Read one poll of a deferred job: None while pending (202), else the completion.

        Kept apart from `_parse_json`, which rightly refuses an empty body for every other call.
        A 404 means the job is unknown, expired or already fetched, and says so with its id.
        """
        if response.status_code == 202:  # noqa: PLR2004 - pending; the body is empty
            return None
        if response.status_code == 404:  # noqa: PLR2004
            error = error_from_response(response, raw, request_id_of(response.headers))
            raise deferred_not_found(request_id, error)
        payload = self._parse_json(response, raw)
        if not isinstance(payload, dict) or not isinstance(payload.get("choices"), list):
            msg = (
                f"Expected a chat.completion for deferred completion {request_id!r}, got "
                f"HTTP {response.status_code}: {raw[:200]!r}"
            )
            raise APIResponseValidationError(
                msg, status_code=response.status_code, request_id=request_id_of(response.headers)
            )
        return cast("ChatCompletion", payload)

    def _stream_parser(self, response: httpx.Response, *, responses: bool) -> EventParser | None:
        """A parser when the response really is an event stream; None when it must be read."""
        content_type = response.headers.get("content-type", "")
        if response.status_code >= 400 or "text/event-stream" not in content_type:  # noqa: PLR2004
            return None
        return EventParser(
            status_code=response.status_code,
            request_id=request_id_of(response.headers),
            responses=responses,
        )

    # -- retry policy and logging -----------------------------------------------------------

    def _as_api_error(self, exc: Exception, *, during: str) -> APIError:
        if isinstance(exc, httpx.RequestError):
            with contextlib.suppress(RuntimeError):  # httpx raises it when no request is set
                forget_key(exc.request)  # may be a redirect hop's, which the error chain keeps
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
                request_id_of(response.headers),
            )
