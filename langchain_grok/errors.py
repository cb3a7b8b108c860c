"""Exceptions raised by langchain-grok, and the mapping from xAI error responses to them.

The tree::

    GrokError                              base of everything we raise on purpose
    └── APIError                           .message .body .code
        ├── APIConnectionError             could not talk to the server, or the link broke
        │   └── APITimeoutError            connect / read / write / pool timeout
        │       └── DeferredTimeoutError   a deferred completion not ready by the deadline
        ├── APIResponseValidationError     a body or SSE frame that breaks the protocol
        └── APIStatusError                 .status_code .response .request_id
            ├── BadRequestError            400 (and 410, 413, 415)
            │   └── ContextWindowExceededError
            ├── AuthenticationError        401, and xAI's 400 "Incorrect API key"
            ├── PermissionDeniedError      403
            ├── NotFoundError              404
            ├── UnprocessableEntityError   422
            ├── RateLimitError             429
            └── InternalServerError        5xx, and in-band HTTP 200 `{code, error}` bodies

Every class also inherits the matching `langchain_core.exceptions` class, so code written
against LangChain's provider-neutral errors (`ModelRateLimitError`, `ContextOverflowError`, ...)
catches ours, and `is_retryable` tells a retry wrapper whether another try can help.

xAI's error bodies come in three shapes (`{"code", "error"}` mostly, OpenAI's nested
`{"error": {"message", ...}}`, a bare `{"error": "..."}`) and proxies answer with HTML pages, so
the message is extracted tolerantly and bounded in length.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)

from langchain_grok._constants import MAX_ERROR_MESSAGE_CHARS
from langchain_grok._retry import is_retryable_status

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ContextWindowExceededError",
    "DeferredTimeoutError",
    "GrokError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "error_from_payload",
    "error_from_response",
    "parse_error_body",
]


class GrokError(Exception):
    """Base class of every exception langchain-grok raises on purpose."""


class APIError(GrokError):
    """A failure while talking to the xAI API.

    Attributes:
        message: Human-readable summary, bounded in length.
        body: The decoded error body (JSON value or text), when there was one.
        code: xAI's error `code` (a gRPC status text such as "Client specified an invalid
            argument"), when the server sent one.
        request_id: The `x-request-id` response header when a response got that far (quote it
            to xAI support); None otherwise.
    """

    is_retryable = False

    def __init__(
        self,
        message: str,
        *,
        body: object = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        """Create the error; keyword arguments keep call sites self-describing."""
        super().__init__(message)
        self.message = message
        self.body = body
        self.code = code
        self.request_id = request_id

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle their positional args only; keep the rest so that errors survive
        # multiprocessing pools and task queues.
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[APIError], message: str, state: dict[str, Any]) -> APIError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class APIConnectionError(APIError, ModelConnectionError):
    """The server could not be reached, or the connection broke before the reply was complete."""

    is_retryable = True


class APITimeoutError(APIConnectionError, ModelTimeoutError):
    """A connect, read, write or connection-pool timeout expired."""


class DeferredTimeoutError(APITimeoutError):
    """A deferred completion was still pending when the caller's deadline passed.

    The job is not lost: xAI keeps its result for 24 h and hands it out once, so wait again with
    `wait_deferred_completion(error.deferred_request_id)` instead of sending the request anew.

    Attributes:
        deferred_request_id: The `request_id` xAI returned for the job (distinct from
            `request_id`, the `x-request-id` header of a response, which is None here).
    """

    # Sending the request again would pay for a second completion and drop the first one.
    is_retryable = False

    def __init__(self, message: str, *, deferred_request_id: str) -> None:
        """Create the error for the job `deferred_request_id`."""
        super().__init__(message)
        self.deferred_request_id = deferred_request_id


class APIResponseValidationError(APIError, ModelAPIError):
    """The server answered with something the protocol does not allow (bad JSON, oversize event).

    Attributes:
        status_code: HTTP status of the response that carried the bad data.
    """

    is_retryable = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        body: object = None,
    ) -> None:
        """Create the error with the response coordinates that help debugging."""
        super().__init__(message, body=body, request_id=request_id)
        self.status_code = status_code


class APIStatusError(APIError, ModelError):
    """The server answered with an error status (or an in-band error body).

    Attributes:
        status_code: HTTP status (for in-band errors sent with HTTP 200, the status the error
            `code` stands for, e.g. 503 for "The service is currently unavailable").
        response: The `httpx.Response`, when one exists (its request's Authorization header is
            redacted before the error is built).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        response: httpx.Response | None = None,
        request_id: str | None = None,
        body: object = None,
        code: str | None = None,
    ) -> None:
        """Create the error; retryability is decided by the status and message (see _retry)."""
        super().__init__(message, body=body, code=code, request_id=request_id)
        self.status_code = status_code
        self.response = response
        self.is_retryable = is_retryable_status(status_code, message)


