"""The checks xAI makes before it answers, in the order it makes them.

The point of an emulator that rejects requests is that client bugs fail in tests, not in
production: a `null` content on a tool-call-only assistant turn, `stop` sent to a reasoning
model, a forgotten content type or a wrong key. Each check returns a `Rejection` (status and
message) or None; the server sends the first rejection as an xAI `{code, error}` body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from langchain_grok.testing._models import is_reasoning_model

if TYPE_CHECKING:
    from collections.abc import Mapping

_ROLES: Final = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_REASONING_REJECTS: Final = ("stop", "presence_penalty", "frequency_penalty")
_MASK_VISIBLE: Final = 2
_DESERIALIZE: Final = "Failed to deserialize the JSON body into the target type"

LIVE_SEARCH_GONE: Final = "Live search is deprecated. Please switch to the Agent Tools API"
EMPTY_CONTENT: Final = "Each message must have at least one content element"


@dataclass(frozen=True)
class Rejection:
    """Why a request is refused: the HTTP status and the `error` text to send."""

    status: int
    message: str


def mask_key(key: str) -> str:
    """Mask an API key the way xAI quotes it in the wrong-key error: `xa***ey`."""
    return f"{key[:_MASK_VISIBLE]}***{key[-_MASK_VISIBLE:]}"


def check_auth(headers: Mapping[str, str], api_key: str) -> Rejection | None:
    """Check the bearer token: missing or malformed is 401, a wrong key is 400 (as xAI does).

    Args:
        headers: Request headers, lower-cased names.
        api_key: The key the emulator accepts.

    Returns:
        The rejection, or None when the key is right.
    """
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return Rejection(
            401,
            "No API key provided. Send it as `Authorization: Bearer <key>`. "
            "You can obtain an API key from https://console.x.ai.",
        )
    if token != api_key:
        return Rejection(
            400,
            f"Incorrect API key provided: {mask_key(token)}. "
            "You can obtain an API key from https://console.x.ai.",
        )
    return None


def parse_json_body(headers: Mapping[str, str], body: bytes) -> tuple[Any, Rejection | None]:
    """Decode a JSON request body, refusing what xAI refuses with 415.

    Args:
        headers: Request headers, lower-cased names.
        body: The raw body.

    Returns:
        `(payload, None)` on success, `(None, rejection)` otherwise.
    """
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        return None, Rejection(415, "Expected request with `Content-Type: application/json`")
    if not body.strip():
        return None, Rejection(415, "Request body is empty: expected a JSON object")
    try:
        return json.loads(body), None
    except ValueError as exc:
        return None, Rejection(415, f"Failed to parse the request body as JSON: {exc}")


def check_chat_request(payload: Any) -> Rejection | None:
    """Apply the chat-completions body checks after the JSON is decoded.

    Order: shape (422), Live Search (410), parameters the model rejects (400), message rules
    (400), tool choice (400).

    Args:
        payload: The decoded body.

    Returns:
        The first rejection, or None when the request would be served.
    """
    return (
        _check_shape(payload)
        or _check_live_search(payload)
        or _check_model_parameters(payload)
        or _check_messages(payload["messages"])
        or _check_tool_choice(payload)
    )


def _check_shape(payload: Any) -> Rejection | None:
    if not isinstance(payload, dict):
        return Rejection(422, f"{_DESERIALIZE}: invalid type: expected a JSON object")
    for name in ("model", "messages"):
        if name not in payload:
            return Rejection(422, f"{_DESERIALIZE}: missing field `{name}`")
    if not isinstance(payload["model"], str) or not payload["model"]:
        return Rejection(422, f"{_DESERIALIZE}: `model` must be a non-empty string")
    messages = payload["messages"]
    if not isinstance(messages, list) or not messages:
        return Rejection(422, f"{_DESERIALIZE}: `messages` must be a non-empty array")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            return Rejection(
                422, f"{_DESERIALIZE}: messages[{index}]: expected an object with a known `role`"
            )
    return None


def _check_live_search(payload: dict[str, Any]) -> Rejection | None:
    if payload.get("search_parameters") is not None:
        return Rejection(410, LIVE_SEARCH_GONE)
    return None


def _check_model_parameters(payload: dict[str, Any]) -> Rejection | None:
    if not is_reasoning_model(payload["model"]):
        return None
    for name in _REASONING_REJECTS:
        if payload.get(name) is not None:
            return Rejection(400, f"Argument not supported on this model: {name}")
    return None


def _check_messages(messages: list[dict[str, Any]]) -> Rejection | None:
    """Reject empty contents and tool results that answer no earlier tool call."""
    call_ids: set[str] = set()
    for index, message in enumerate(messages):
        content = message.get("content")
        if content is None or content == []:
            return Rejection(400, f"{EMPTY_CONTENT} (messages[{index}])")
        if message["role"] == "assistant":
            for call in message.get("tool_calls") or []:
                if isinstance(call, dict) and isinstance(call.get("id"), str):
                    call_ids.add(call["id"])
        elif message["role"] == "tool" and message.get("tool_call_id") not in call_ids:
            return Rejection(
                400,
                f"messages[{index}]: tool_call_id {message.get('tool_call_id')!r} does not "
                "match any tool call of a previous assistant message",
            )
    return None


def _check_tool_choice(payload: dict[str, Any]) -> Rejection | None:
    choice = payload.get("tool_choice")
    names = tool_names(payload)
    if choice == "required" and not names:
        return Rejection(400, "tool_choice `required` needs at least one tool in `tools`")
    if isinstance(choice, dict):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if name not in names:
            return Rejection(400, f"tool_choice names a function not in `tools`: {name!r}")
    return None


def tool_names(payload: Mapping[str, Any]) -> list[str]:
    """List the function names of the request's `tools`, in order, skipping malformed ones."""
    names: list[str] = []
    for tool in payload.get("tools") or []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            names.append(function["name"])
    return names
