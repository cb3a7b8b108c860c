"""An async HTTP/1.1 connection pool whose every step costs O(1), whatever its size.

httpcore 1.0's `AsyncConnectionPool` re-examines every connection (and, for each idle one,
every other connection) each time a request starts or a response closes, so with hundreds of
connections the pool's bookkeeping is most of a request's CPU (bench/PROFILE.md, proposal A).
This pool keeps the same contract with constant-time bookkeeping:

- idle connections wait on a per-origin stack (the most recently used is reused first; the
  oldest sit at the bottom, where expired ones are found by their timestamp without a syscall);
- a counter of open connections enforces `max_connections`, a counter of idle ones
  `max_keepalive_connections`;
- requests that find the pool full wait in a FIFO of futures, each bounded by the pool timeout.

Connections are httpcore's own (`AsyncHTTPConnection`, HTTP/1.1 only): the wire protocol, TLS
and timeouts are exactly httpx's. Only the bookkeeping is ours. Waiting for a free connection
uses asyncio futures, so the pool runs under asyncio (LangChain's loop), not trio.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Final

import httpcore

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator, Iterable

__all__ = ["LeanAsyncPool"]

# Failures that mean a kept-alive connection had been closed by the server before our request
# reached it; one retry on a new connection makes that race invisible (a request that does not
# get a response on a *new* connection is a real failure and is raised).
_STALE_ERRORS: Final = (httpcore.RemoteProtocolError, httpcore.ReadError, httpcore.WriteError)

_Connection = httpcore.AsyncHTTPConnection
_Key = tuple[bytes, bytes, "int | None"]  # an origin (httpcore's `Origin` is not hashable)


class LeanAsyncPool:
    """An `httpcore.AsyncConnectionPool` replacement for HTTP/1.1 with O(1) bookkeeping.

    Args:
        ssl_context: For https origins (httpx's `create_ssl_context` result).
        max_connections: Open connections at most, all origins together (None: no limit).
        max_keepalive_connections: Idle connections kept at most (None: no limit).
        keepalive_expiry: Seconds an idle connection is kept (None: until the server closes it).
        retries: Connect retries, as httpx's `AsyncHTTPTransport(retries=...)`.
        local_address: Local address to bind, as httpx's.
        socket_options: Socket options, as httpx's.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None,
        max_connections: int | None,
        max_keepalive_connections: int | None,
        keepalive_expiry: float | None,
        retries: int = 0,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> None:
        self._ssl_context = ssl_context
        self._max = max_connections if max_connections is not None else float("inf")
        self._max_idle = (
            max_keepalive_connections if max_keepalive_connections is not None else float("inf")
        )
        self._expiry = keepalive_expiry
        self._retries = retries
        self._local_address = local_address
        self._socket_options = socket_options
        self._idle: dict[_Key, deque[tuple[_Connection, float]]] = {}
        self._idle_count = 0
        self._open = 0  # connections open or opening, idle ones included
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False

    # -- introspection (tests, debugging) ------------------------------------------------

    @property
    def open_connections(self) -> int:
        """Connections open or being opened, idle ones included."""
        return self._open

    @property
    def idle_connections(self) -> int:
        """Connections open and waiting for a request."""
        return self._idle_count

    def __repr__(self) -> str:
        busy = self._open - self._idle_count
        return f"<{type(self).__name__} [{busy} busy, {self._idle_count} idle]>"

    # -- the request path ----------------------------------------------------------------

    async def handle_async_request(
        self, request: httpcore.Request, *, replayable: bool = False
    ) -> httpcore.Response:
        """Send `request` on a pooled connection; its response body hands the connection back.

        `replayable`: the body can be sent twice (bytes, not a generator), so a request that
        fails on a reused connection the server had closed is sent again on a new one.

        Raises:
            httpcore.PoolTimeout: No connection became free within the pool timeout.
            httpcore.UnsupportedProtocol: Not an http(s) URL.
        """
        origin = request.url.origin
        key: _Key = (origin.scheme, origin.host, origin.port)
        if origin.scheme not in (b"http", b"https"):
            msg = f"Request URL has an unsupported protocol '{origin.scheme.decode()}://'."
            raise httpcore.UnsupportedProtocol(msg)
        timeout = request.extensions.get("timeout", {}).get("pool")
        deadline = None if timeout is None else time.monotonic() + timeout
        fresh = False
        while True:
            connection, reused = await self._checkout(origin, key, deadline, fresh=fresh)
            try:
                response = await connection.handle_async_request(request)
            except httpcore.ConnectionNotAvailable:
                # It was closed between the checks and the request: not an error, take another.
                await self._checkin(connection, key)
                continue
            except _STALE_ERRORS:
                await self._checkin(connection, key)
                if reused and not fresh and replayable:
                    fresh = True
                    continue
                raise
            except BaseException:  # cancellation included: the slot must come back
                await self._checkin(connection, key)
                raise
            return httpcore.Response(
                status=response.status,
                headers=response.headers,
                content=_PooledBody(response.stream, self, connection, key),
                extensions=response.extensions,
            )

    async def _checkout(
        self, origin: httpcore.Origin, key: _Key, deadline: float | None, *, fresh: bool
    ) -> tuple[_Connection, bool]:
        """A connection for `origin` and whether it was reused; waits while the pool is full."""
        first_wait = True
        while True:
            if self._closed:
                msg = "the connection pool is closed"
                raise RuntimeError(msg)
            stale: list[_Connection] = []
            connection = None if fresh else self._take_idle(key, stale)
            reused = connection is not None
            if connection is None and (self._open < self._max or self._evict(stale)):
                self._open += 1
                connection = self._new_connection(origin)
            if stale:
                try:
                    await _close_all(stale)
                except BaseException:  # cancelled while closing: give back what was taken
                    if connection is not None:
                        self._release(connection, key)
                    raise
            if connection is not None:
                return connection, reused
            await self._wait(deadline, urgent=not first_wait)
            first_wait = False

    def _take_idle(self, key: _Key, stale: list[_Connection]) -> _Connection | None:
        idle = self._idle.get(key)
        if not idle:
            return None
        self._drop_expired(idle, stale)
        while idle:
            connection, _ = idle.pop()
            self._idle_count -= 1
            # One readability probe: a server that closed the idle connection is seen here.
            if connection.is_idle() and not connection.has_expired():
                return connection
            self._open -= 1
            stale.append(connection)
        return None

    def _drop_expired(
        self, idle: deque[tuple[_Connection, float]], stale: list[_Connection]
    ) -> None:
        """Close the idle connections (oldest first) that outlived `keepalive_expiry`."""
        if self._expiry is None:
            return
        oldest_allowed = time.monotonic() - self._expiry
        while idle and idle[0][1] < oldest_allowed:
            stale.append(idle.popleft()[0])
            self._idle_count -= 1
            self._open -= 1

    def _evict(self, stale: list[_Connection]) -> bool:
        """Close the oldest idle connection of any origin to make room for a new one."""
        if not self._idle_count:
            return False
        for idle in self._idle.values():
            if idle:
                stale.append(idle.popleft()[0])
                self._idle_count -= 1
                self._open -= 1
                return True
        return False  # pragma: no cover - the count says one exists

    def _new_connection(self, origin: httpcore.Origin) -> _Connection:
        return httpcore.AsyncHTTPConnection(
            origin=origin,
            ssl_context=self._ssl_context,
            keepalive_expiry=self._expiry,
            http1=True,
            http2=False,
            retries=self._retries,
            local_address=self._local_address,
            socket_options=self._socket_options,
        )

    async def _wait(self, deadline: float | None, *, urgent: bool) -> None:
        """Wait until a connection is handed back (then the caller looks again).

        A waiter woken but beaten to the connection by a newcomer waits again at the front.
        """
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        if urgent:
            self._waiters.appendleft(waiter)
        else:
            self._waiters.append(waiter)
        timer = None
        if deadline is not None:
            timer = loop.call_later(max(0.0, deadline - time.monotonic()), _expire, waiter)
        try:
            await waiter
        except BaseException:
            # Woken, then cancelled before using the wake-up: pass it on, or a slot is lost.
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._wake_one()
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def _wake_one(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():  # timed-out and cancelled waiters stay queued until here
                waiter.set_result(None)
                return

    async def _checkin(self, connection: _Connection, key: _Key) -> None:
        """Take a connection back after its response (or its failure)."""
        closing = self._release(connection, key)
        if closing is not None:
            await closing.aclose()

    def _release(self, connection: _Connection, key: _Key) -> _Connection | None:
        """The bookkeeping of `_checkin`, synchronous so cancellation cannot cut it in half.

        Returns:
            A connection the caller must close, if any.
        """
        # `is_closed` first: httpcore reports a connection that failed to connect as idle.
        if (
            not self._closed
            and not connection.is_closed()
            and connection.is_idle()
            and self._idle_count < self._max_idle
        ):
            idle = self._idle.get(key)
            if idle is None:
                idle = self._idle[key] = deque()
            idle.append((connection, time.monotonic()))
            self._idle_count += 1
            self._wake_one()
            return None
        self._open -= 1
        self._wake_one()
        return None if connection.is_closed() else connection

    async def aclose(self) -> None:
        """Close the idle connections now and the busy ones as their responses end."""
        self._closed = True
        stale = [connection for idle in self._idle.values() for connection, _ in idle]
        self._open -= len(stale)
        self._idle.clear()
        self._idle_count = 0
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the connection pool is closed"))
        await _close_all(stale)


class _PooledBody:
    """A response body that hands its connection back to the pool when closed."""

    __slots__ = ("_body", "_closed", "_connection", "_key", "_pool")

    def __init__(self, body: Any, pool: LeanAsyncPool, connection: _Connection, key: _Key) -> None:
        self._body = body
        self._pool = pool
        self._connection = connection
        self._key = key
        self._closed = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        # httpcore's own iterator, not a wrapper: no extra frame per chunk.
        return self._body.__aiter__()  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._body.aclose()
        finally:
            await self._pool._checkin(self._connection, self._key)  # noqa: SLF001 - the pool's own body


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(httpcore.PoolTimeout("Timed out waiting for a free connection"))


async def _close_all(connections: list[_Connection]) -> None:
    for connection in connections:
        await connection.aclose()