class BadRequestError(APIStatusError, ModelInvalidRequestError):
    """The request was rejected as invalid (400, 410, 413, 415)."""


class ContextWindowExceededError(BadRequestError, ContextOverflowError):
    """The prompt does not fit the model's context window."""


class AuthenticationError(APIStatusError, ModelAuthenticationError):
    """Missing or wrong API key (xAI answers a wrong key with 400, not 401)."""


class PermissionDeniedError(APIStatusError, ModelPermissionDeniedError):
    """The key or its team may not use this endpoint or model (403)."""


class NotFoundError(APIStatusError, ModelNotFoundError):
    """Unknown model, path, deferred request or stored response (404)."""


class UnprocessableEntityError(APIStatusError, ModelInvalidRequestError):
    """A field has an invalid format or a required one is missing (422)."""


class RateLimitError(APIStatusError, ModelRateLimitError):
    """Too many requests or tokens (429); not retryable when credits or spending are exhausted."""


class InternalServerError(APIStatusError, ModelAPIError):
    """The server failed (5xx, or an in-band error body on HTTP 200)."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    410: BadRequestError,
    413: BadRequestError,
    415: BadRequestError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

# gRPC canonical status texts (and their kebab-case spellings) that xAI puts in `code`; used to
# type errors that arrive in-band with HTTP 200 or as a stream frame.
_CODE_STATUSES: dict[str, int] = {
    "client specified an invalid argument": 400,
    "invalid-argument": 400,
    "invalid_argument": 400,
    "failed-precondition": 400,
    "the request does not have valid authentication credentials": 401,
    "unauthenticated": 401,
    "the caller does not have permission": 403,
    "permission-denied": 403,
    "permission_denied": 403,
    "some requested entity was not found": 404,
    "not-found": 404,
    "not_found": 404,
    "some resource has been exhausted": 429,
    "resource-exhausted": 429,
    "resource_exhausted": 429,
    "rate_limit_exceeded": 429,
    "the service is currently unavailable": 503,
    "unavailable": 503,
    "the deadline expired before the operation could complete": 504,
    "deadline-exceeded": 504,
}

_BAD_KEY = re.compile(r"incorrect api key|invalid api key|no api key", re.IGNORECASE)
_CONTEXT_OVERFLOW = re.compile(
    r"context (length|window)|maximum (prompt|context)|prompt is too long|too many tokens"
    r"|exceeds? the (model's )?(maximum|limit)",
    re.IGNORECASE,
)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def _bounded(text: str) -> str:
    text = _SPACES.sub(" ", text).strip()
    if len(text) > MAX_ERROR_MESSAGE_CHARS:
        return text[: MAX_ERROR_MESSAGE_CHARS - 1] + "…"
    return text


def _readable_text(text: str) -> str:
    """Make a non-JSON body (often a proxy's HTML page) fit for an exception message."""
    if "<" in text and ">" in text:
        title = _HTML_TITLE.search(text)
        stripped = title.group(1) if title else _HTML_TAG.sub(" ", text)
        return _bounded(stripped)
    return _bounded(text)


def parse_error_body(raw: bytes) -> tuple[str, str | None, object]:
    """Extract (message, code, decoded body) from an error response body of any shape.

    Handles `{"code": "...", "error": "..."}` (xAI), `{"error": {"message", "code", "type"}}`
    (OpenAI-style), `{"error": "..."}`, `{"message": "..."}`, other JSON, text and HTML.
    """
    text = raw.decode("utf-8", errors="replace")
    try:
        body: object = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: hostile, deeply nested JSON
        return (_readable_text(text) or "(empty body)"), None, text
    if not isinstance(body, dict):
        return _bounded(text), None, body
    message, code = _message_and_code(body)
    return (_bounded(message) if message else _bounded(text)), code, body


def _message_and_code(body: dict[str, Any]) -> tuple[str | None, str | None]:
    error = body.get("error")
    code = body.get("code")
    code_text = str(code) if code is not None else None
    if isinstance(error, dict):
        nested_message = error.get("message")
        nested_code = error.get("code") or error.get("type")
        return (
            str(nested_message) if nested_message is not None else None,
            str(nested_code) if nested_code is not None else code_text,
        )
    if isinstance(error, str):
        return error, code_text
    message = body.get("message") or body.get("detail")
    return (str(message) if message is not None else None), code_text


def status_for_code(code: str | None, default: int = 500) -> int:
    """The HTTP status an xAI error `code` text stands for (for errors sent with HTTP 200)."""
    if code is None:
        return default
    return _CODE_STATUSES.get(code.strip().lower(), default)


def _error_class(status: int, message: str) -> type[APIStatusError]:
    if status in (400, 401) and _BAD_KEY.search(message):
        return AuthenticationError
    if status == 400 and _CONTEXT_OVERFLOW.search(message):  # noqa: PLR2004
        return ContextWindowExceededError
    if status >= 500:  # noqa: PLR2004
        return InternalServerError
    return _STATUS_CLASSES.get(status, APIStatusError)


def make_status_error(
    status: int,
    message: str,
    *,
    code: str | None = None,
    body: object = None,
    response: httpx.Response | None = None,
    request_id: str | None = None,
    in_band: bool = False,
) -> APIStatusError:
    """Build the typed error for a status and server message.

    The message reads `Error code: <status> - <server message>`, the form users of the OpenAI
    and Anthropic SDKs already grep their logs for.
    """
    prefix = f"Error code: {status}" + (" (sent in-band with HTTP 200)" if in_band else "")
    text = f"{prefix} - {message}"
    if code and code.lower() not in message.lower():
        text = f"{prefix} - {code}: {message}"
    cls = _error_class(status, message)
    return cls(
        text,
        status_code=status,
        response=response,
        request_id=request_id,
        body=body,
        code=code,
    )


def error_from_response(
    response: httpx.Response, raw: bytes, request_id: str | None
) -> APIStatusError:
    """The typed error for an HTTP error response whose body has been read."""
    message, code, body = parse_error_body(raw)
    return make_status_error(
        response.status_code,
        message,
        code=code,
        body=body,
        response=response,
        request_id=request_id,
    )


def error_from_payload(
    payload: dict[str, Any],
    *,
    response: httpx.Response | None = None,
    request_id: str | None = None,
) -> APIStatusError:
    """The typed error for an error object found inside a 200 body or a stream frame.

    Its class comes from the status the `code` stands for; an unknown code is a server failure.
    """
    message, code = _message_and_code(payload)
    nested = payload.get("error")
    status = status_for_code(code)
    if isinstance(nested, dict) and _is_http_status(nested.get("status")):
        status = nested["status"]
    return make_status_error(
        status,
        _bounded(message or _payload_text(payload)),
        code=code,
        body=payload,
        response=response,
        request_id=request_id,
        in_band=True,
    )


def _is_http_status(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599  # noqa: PLR2004


def _payload_text(payload: object) -> str:
    """The payload as bounded JSON text for a message; never raises on hostile input.

    A payload that `json.loads` just managed to decode can still be too deep to encode again
    from a deeper stack (RecursionError), so the fallback is its type, not a crash.
    """
    try:
        return json.dumps(payload)[:MAX_ERROR_MESSAGE_CHARS]
    except (ValueError, TypeError, RecursionError):
        return f"(unreadable {type(payload).__name__} error payload)"


def is_error_payload(payload: object) -> bool:
    """Whether a decoded 200 body or stream frame is an error report rather than data.

    xAI's in-band errors are `{"code", "error"}` (and other providers' `{"error": {...}}`); a
    real chunk or completion always has other keys such as `choices`, `id` or `type`.
    """
    return (
        isinstance(payload, dict)
        and "error" in payload
        and payload["error"] is not None
        and "choices" not in payload
        and "output" not in payload
    )
