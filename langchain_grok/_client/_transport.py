"""`async_transport()`: httpx's async transport on `LeanAsyncPool` instead of httpcore's pool.

What changes is only the pool's bookkeeping (constant time per request instead of a scan of
every connection, see `_pool`); requests, responses, TLS (`httpx.create_ssl_context`:
certifi, `verify`, `cert`, `SSL_CERT_FILE` with `trust_env`), timeouts and the exception types
are httpx's. HTTP/1.1 only, and no proxies: giving `httpx.AsyncClient` a `transport=` also
turns off its environment proxies (`HTTPS_PROXY`, ...), so the pools ChatGrok owns fall back
to httpx's own transport when such variables are set (`env_proxies_set`).
"""

from __future__ import annotations

import contextlib
import urllib.request
from typing import TYPE_CHECKING, Any, Final

import httpcore
import httpx

from langchain_grok._client._pool import LeanAsyncPool

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator, Iterable, Iterator
    from types import TracebackType

    from typing_extensions import Self

__all__ = ["DEFAULT_ASYNC_LIMITS", "LeanAsyncTransport", "async_transport", "env_proxies_set"]

# The pools ChatGrok owns serve every model of an event loop, so they are sized for concurrent
# agents rather than httpx's 100 / 20; an O(1) pool makes the size cost nothing.
DEFAULT_ASYNC_LIMITS: Final = httpx.Limits(
    max_connections=1000, max_keepalive_connections=200, keepalive_expiry=5.0
)

# httpcore exception -> the httpx exception httpx's own transport raises for it.
_ERRORS: Final[dict[type[Exception], type[httpx.TransportError]]] = {
    httpcore.TimeoutException: httpx.TimeoutException,
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.NetworkError: httpx.NetworkError,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.ProxyError: httpx.ProxyError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
    httpcore.ProtocolError: httpx.ProtocolError,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
}
_PROXY_SCHEMES: Final = frozenset({"http", "https", "all"})


def env_proxies_set() -> bool:
    """Whether proxy environment variables are set, which httpx honours only without `transport=`.

    Any of them counts (`NO_PROXY` exceptions are httpx's business): a user behind a proxy
    must keep working, and httpx's own transport is the one that knows how.
    """
    return any(scheme in _PROXY_SCHEMES for scheme in urllib.request.getproxies())


def async_transport(
    *,
    limits: httpx.Limits = DEFAULT_ASYNC_LIMITS,
    verify: ssl.SSLContext | str | bool = True,
    cert: Any = None,
    trust_env: bool = True,
    retries: int = 0,
    local_address: str | None = None,
    socket_options: Iterable[Any] | None = None,
) -> LeanAsyncTransport:
    """An `httpx.AsyncHTTPTransport` equivalent whose pool costs O(1) per request.

    For `ChatGrok(http_async_client=httpx.AsyncClient(transport=async_transport(...)))` and
    `AsyncXAIClient(http_client=...)`: at hundreds of concurrent requests httpx's default pool
    spends most of a request's CPU on its own bookkeeping. The arguments mean what they mean
    for `httpx.AsyncHTTPTransport`; HTTP/2 and proxies are not supported (use httpx's transport
    for those: note that `transport=` disables httpx's environment proxies).

    Example:
        >>> import httpx
        >>> from langchain_grok import async_transport
        >>> client = httpx.AsyncClient(transport=async_transport(limits=httpx.Limits(
        ...     max_connections=500, max_keepalive_connections=500)))
    """
    return LeanAsyncTransport(
        limits=limits,
        verify=verify,
        cert=cert,
        trust_env=trust_env,
        retries=retries,
        local_address=local_address,
        socket_options=socket_options,
    )


class LeanAsyncTransport(httpx.AsyncBaseTransport):
    """httpx's async transport contract over `LeanAsyncPool`; built by `async_transport()`."""

    def __init__(
        self,
        *,
        limits: httpx.Limits,
        verify: ssl.SSLContext | str | bool,
        cert: Any,
        trust_env: bool,
        retries: int,
        local_address: str | None,
        socket_options: Iterable[Any] | None,
    ) -> None:
        self.pool = LeanAsyncPool(
            ssl_context=httpx.create_ssl_context(verify=verify, cert=cert, trust_env=trust_env),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            retries=retries,
            local_address=local_address,
            socket_options=socket_options,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.pool!r}>"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request (httpx calls this; the response body returns the connection)."""
        url = request.url
        try:
            content: Any = request.content  # read already: a bytes body, safe to send twice
            replayable = True
        except httpx.RequestNotRead:
            content, replayable = request.stream, False
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=content,
            extensions=request.extensions,
        )
        with _httpx_errors(request):
            response = await self.pool.handle_async_request(core_request, replayable=replayable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream, request),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close the pool (httpx calls this from `AsyncClient.aclose`)."""
        await self.pool.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()


class _Body(httpx.AsyncByteStream):
    """The response body with httpcore's errors turned into httpx's, as httpx's transport does."""

    __slots__ = ("_body", "_request")

    def __init__(self, body: Any, request: httpx.Request) -> None:
        self._body = body
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors(self._request):
            async for part in self._body:
                yield part

    async def aclose(self) -> None:
        with _httpx_errors(self._request):
            await self._body.aclose()


@contextlib.contextmanager
def _httpx_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except httpcore.PoolTimeout as exc:  # the most frequent under load: no MRO walk
        raise httpx.PoolTimeout(str(exc), request=request) from exc
    except Exception as exc:
        for kind in type(exc).__mro__:
            mapped = _ERRORS.get(kind)
            if mapped is not None:
                raise mapped(str(exc), request=request) from exc
        raise
