"""The Batch API methods of `XAIClient` and `AsyncXAIClient` (thin: one request each).

Kept out of `_sync` / `_async` so those stay about transport. The two mixins are twins whose
bodies differ only by `await`; paths, query strings and page handling are the pure helpers
below. Paths and field names: docs.x.ai's Batch API guide and xAI's TypeScript SDK (see
`_paths`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from langchain_grok import _paths as paths
from langchain_grok.errors import APIResponseValidationError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Mapping, Sequence

    from langchain_grok._client._requesters import AsyncRequester, SyncRequester
    from langchain_grok._types import (
        Batch,
        BatchList,
        BatchRequestList,
        BatchRequestMetadata,
        BatchResult,
        BatchResultList,
    )

__all__ = ["AsyncBatchMethods", "SyncBatchMethods", "next_page_token", "page_path"]


def page_path(template: str, batch_id: str | None, limit: int | None, token: str | None) -> str:
    """A list path with its `limit` / `pagination_token` query (both optional).

    Raises:
        ValueError: `limit` is not a positive int, or the token is not a string.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        msg = f"limit must be a positive integer, got {limit!r}"
        raise ValueError(msg)
    if token is not None and not isinstance(token, str):
        msg = f"pagination_token must be a string, got {type(token).__name__}"
        raise ValueError(msg)
    path = template if batch_id is None else paths.fill(template, batch_id, name="batch_id")
    query = {"limit": limit, "pagination_token": token or None}
    encoded = urlencode({k: v for k, v in query.items() if v is not None})
    return f"{path}?{encoded}" if encoded else path


def next_page_token(page: Mapping[str, Any]) -> str | None:
    """The token of the next page; None (or "", as protobuf JSON writes it) ends the list."""
    token = page.get("pagination_token")
    return token if isinstance(token, str) and token else None


def page_items(page: Any, key: str, path: str) -> list[Any]:
    """The items of one page, refusing a page that lacks its list (a protocol break)."""
    items = page.get(key) if isinstance(page, dict) else None
    if items is None and isinstance(page, dict) and next_page_token(page) is None:
        return []  # protobuf JSON may omit an empty repeated field on the last page
    if not isinstance(items, list):
        msg = f"Expected a JSON object with a `{key}` list from {path}, got {str(page)[:200]!r}"
        raise APIResponseValidationError(msg)
    return items


def _check_batch(payload: Any, path: str) -> Batch:
    if not isinstance(payload, dict) or not isinstance(payload.get("batch_id"), str):
        msg = f"Expected a batch object with a `batch_id` from {path}, got {str(payload)[:200]!r}"
        raise APIResponseValidationError(msg)
    return cast("Batch", payload)


def _create_body(name: str, input_file_id: str | None) -> dict[str, Any]:
    if not isinstance(name, str) or not name.strip():
        msg = f"name must be a non-empty string, got {name!r}"
        raise ValueError(msg)
    body: dict[str, Any] = {"name": name}
    if input_file_id is not None:
        body["input_file_id"] = input_file_id
    return body


