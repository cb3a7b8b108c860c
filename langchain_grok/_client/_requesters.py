"""What the endpoint mixins (`_batches`, `_platform`) need of a client: its `request` method.

Declared as protocols so that each mixin types `self` without importing the client classes,
which import the mixins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Awaitable, Mapping

__all__ = ["AsyncRequester", "SyncRequester"]


class SyncRequester(Protocol):
    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Any: ...


class AsyncRequester(Protocol):
    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Awaitable[Any]: ...
