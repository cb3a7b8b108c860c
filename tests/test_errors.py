"""Status and body -> typed error, for every body shape xAI (or a proxy) sends."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import httpx
import pytest
from langchain_core import exceptions as lc

from langchain_grok import errors
from langchain_grok.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ContextWindowExceededError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    error_from_payload,
    error_from_response,
    parse_error_body,
)

RECORDINGS = Path(__file__).resolve().parent / "fixtures" / "recordings"


def response(status: int, body: bytes, content_type: str = "application/json") -> httpx.Response:
    request = httpx.Request("POST", "https://api.x.ai/v1/chat/completions")
    return httpx.Response(
        status, content=body, headers={"content-type": content_type}, request=request
    )


def from_status(status: int, body: object, request_id: str | None = "req-1") -> APIStatusError:
    raw = json.dumps(body).encode()
    return error_from_response(response(status, raw), raw, request_id)


@pytest.mark.parametrize(
    ("status", "cls", "lc_cls"),
    [
        (400, BadRequestError, lc.ModelInvalidRequestError),
        (401, AuthenticationError, lc.ModelAuthenticationError),
        (403, PermissionDeniedError, lc.ModelPermissionDeniedError),
        (404, NotFoundError, lc.ModelNotFoundError),
        (410, BadRequestError, lc.ModelInvalidRequestError),
        (415, BadRequestError, lc.ModelInvalidRequestError),
        (422, UnprocessableEntityError, lc.ModelInvalidRequestError),
        (429, RateLimitError, lc.ModelRateLimitError),
        (500, InternalServerError, lc.ModelAPIError),
        (503, InternalServerError, lc.ModelAPIError),
    ],
)
def test_status_maps_to_class_and_langchain_class(
    status: int, cls: type[APIStatusError], lc_cls: type[Exception]
) -> None:
    error = from_status(status, {"code": "some code", "error": "went wrong"})
    assert type(error) is cls
    assert isinstance(error, lc_cls)
    assert isinstance(error, errors.GrokError)
    assert error.status_code == status
    assert error.request_id == "req-1"
    assert str(error) == f"Error code: {status} - some code: went wrong"
    assert error.code == "some code"
    assert error.body == {"code": "some code", "error": "went wrong"}


def test_other_status_is_a_plain_status_error() -> None:
    error = from_status(405, {"error": "method"})
    assert type(error) is APIStatusError
    assert isinstance(error, lc.ModelError)


@pytest.mark.parametrize(
    "name", ["cc10_error_400_bad-api-key_chat", "rs11_error_400_bad-api-key_responses"]
)
def test_recorded_wrong_key_400_is_an_authentication_error(name: str) -> None:
    record = json.loads((RECORDINGS / f"{name}.json").read_text())
    error = from_status(record["response"]["status"], record["response"]["json"], None)
    assert isinstance(error, AuthenticationError)
    assert error.status_code == 400
    assert "Incorrect API key" in error.message
    assert error.request_id is None
    assert not error.is_retryable


def test_recorded_retired_model_404() -> None:
    record = json.loads((RECORDINGS / "cc24_error_404_deprecated-model_2025-10.json").read_text())
    error = from_status(404, record["response"]["json"])
    assert isinstance(error, NotFoundError)
    assert "grok-beta was deprecated" in error.message


def test_recorded_unsupported_parameter_400() -> None:
    record = json.loads((RECORDINGS / "cc25_error_400_unsupported-param_2025-10.json").read_text())
    error = from_status(400, record["response"]["json"])
    assert type(error) is BadRequestError
    assert "reasoningEffort" in error.message


@pytest.mark.parametrize(
    "message",
    [
        "This model's maximum prompt length is 131072 but the request contains 200000 tokens.",
        "The prompt is too long for the context window.",
        "Request exceeds the model's maximum context length",
    ],
)
def test_context_overflow_400(message: str) -> None:
    error = from_status(400, {"code": "Client specified an invalid argument", "error": message})
    assert isinstance(error, ContextWindowExceededError)
    assert isinstance(error, BadRequestError)
    assert isinstance(error, lc.ContextOverflowError)


def test_openai_nested_and_bare_error_shapes() -> None:
    assert parse_error_body(b'{"error": {"message": "m", "type": "t", "code": "c"}}')[:2] == (
        "m",
        "c",
    )
    assert parse_error_body(b'{"error": {"message": "m", "type": "t"}}')[:2] == ("m", "t")
    assert parse_error_body(b'{"error": "bare"}')[:2] == ("bare", None)
    assert parse_error_body(b'{"message": "plain"}')[:2] == ("plain", None)
    assert parse_error_body(b"[1, 2]")[:2] == ("[1, 2]", None)


def test_html_proxy_page_gives_a_short_readable_message() -> None:
    page = (
        b"<html><head><title>502 Bad Gateway</title></head><body>"
        + b"<center>cloudflare</center>" * 500
        + b"</body></html>"
    )
    message, code, _ = parse_error_body(page)
    assert message == "502 Bad Gateway"
    assert code is None
    error = error_from_response(response(502, page, "text/html"), page, None)
    assert isinstance(error, InternalServerError)
    assert str(error) == "Error code: 502 - 502 Bad Gateway"


def test_long_text_body_is_bounded() -> None:
    message, _, _ = parse_error_body(b"x" * 10_000)
    assert len(message) <= 500
    assert parse_error_body(b"")[0] == "(empty body)"


def test_in_band_payload_maps_code_to_status() -> None:
    error = error_from_payload(
        {"code": "The service is currently unavailable", "error": "Timed out waiting"}
    )
    assert isinstance(error, InternalServerError)
    assert error.status_code == 503
    assert error.is_retryable
    assert "in-band" in str(error)
    limited = error_from_payload({"code": "Some resource has been exhausted", "error": "slow"})
    assert isinstance(limited, RateLimitError)
    unknown = error_from_payload({"code": "weird", "error": "x"})
    assert isinstance(unknown, InternalServerError)


def test_credits_exhausted_429_is_not_retryable() -> None:
    error = from_status(
        429,
        {
            "code": "Some resource has been exhausted",
            "error": "Your team t has either used all available credits or reached its "
            "monthly spending limit.",
        },
    )
    assert isinstance(error, RateLimitError)
    assert not error.is_retryable
    assert from_status(429, {"error": "slow down"}).is_retryable


def test_errors_pickle_with_their_attributes() -> None:
    error = from_status(429, {"code": "c", "error": "slow down"})
    error.response = None  # responses hold sockets; what matters is the data
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is RateLimitError
    assert (clone.status_code, clone.request_id, clone.code, str(clone)) == (
        429,
        "req-1",
        "c",
        str(error),
    )