def _add_body(batch_requests: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    if isinstance(batch_requests, (str, bytes, dict)) or not all(
        isinstance(item, dict) for item in batch_requests
    ):
        msg = "batch_requests must be a list of dicts ({batch_request_id, batch_request})"
        raise ValueError(msg)
    if not batch_requests:
        msg = "batch_requests must not be empty"
        raise ValueError(msg)
    return {"batch_requests": list(batch_requests)}


def _pages(
    requester: SyncRequester, template: str, batch_id: str, page_size: int | None, key: str
) -> Iterator[Any]:
    token: str | None = None
    while True:
        path = page_path(template, batch_id, page_size, token)
        page = requester.request("GET", path)
        yield from page_items(page, key, path)
        token = next_page_token(page)
        if token is None:
            return


async def _apages(
    requester: AsyncRequester, template: str, batch_id: str, page_size: int | None, key: str
) -> AsyncIterator[Any]:
    token: str | None = None
    while True:
        path = page_path(template, batch_id, page_size, token)
        page = await requester.request("GET", path)
        for item in page_items(page, key, path):
            yield item
        token = next_page_token(page)
        if token is None:
            return


class SyncBatchMethods:
    """`XAIClient`'s Batch API methods."""

    def create_batch(self: SyncRequester, name: str, *, input_file_id: str | None = None) -> Batch:
        """Create a batch (`POST /v1/batches`); add requests to it afterwards.

        Args:
            name: A label shown in the console and in `list_batches`.
            input_file_id: An uploaded JSONL file of requests (such a batch takes no more).
        """
        body = _create_body(name, input_file_id)
        return _check_batch(self.request("POST", paths.BATCHES, body), paths.BATCHES)

    def get_batch(self: SyncRequester, batch_id: str) -> Batch:
        """Fetch a batch and its counters (`GET /v1/batches/{id}`)."""
        path = paths.fill(paths.BATCH_ITEM, batch_id, name="batch_id")
        return _check_batch(self.request("GET", path), path)

    def list_batches(
        self: SyncRequester, *, limit: int | None = None, pagination_token: str | None = None
    ) -> BatchList:
        """One page of the team's batches (`GET /v1/batches`)."""
        path = page_path(paths.BATCHES, None, limit, pagination_token)
        page = self.request("GET", path)
        page_items(page, "batches", path)
        return cast("BatchList", page)

    def add_batch_requests(
        self: SyncRequester, batch_id: str, batch_requests: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Add requests (`POST /v1/batches/{id}/requests`).

        Args:
            batch_id: The batch.
            batch_requests: Items `{"batch_request_id": str, "batch_request":
                {"chat_get_completion": <chat body>}}` (or `responses`, `image_generation`,
                ...), sent as given. Each call is limited in size (see xAI's docs).
        """
        body = _add_body(batch_requests)
        path = paths.fill(paths.BATCH_REQUESTS, batch_id, name="batch_id")
        return cast("dict[str, Any]", self.request("POST", path, body))

    def list_batch_requests(
        self: SyncRequester,
        batch_id: str,
        *,
        limit: int | None = None,
        pagination_token: str | None = None,
    ) -> BatchRequestList:
        """One page of per-request metadata (`GET /v1/batches/{id}/requests`)."""
        path = page_path(paths.BATCH_REQUESTS, batch_id, limit, pagination_token)
        page = self.request("GET", path)
        page_items(page, "batch_request_metadata", path)
        return cast("BatchRequestList", page)

    def list_batch_results(
        self: SyncRequester,
        batch_id: str,
        *,
        limit: int | None = None,
        pagination_token: str | None = None,
    ) -> BatchResultList:
        """One page of finished requests (`GET /v1/batches/{id}/results`), in any order."""
        path = page_path(paths.BATCH_RESULTS, batch_id, limit, pagination_token)
        page = self.request("GET", path)
        page_items(page, "results", path)
        return cast("BatchResultList", page)

    def cancel_batch(self: SyncRequester, batch_id: str) -> Batch:
        """Cancel a batch (`POST /v1/batches/{id}:cancel`); finished results stay available."""
        path = paths.fill(paths.BATCH_CANCEL, batch_id, name="batch_id")
        return _check_batch(self.request("POST", path), path)

    def iter_batch_requests(
        self: SyncRequester, batch_id: str, *, page_size: int | None = None
    ) -> Iterator[BatchRequestMetadata]:
        """Every request's metadata, following `pagination_token` across pages."""
        return _pages(self, paths.BATCH_REQUESTS, batch_id, page_size, "batch_request_metadata")

    def iter_batch_results(
        self: SyncRequester, batch_id: str, *, page_size: int | None = None
    ) -> Iterator[BatchResult]:
        """Every finished request's result, following `pagination_token` across pages."""
        return _pages(self, paths.BATCH_RESULTS, batch_id, page_size, "results")


class AsyncBatchMethods:
    """`AsyncXAIClient`'s Batch API methods: `SyncBatchMethods` with `await`."""

    async def create_batch(
        self: AsyncRequester, name: str, *, input_file_id: str | None = None
    ) -> Batch:
        """Create a batch (`POST /v1/batches`); add requests to it afterwards."""
        body = _create_body(name, input_file_id)
        return _check_batch(await self.request("POST", paths.BATCHES, body), paths.BATCHES)

    async def get_batch(self: AsyncRequester, batch_id: str) -> Batch:
        """Fetch a batch and its counters (`GET /v1/batches/{id}`)."""
        path = paths.fill(paths.BATCH_ITEM, batch_id, name="batch_id")
        return _check_batch(await self.request("GET", path), path)

    async def list_batches(
        self: AsyncRequester, *, limit: int | None = None, pagination_token: str | None = None
    ) -> BatchList:
        """One page of the team's batches (`GET /v1/batches`)."""
        path = page_path(paths.BATCHES, None, limit, pagination_token)
        page = await self.request("GET", path)
        page_items(page, "batches", path)
        return cast("BatchList", page)

    async def add_batch_requests(
        self: AsyncRequester, batch_id: str, batch_requests: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Add requests (`POST /v1/batches/{id}/requests`), sent as given."""
        body = _add_body(batch_requests)
        path = paths.fill(paths.BATCH_REQUESTS, batch_id, name="batch_id")
        return cast("dict[str, Any]", await self.request("POST", path, body))

    async def list_batch_requests(
        self: AsyncRequester,
        batch_id: str,
        *,
        limit: int | None = None,
        pagination_token: str | None = None,
    ) -> BatchRequestList:
        """One page of per-request metadata (`GET /v1/batches/{id}/requests`)."""
        path = page_path(paths.BATCH_REQUESTS, batch_id, limit, pagination_token)
        page = await self.request("GET", path)
        page_items(page, "batch_request_metadata", path)
        return cast("BatchRequestList", page)

    async def list_batch_results(
        self: AsyncRequester,
        batch_id: str,
        *,
        limit: int | None = None,
        pagination_token: str | None = None,
    ) -> BatchResultList:
        """One page of finished requests (`GET /v1/batches/{id}/results`), in any order."""
        path = page_path(paths.BATCH_RESULTS, batch_id, limit, pagination_token)
        page = await self.request("GET", path)
        page_items(page, "results", path)
        return cast("BatchResultList", page)

    async def cancel_batch(self: AsyncRequester, batch_id: str) -> Batch:
        """Cancel a batch (`POST /v1/batches/{id}:cancel`); finished results stay available."""
        path = paths.fill(paths.BATCH_CANCEL, batch_id, name="batch_id")
        return _check_batch(await self.request("POST", path), path)

    async def iter_batch_requests(
        self: AsyncRequester, batch_id: str, *, page_size: int | None = None
    ) -> AsyncIterator[BatchRequestMetadata]:
        """Every request's metadata, following `pagination_token` across pages."""
        async for item in _apages(
            self, paths.BATCH_REQUESTS, batch_id, page_size, "batch_request_metadata"
        ):
            yield item

    async def iter_batch_results(
        self: AsyncRequester, batch_id: str, *, page_size: int | None = None
    ) -> AsyncIterator[BatchResult]:
        """Every finished request's result, following `pagination_token` across pages."""
        async for item in _apages(self, paths.BATCH_RESULTS, batch_id, page_size, "results"):
            yield item
