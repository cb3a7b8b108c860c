"""The Responses API endpoints: `POST /v1/responses`, `GET` and `DELETE /v1/responses/{id}`.

Kept apart from `_server` so the server only routes. Creation runs the checks in xAI's order
(auth 400/401, content type 415, body 422/410/400, unknown `previous_response_id` 404, input
items 400) before a scripted reply is consumed, so a rejected request never eats the reply the
test meant for the next one. Every `ScriptedReply` fault option applies as on chat, through
`_respond`, with Responses' own SSE framing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from langchain_grok import _paths as paths
from langchain_grok.testing._respond import (
    merge_headers,
    send_events,
    send_fixed_reply,
    send_json,
    send_rejection,
    success_headers,
)
from langchain_grok.testing._responses import build_response_answer
from langchain_grok.testing._responses_render import (
    RESPONSES_FRAMING,
    response_object,
    stream_events,
)
from langchain_grok.testing._responses_validate import (
    check_input_items,
    check_responses_request,
    input_items,
)
from langchain_grok.testing._schema_values import SchemaError
from langchain_grok.testing._validate import Rejection, check_auth, parse_json_body

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from langchain_grok.testing._http import HTTPRequest, ResponseWriter
    from langchain_grok.testing._records import Outcome
    from langchain_grok.testing._responses_store import ResponseStore
    from langchain_grok.testing._script import ScriptedReply

# The emulator serves the client's own path table under the `/v1` root of its base URL.
API_ROOT: Final = "/v1"
RESPONSES_PATH: Final = API_ROOT + paths.RESPONSES


def responses_headers(*, stream: bool) -> dict[str, str]:
    """Success headers of a Responses call: chat's, plus `x-data-retention` (rs01, rs02)."""
    return {**success_headers(stream=stream), "x-data-retention": "general"}


async def serve_responses(
    request: HTTPRequest,
    response: ResponseWriter,
    path: str,
    *,
    api_key: str,
    store: ResponseStore,
    next_reply: Callable[[], ScriptedReply],
) -> Outcome:
    """Answer a request for `/v1/responses` or `/v1/responses/{id}`.

    Args:
        request: The request.
        response: Where to write.
        path: The request path without a trailing slash.
        api_key: The key the server accepts.
        store: The server's stored responses and sealing secret.
        next_reply: Takes the next scripted reply (called only for a request that passed).

    Returns:
        How the response ended.
    """
    if path == RESPONSES_PATH:
        if request.method != "POST":
            return await _not_allowed(response, request, "POST")
        return await _create(request, response, api_key, store, next_reply)
    if request.method not in {"GET", "DELETE"}:
        return await _not_allowed(response, request, "GET, DELETE")
    rejection = check_auth(request.headers, api_key)
    if rejection is not None:
        return await send_rejection(response, rejection)
    return await _retrieve_or_delete(request, response, path, store)


async def _retrieve_or_delete(
    request: HTTPRequest, response: ResponseWriter, path: str, store: ResponseStore
) -> Outcome:
    response_id = path.removeprefix(RESPONSES_PATH + "/")
    headers = responses_headers(stream=False)
    if request.method == "GET":
        stored = store.get(response_id)
        if stored is not None:
            return await send_json(response, 200, stored.body, headers)
    elif store.delete(response_id):
        body = {"id": response_id, "object": "response", "deleted": True}
        return await send_json(response, 200, body, headers)
    return await send_rejection(response, _unknown(response_id))


async def _create(
    request: HTTPRequest,
    response: ResponseWriter,
    api_key: str,
    store: ResponseStore,
    next_reply: Callable[[], ScriptedReply],
) -> Outcome:
    payload: Any = None
    history: list[dict[str, Any]] = []
    rejection = check_auth(request.headers, api_key)
    if rejection is None:
        payload, rejection = parse_json_body(request.headers, request.body)
    if rejection is None:
        rejection = check_responses_request(payload)
    previous = payload.get("previous_response_id") if rejection is None else None
    if previous:
        stored = store.get(previous)
        if stored is None:
            rejection = _unknown(previous)
        else:
            history = list(stored.conversation)
    items: list[dict[str, Any]] = []
    if rejection is None:
        items = input_items(payload)
        rejection = check_input_items(items, history, store.verify)
    if rejection is not None:
        return await send_rejection(response, rejection)
    return await send_responses_reply(response, payload, next_reply(), [*history, *items], store)


async def send_responses_reply(
    response: ResponseWriter,
    payload: Mapping[str, Any],
    reply: ScriptedReply,
    conversation: list[dict[str, Any]],
    store: ResponseStore,
) -> Outcome:
    """Answer a validated Responses request with `reply`, storing it unless `store: false`.

    The response is stored before the first byte goes out, so a client that fetches it by id
    right after (or after a cut stream) finds it, as it would on xAI.

    Args:
        response: Where to write.
        payload: The decoded request body.
        reply: The scripted reply, or an all-default one.
        conversation: The chain's items followed by this request's input items.
        store: Where to store the response; also seals reasoning blobs.

    Returns:
        How the response ended.
    """
    outcome = await send_fixed_reply(response, reply, RESPONSES_FRAMING)
    if outcome is not None:
        return outcome
    try:
        answer = build_response_answer(payload, reply, conversation, store)
    except SchemaError as exc:  # the real API rejects unsatisfiable schemas up front
        return await send_rejection(response, Rejection(400, f"Invalid JSON schema: {exc}"))
    stream = payload.get("stream") is True
    body = response_object(payload, answer, stream=stream)
    if payload.get("store") is not False:
        store.put(body, [*conversation, *answer.output])
    if not stream:
        headers = merge_headers(responses_headers(stream=False), reply.headers)
        return await send_json(response, reply.status, body, headers)
    events = stream_events(payload, answer, chunk_words=reply.chunk_words)
    headers = merge_headers(responses_headers(stream=True), reply.headers)
    return await send_events(response, reply, headers, events, RESPONSES_FRAMING)


def _unknown(response_id: str) -> Rejection:
    return Rejection(404, f"Response with id '{response_id}' not found")


async def _not_allowed(response: ResponseWriter, request: HTTPRequest, allowed: str) -> Outcome:
    rejection = Rejection(405, f"Method {request.method} is not allowed on {request.path}")
    return await send_rejection(response, rejection, {"allow": allowed})
