"""Prototype for PROFILE.md proposal A: an async connection pool that costs O(1) per request.

httpcore 1.0's `AsyncConnectionPool._assign_requests_to_connections` runs on every request
start and every response close, and scans every connection (for each idle one it even builds a
list of all connections, so O(n^2)) plus every queued request. With 500 connections that is
the bulk of a request's client CPU (see PROFILE.md). This transport keeps httpx's request and
response handling (it subclasses `httpx.AsyncHTTPTransport`) and httpcore's HTTP/1.1
connections, and replaces only the pool: idle connections on a per-origin LIFO stack, a
counter, and a FIFO of waiters for a free slot, so acquiring and releasing are O(1).

It is bench code, written to measure what such a pool would save; it handles HTTP/1.1 and
plain or TLS origins (no proxies, no HTTP/2).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import httpcore
import httpx

_Key = tuple[bytes, bytes, int | None]


class _PooledStream:
    """The response body; closing it hands the connection back to the pool."""

    def __init__(
        self, stream: Any, pool: LeanAsyncPool, connection: httpcore.AsyncHTTPConnection, key: _Key
    ) -> None:
        self._stream = stream
        self._pool = pool
        self._connection = connection
        self._key = key
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._stream:
            yield part

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._stream.aclose()
        finally:
            self._pool.release(self._connection, self._key)


class LeanAsyncPool:
    def __init__(
        self,
        *,
        max_connections: int,
        keepalive_expiry: float | None,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self._max = max_connections
        self._expiry = keepalive_expiry
        self._ssl = ssl_context
        self._idle: dict[_Key, list[httpcore.AsyncHTTPConnection]] = {}
        self._open: set[httpcore.AsyncHTTPConnection] = set()
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        origin = request.url.origin
        key: _Key = (origin.scheme, origin.host, origin.port)
        timeout = request.extensions.get("timeout", {}).get("pool")
        while True:
            connection = await self._acquire(origin, key, timeout)
            try:
                response = await connection.handle_async_request(request)
            except httpcore.ConnectionNotAvailable:
                self.release(connection, key)
                continue
            except BaseException:
                self.release(connection, key)
                raise
            return httpcore.Response(
                status=response.status,
                headers=response.headers,
                content=_PooledStream(response.stream, self, connection, key),
                extensions=response.extensions,
            )

    async def _acquire(
        self, origin: httpcore.Origin, key: _Key, timeout: float | None
    ) -> httpcore.AsyncHTTPConnection:
        while True:
            idle = self._idle.get(key)
            while idle:
                connection = idle.pop()
                if connection.is_idle() and not connection.has_expired():
                    return connection
                self._open.discard(connection)
                await connection.aclose()
            if len(self._open) < self._max:
                connection = httpcore.AsyncHTTPConnection(
                    origin=origin, ssl_context=self._ssl, keepalive_expiry=self._expiry
                )
                self._open.add(connection)
                return connection
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, timeout)
            except TimeoutError:
                msg = "timed out waiting for a connection"
                raise httpcore.PoolTimeout(msg) from None
            finally:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)

    def release(self, connection: httpcore.AsyncHTTPConnection, key: _Key) -> None:
        if connection.is_idle():
            self._idle.setdefault(key, []).append(connection)
        elif connection.is_closed():
            self._open.discard(connection)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break

    async def aclose(self) -> None:
        connections, self._open = self._open, set()
        self._idle.clear()
        for connection in connections:
            await connection.aclose()

    async def __aenter__(self) -> LeanAsyncPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class LeanAsyncTransport(httpx.AsyncHTTPTransport):
    """`httpx.AsyncHTTPTransport` with `LeanAsyncPool` in place of httpcore's pool."""

    def __init__(self, *, limits: httpx.Limits, verify: bool = True) -> None:
        super().__init__(limits=limits, verify=verify)
        context = self._pool._ssl_context
        self._pool = LeanAsyncPool(  # type: ignore[assignment]
            max_connections=limits.max_connections or 1_000_000,
            keepalive_expiry=limits.keepalive_expiry,
            ssl_context=context,
        )
