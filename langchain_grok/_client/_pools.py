"""Connection pools that outlive the objects using them, and close with their owner.

`ChatGrok` has no `close()` (LangChain chat models are dropped, not closed), and servers often
build one per request, so its clients draw on shared pools: one per process for sync calls
(a forked child gets its own), one per event loop for async calls. An async pool is closed by
its loop's shutdown, inside that loop, because its sockets belong to the loop that opened them.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading
import weakref
from typing import TYPE_CHECKING

import httpx

from langchain_grok._client._transport import DEFAULT_ASYNC_LIMITS, async_transport, env_proxies_set

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

__all__ = ["drop_loop_pool", "loop_pool", "new_async_pool", "process_pool"]

_process_lock = threading.Lock()
_process_pools: dict[int, httpx.Client] = {}
_loop_pools: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[object, tuple[httpx.AsyncClient, AsyncGenerator[None, None]]]
] = weakref.WeakKeyDictionary()


def process_pool(timeout: httpx.Timeout) -> httpx.Client:
    """The sync pool shared within this process (a new one after `fork`)."""
    pid = os.getpid()
    with _process_lock:
        pool = _process_pools.get(pid)
        if pool is None or pool.is_closed:
            _process_pools.clear()  # pools inherited from a parent process are not ours
            pool = _process_pools[pid] = httpx.Client(timeout=timeout)
        return pool


@atexit.register
def _close_process_pools() -> None:
    with _process_lock:
        for pool in _process_pools.values():
            pool.close()
        _process_pools.clear()


async def loop_pool(key: object, timeout: httpx.Timeout) -> httpx.AsyncClient:
    """The async pool registered under `key` for the running loop, created on first use.

    It is closed when the loop shuts down (or by `drop_loop_pool`): reusing a connection from a
    loop that has closed fails with "Event loop is closed", which a second `asyncio.run(...)`
    on the same client would otherwise do.
    """
    pools = _loop_pools.setdefault(asyncio.get_running_loop(), {})
    entry = pools.get(key)
    if entry is None:
        pool = new_async_pool(timeout)
        closer = _close_with_loop(pool)
        await anext(closer)  # now registered with the loop's async-generator shutdown
        entry = pools[key] = (pool, closer)
    return entry[0]


def new_async_pool(timeout: httpx.Timeout) -> httpx.AsyncClient:
    """An async client on the O(1) pool, or on httpx's own when environment proxies apply.

    `transport=` makes httpx ignore `HTTPS_PROXY` and friends, so with any of them set the
    pool is httpx's (which mounts them), at httpx's speed and with httpx's default limits.
    """
    if env_proxies_set():
        return httpx.AsyncClient(timeout=timeout)  # httpx's pool and limits, as before
    return httpx.AsyncClient(
        timeout=timeout, transport=async_transport(limits=DEFAULT_ASYNC_LIMITS)
    )


async def drop_loop_pool(key: object) -> None:
    """Close and forget the running loop's pool registered under `key`, if any."""
    entry = _loop_pools.get(asyncio.get_running_loop(), {}).pop(key, None)
    if entry is not None:
        await entry[1].aclose()


async def _close_with_loop(pool: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    """Close `pool` when this generator is closed.

    `asyncio.run` (like every well-behaved loop owner) calls `loop.shutdown_asyncgens()` before
    closing the loop, which closes each async generator still suspended in it. Parked at its
    `yield` and held by the registry, this generator turns that into a hook that closes the
    sockets inside the loop that owns them, instead of leaving them to the garbage collector.
    """
    try:
        yield
    finally:
        await pool.aclose()
