"""The contenders: one registry entry each, all driven through the same small interface.

Adding a contender is one entry in `CONTENDERS`, e.g.

    Contender("chatgrok_responses", "ChatGrok (Responses)", "subject",
              _langchain(lambda t: _chatgrok(t, use_responses_api=True)))

(`default=False` leaves one out of the default run; select it with `run.py --with KEY`).
Both API paths, Chat Completions and Responses, are in the default run: the targets hold on
both (`PATHS`).

Every contender gets an HTTP client made by `http_clients` with the same pool limits and
timeouts (ChatXAI's openai SDK needs clients from the `httpx` fork it was built on, `httpx2` in
openai >= 3, so the module is per contender), and `max_retries=0` so that errors are counted
rather than hidden. ChatGrok's async client carries `langchain_grok.async_transport` (its O(1)
pool, the default of the pools ChatGrok owns) with those same limits, as a user passing
`http_async_client=` would; the floors stay on plain httpx.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal, Protocol

API_KEY = "xai-bench-not-a-real-key"
MODEL = "grok-4.3"
MAX_CONNECTIONS = 1000
TIMEOUT_S = 30.0
OPENAI_SDK = "<the openai SDK's httpx>"


class Driver(Protocol):
    """What the runner calls; `stream` / `astream` yield the text of each content chunk."""

    def invoke(self, prompt: str) -> str: ...
    def stream(self, prompt: str) -> Iterator[str]: ...
    async def ainvoke(self, prompt: str) -> str: ...
    def astream(self, prompt: str) -> AsyncIterator[str]: ...


@dataclass
class Transport:
    """Where to send and through which (already configured) HTTP clients."""

    base_url: str  # ends in /v1
    http: ModuleType  # httpx or httpx2
    sync_client: Any = None
    async_client: Any = None


Role = Literal["subject", "floor", "raw", "incumbent"]


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    role: Role
    make: Callable[[Transport], Driver]
    http_module: str = "httpx"
    requires: tuple[str, ...] = ()
    # Optional: a factory for the async client's transport (used by profiling.py experiments).
    async_transport: Callable[[], Any] | None = None
    default: bool = True  # part of the default run
    description: str = ""

    def missing(self) -> list[str]:
        """Modules this contender needs that are not installed."""
        return [name for name in self.requires if importlib.util.find_spec(name) is None]

    def http(self) -> ModuleType:
        name = self.http_module
        if name == OPENAI_SDK:
            # The httpx flavour the installed openai SDK takes as `http_client`: httpx2 since
            # openai 3.x, httpx before. Resolved lazily: only ChatXAI should pay for openai.
            base_client = importlib.import_module("openai._base_client")
            name = "httpx2" if hasattr(base_client, "httpx2") else "httpx"
        return importlib.import_module(name)


def http_clients(
    http: ModuleType, *, sync: bool, asynchronous: bool, async_transport: Any = None
) -> tuple[Any, Any]:
    """Sync and/or async clients with the pool limits and timeouts every contender gets."""
    limits = http.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS)
    timeout = http.Timeout(TIMEOUT_S)
    extra = {"transport": async_transport} if async_transport is not None else {}
    return (
        http.Client(limits=limits, timeout=timeout) if sync else None,
        http.AsyncClient(limits=limits, timeout=timeout, **extra) if asynchronous else None,
    )


# -- LangChain chat models -------------------------------------------------------------------


class LangChainDriver:
    """Drives any `BaseChatModel` through its public Runnable methods, as a user would."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def invoke(self, prompt: str) -> str:
        return _text(self.model.invoke(prompt))

    def stream(self, prompt: str) -> Iterator[str]:
        for chunk in self.model.stream(prompt):
            if text := _text(chunk):
                yield text

    async def ainvoke(self, prompt: str) -> str:
        return _text(await self.model.ainvoke(prompt))

    async def astream(self, prompt: str) -> AsyncIterator[str]:
        async for chunk in self.model.astream(prompt):
            if text := _text(chunk):
                yield text


def _text(message: Any) -> str:
    """The text of a message or chunk; content may be a string or a list of content blocks."""
    content = message.content
    return content if isinstance(content, str) else str(message.text)


def _langchain(build: Callable[[Transport], Any]) -> Callable[[Transport], Driver]:
    return lambda transport: LangChainDriver(build(transport))


def _common(t: Transport) -> dict[str, Any]:
    return {
        "model": MODEL,
        "api_key": API_KEY,
        "base_url": t.base_url,
        "max_retries": 0,
        "http_client": t.sync_client,
        "http_async_client": t.async_client,
    }


def _chatgrok(t: Transport, **extra: Any) -> Any:
    from langchain_grok import ChatGrok

    return ChatGrok(**_common(t), **extra)


