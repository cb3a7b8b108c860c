"""The Batch API endpoints under `/v1/batches` (create, list, get, requests, results, cancel).

Kept apart from `_server`, which only routes here. Every endpoint checks the key first. Adding
requests is all-or-nothing: each item is checked like a chat request (`_validate`) before any is
kept, so a rejected call leaves the batch as it was and the client can simply send it again.
Lists take `limit` and an opaque `pagination_token`, and end with `pagination_token: null`.
"""

from __future__ import annotations

import uuid
import zlib
from typing import TYPE_CHECKING, Any, Final

from langchain_grok import _paths as paths
from langchain_grok.testing._respond import send_json, send_rejection, success_headers
from langchain_grok.testing._responses_http import API_ROOT
from langchain_grok.testing._validate import (
    Rejection,
    check_auth,
    check_chat_request,
    parse_json_body,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from langchain_grok.testing._batches import BatchStore, StoredBatch
    from langchain_grok.testing._http import HTTPRequest, ResponseWriter
    from langchain_grok.testing._records import Outcome
    from langchain_grok.testing._script import ScriptedReply

BATCHES_PATH: Final = API_ROOT + paths.BATCHES
_DEFAULT_LIMIT: Final = 100
_MAX_LIMIT: Final = 1000
_CANCEL: Final = paths.BATCH_CANCEL.removeprefix(paths.BATCH_ITEM)  # ":cancel"
_REQUESTS: Final = paths.BATCH_REQUESTS.removeprefix(paths.BATCH_ITEM)  # "/requests"
_RESULTS: Final = paths.BATCH_RESULTS.removeprefix(paths.BATCH_ITEM)  # "/results"
_KINDS: Final = ("chat_get_completion", "responses", "image_generation", "image_edit")


async def serve_batches(
    request: HTTPRequest,
    response: ResponseWriter,
    path: str,
    *,
    api_key: str,
    store: BatchStore,
    next_reply: Callable[[], ScriptedReply],
) -> Outcome:
    """Answer a request under `/v1/batches`.

    Args:
        request: The request.
        response: Where to write.
        path: The request path without a trailing slash.
        api_key: The key the server accepts.
        store: The server's batches.
        next_reply: Takes the next scripted reply (once per request that gets processed).

    Returns:
        How the response ended.
    """
    rejection = check_auth(request.headers, api_key)
    if rejection is not None:
        return await send_rejection(response, rejection)
    if path == BATCHES_PATH:
        return await _collection(request, response, api_key, store)
    batch_id, suffix, allowed = _split(path.removeprefix(BATCHES_PATH + "/"))
    if not allowed:
        return await send_rejection(response, Rejection(404, f"No handler for {request.path}"))
    if request.method not in allowed:
        return await _not_allowed(response, request, ", ".join(allowed))
    batch = store.get(batch_id)
    if batch is None:
        return await send_rejection(response, Rejection(404, f"Batch {batch_id} not found"))
    return await _on_batch(request, response, suffix, batch, store, next_reply)


async def _collection(
    request: HTTPRequest, response: ResponseWriter, api_key: str, store: BatchStore
) -> Outcome:
    if request.method == "POST":
        return await _create(request, response, api_key, store)
    if request.method == "GET":
        return await _page(request, response, store.listing(), "batches")
    return await _not_allowed(response, request, "GET, POST")


def _split(rest: str) -> tuple[str, str, tuple[str, ...]]:
    """`{id}[suffix]` -> (id, suffix, allowed methods); an unknown shape allows nothing."""
    for suffix, allowed in (
        (_CANCEL, ("POST",)),
        (_REQUESTS, ("GET", "POST")),
        (_RESULTS, ("GET",)),
    ):
        if rest.endswith(suffix):
            batch_id = rest.removesuffix(suffix)
            return batch_id, suffix, allowed if batch_id and "/" not in batch_id else ()
    return rest, "", ("GET",) if rest and "/" not in rest else ()


async def _on_batch(
    request: HTTPRequest,
    response: ResponseWriter,
    suffix: str,
    batch: StoredBatch,
    store: BatchStore,
    next_reply: Callable[[], ScriptedReply],
) -> Outcome:
    headers = success_headers(stream=False)
    if suffix == _CANCEL:
        return await send_json(response, 200, store.cancel(batch), headers)
    if suffix == _RESULTS:
        return await _page(request, response, store.results(batch), "results")
    if suffix == _REQUESTS and request.method == "GET":
        return await _page(request, response, store.metadata(batch), "batch_request_metadata")
    if suffix == _REQUESTS:
        return await _add(request, response, batch, store)
    return await send_json(response, 200, store.advance(batch, next_reply), headers)


async def _create(
    request: HTTPRequest, response: ResponseWriter, api_key: str, store: BatchStore
) -> Outcome:
    payload, rejection = parse_json_body(request.headers, request.body)
    if rejection is None and not isinstance(payload, dict):
        rejection = Rejection(422, "Failed to deserialize the JSON body: expected an object")
    if rejection is None and (not isinstance(payload.get("name"), str) or not payload["name"]):
        rejection = Rejection(400, "`name` must be a non-empty string")
    if rejection is None and payload.get("input_file_id") is not None:
        rejection = Rejection(400, "FakeXAIServer does not emulate file-based batches")
    if rejection is not None:
        return await send_rejection(response, rejection)
    key_id = f"key_{zlib.crc32(api_key.encode()):08x}"
    return await send_json(
        response, 200, store.create(payload["name"], key_id), success_headers(stream=False)
    )


async def _add(
    request: HTTPRequest, response: ResponseWriter, batch: StoredBatch, store: BatchStore
) -> Outcome:
    payload, rejection = parse_json_body(request.headers, request.body)
    items: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    if rejection is None:
        rejection, items = _check_items(payload, batch)
    if rejection is not None:
        return await send_rejection(response, rejection)
    store.add(batch, items)
    return await send_json(response, 200, {}, success_headers(stream=False))


_Item = tuple[str, dict[str, Any], dict[str, Any]]


def _check_items(payload: Any, batch: StoredBatch) -> tuple[Rejection | None, list[_Item]]:
    if batch.cancel_time is not None:
        return Rejection(400, f"Batch {batch.batch_id} is cancelled: no requests can be added"), []
    entries = payload.get("batch_requests") if isinstance(payload, dict) else None
    if not isinstance(entries, list) or not entries:
        return Rejection(422, "`batch_requests` must be a non-empty array"), []
    items: list[_Item] = []
    seen: set[str] = set(batch.requests)
    for index, entry in enumerate(entries):
        checked = _check_entry(f"batch_requests[{index}]", entry, seen)
        if isinstance(checked, Rejection):
            return checked, []
        seen.add(checked[0])
        items.append(checked)
    return None, items


def _check_entry(where: str, entry: Any, seen: set[str]) -> Rejection | _Item:
    wrapped = entry.get("batch_request") if isinstance(entry, dict) else None
    if not isinstance(wrapped, dict) or len(wrapped) != 1 or next(iter(wrapped)) not in _KINDS:
        return Rejection(422, f"{where}.batch_request must hold one of {list(_KINDS)}")
    kind, body = next(iter(wrapped.items()))
    if kind != "chat_get_completion":
        return Rejection(400, f"{where}: FakeXAIServer emulates only {_KINDS[0]}")
    request_id = entry.get("batch_request_id") or str(uuid.uuid4())
    if not isinstance(request_id, str):
        return Rejection(422, f"{where}.batch_request_id must be a string")
    if request_id in seen:
        return Rejection(400, f"{where}: duplicate batch_request_id {request_id!r}")
    rejection = check_chat_request(body)
    if rejection is None and body.get("stream"):
        rejection = Rejection(400, "batch requests cannot stream")
    if rejection is not None:
        return Rejection(rejection.status, f"{where}: {rejection.message}")
    return request_id, body, entry


async def _page(
    request: HTTPRequest, response: ResponseWriter, items: list[dict[str, Any]], key: str
) -> Outcome:
    raw_limit = request.query.get("limit", str(_DEFAULT_LIMIT))
    token = request.query.get("pagination_token") or "0"
    if not raw_limit.isdigit() or int(raw_limit) < 1:
        return await send_rejection(response, Rejection(400, f"Invalid limit {raw_limit!r}"))
    if not token.isdigit() or int(token) > len(items):
        return await send_rejection(response, Rejection(400, "Invalid pagination_token"))
    start, limit = int(token), min(int(raw_limit), _MAX_LIMIT)
    end = start + limit
    body = {key: items[start:end], "pagination_token": str(end) if end < len(items) else None}
    return await send_json(response, 200, body, success_headers(stream=False))


async def _not_allowed(response: ResponseWriter, request: HTTPRequest, allowed: str) -> Outcome:
    rejection = Rejection(405, f"Method {request.method} is not allowed on {request.path}")
    return await send_rejection(response, rejection, {"allow": allowed})