def _grok_transport() -> Any:
    """ChatGrok's O(1) async pool (the default of the pools it owns) with the common limits.

    `http_clients` passes it as `transport=`, so the limits must be given to it as well.
    """
    import httpx

    from langchain_grok import async_transport

    return async_transport(
        limits=httpx.Limits(
            max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
        )
    )


def _chatxai(t: Transport, **extra: Any) -> Any:
    from langchain_xai import ChatXAI

    return ChatXAI(**_common(t), **extra)


def _floor(t: Transport) -> Any:
    from floor import FloorChatModel

    return FloorChatModel(
        base_url=t.base_url,
        api_key=API_KEY,
        http_client=t.sync_client,
        http_async_client=t.async_client,
    )


# -- raw httpx -------------------------------------------------------------------------------


class RawDriver:
    def __init__(self, t: Transport) -> None:
        import floor

        self._floor = floor
        self._t = t

    def invoke(self, prompt: str) -> str:
        return self._floor.raw_invoke(self._t.sync_client, self._t.base_url, prompt)

    def stream(self, prompt: str) -> Iterator[str]:
        return self._floor.raw_stream(self._t.sync_client, self._t.base_url, prompt)

    async def ainvoke(self, prompt: str) -> str:
        return await self._floor.raw_ainvoke(self._t.async_client, self._t.base_url, prompt)

    def astream(self, prompt: str) -> AsyncIterator[str]:
        return self._floor.raw_astream(self._t.async_client, self._t.base_url, prompt)


CONTENDERS: list[Contender] = [
    # The targets compare Chat Completions paths: ChatXAI's default, the floors' only one.
    # ChatGrok picks the Responses API by default where it can (since 066086a), so pin it.
    Contender(
        "chatgrok",
        "ChatGrok",
        "subject",
        _langchain(lambda t: _chatgrok(t, use_responses_api=False)),
        requires=("langchain_grok",),
        async_transport=_grok_transport,
        description="`ChatGrok(use_responses_api=False)`: the Chat Completions path",
    ),
    Contender(
        "floor",
        "BaseChatModel floor",
        "floor",
        _langchain(_floor),
        description="`bench/floor.py` FloorChatModel: the thinnest BaseChatModel on httpx",
    ),
    Contender(
        "raw",
        "raw httpx",
        "raw",
        RawDriver,
        description="plain httpx + `json.loads` per SSE line, no LangChain",
    ),
    Contender(
        "chatxai",
        "ChatXAI",
        "incumbent",
        _langchain(_chatxai),
        http_module=OPENAI_SDK,
        requires=("langchain_xai",),
        description="`langchain_xai.ChatXAI` (Chat Completions, its default), openai SDK on httpx2",
    ),
    # Responses API (POST /v1/responses): the same targets hold there.
    Contender(
        "chatgrok_responses",
        "ChatGrok (Responses)",
        "subject",
        _langchain(lambda t: _chatgrok(t, use_responses_api=True)),
        async_transport=_grok_transport,
        description="`ChatGrok(use_responses_api=True)` (ChatGrok's default path for plain calls)",
    ),
    Contender(
        "chatxai_responses",
        "ChatXAI (Responses)",
        "incumbent",
        _langchain(lambda t: _chatxai(t, use_responses_api=True)),
        http_module=OPENAI_SDK,
        requires=("langchain_xai",),
        description="`ChatXAI(use_responses_api=True)`",
    ),
]

SUBJECT = "chatgrok"
FLOOR = "floor"
INCUMBENT = "chatxai"
# The targets hold on both API paths: (ChatGrok contender, its ChatXAI counterpart, label).
PATHS: list[tuple[str, str, str]] = [
    (SUBJECT, INCUMBENT, "Chat Completions"),
    ("chatgrok_responses", "chatxai_responses", "Responses"),
]

# Ratio columns of the report, (numerator, denominator, header): costs, so for the ChatGrok ÷
# floor column lower is better and for the ChatXAI ÷ ChatGrok one higher is better. A column
# appears when both contenders ran.
RATIOS: list[tuple[str, str, str]] = [
    (SUBJECT, FLOOR, "ChatGrok ÷ floor (cost)"),
    (INCUMBENT, SUBJECT, "ChatXAI ÷ ChatGrok (cost)"),
    ("chatgrok_responses", FLOOR, "ChatGrok (Responses) ÷ floor"),
    ("chatxai_responses", "chatgrok_responses", "ChatXAI (Responses) ÷ ChatGrok (Responses)"),
]


def by_key(key: str) -> Contender:
    for contender in CONTENDERS:
        if contender.key == key:
            return contender
    msg = f"unknown contender {key!r}; known: {[c.key for c in CONTENDERS]}"
    raise KeyError(msg)
