"""Client configuration, request shape and secret hygiene, through httpx.MockTransport."""

from __future__ import annotations

import json
import logging
import warnings
from typing import Any

import httpx
import pytest

from langchain_grok import AsyncXAIClient, XAIClient
from langchain_grok._constants import DEFAULT_BASE_URL, DEFAULT_READ_TIMEOUT
from langchain_grok.errors import (
    APIResponseValidationError,
    AuthenticationError,
    InternalServerError,
)

SECRET = "xai-TOPSECRET-0123456789abcdef"


class Recorder:
    """A MockTransport handler that records requests and plays canned responses."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []
        self.auth_seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.auth_seen.append(request.headers.get("authorization", ""))
        if len(self.responses) > 1:
            return self.responses.pop(0)
        return self.responses[0]


def ok_json(body: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    return httpx.Response(200, json=body or {"id": "c1", "choices": []}, headers=headers)


def client_for(handler: Recorder, **kwargs: Any) -> XAIClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return XAIClient(api_key=SECRET, http_client=http, **kwargs)


def test_missing_key_names_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XAI_API_KEY", raising=False)
    with pytest.raises(ValueError, match="XAI_API_KEY"):
        XAIClient()
    with pytest.raises(ValueError, match="XAI_API_KEY"):
        AsyncXAIClient(api_key="  ")


def test_key_and_base_url_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XAI_API_KEY", SECRET)
    monkeypatch.setenv("XAI_API_BASE", "https://eu-west-1.api.x.ai/v1/")
    handler = Recorder(ok_json())
    with XAIClient(http_client=httpx.Client(transport=httpx.MockTransport(handler))) as client:
        client.chat_completion([{"role": "user", "content": "hi"}])
    assert str(handler.requests[0].url) == "https://eu-west-1.api.x.ai/v1/chat/completions"
    assert handler.auth_seen == [f"Bearer {SECRET}"]


def test_default_base_url_and_finite_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XAI_API_BASE", raising=False)
    with XAIClient(api_key=SECRET) as client:
        assert client.base_url == DEFAULT_BASE_URL
        assert client.timeout.read == DEFAULT_READ_TIMEOUT
        assert client.timeout.connect is not None
        assert client.timeout.pool is not None
        assert client._http.timeout.read == DEFAULT_READ_TIMEOUT
    assert XAIClient(api_key=SECRET, timeout=30).timeout.read == 30


def test_request_shape() -> None:
    handler = Recorder(ok_json())
    client = client_for(handler, default_headers={"x-app": "demo"})
    client.chat_completion(
        [{"role": "user", "content": "héllo"}],
        model="grok-4.5",
        temperature=0.2,
        tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
        extra_headers={"x-grok-conv-id": "conv-1"},
    )
    request = handler.requests[0]
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-app"] == "demo"
    assert request.headers["x-grok-conv-id"] == "conv-1"
    assert request.headers["user-agent"].startswith("langchain-grok/")
    body = json.loads(request.content)
    assert body == {
        "model": "grok-4.5",
        "messages": [{"role": "user", "content": "héllo"}],
        "temperature": 0.2,
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
    }
    assert "stream" not in body


def test_injected_client_is_used_as_given_and_not_closed() -> None:
    handler = Recorder(ok_json())
    http = httpx.Client(
        transport=httpx.MockTransport(handler), timeout=httpx.Timeout(3.0), headers={"x-proxy": "1"}
    )
    with XAIClient(api_key=SECRET, http_client=http) as client:
        client.list_models()
    assert handler.requests[0].headers["x-proxy"] == "1"
    assert handler.requests[0].extensions["timeout"]["read"] == 3.0
    assert not http.is_closed
    # Naming a timeout as well overrides the injected client's.
    XAIClient(api_key=SECRET, http_client=http, timeout=7).list_models()
    assert handler.requests[1].extensions["timeout"]["read"] == 7.0


def test_own_pool_is_closed() -> None:
    client = XAIClient(api_key=SECRET)
    client.close()
    assert client._http.is_closed


def test_plain_http_to_a_remote_host_warns_but_loopback_does_not() -> None:
    with pytest.warns(UserWarning, match="unencrypted"):
        XAIClient(api_key=SECRET, base_url="http://gateway.example.com/v1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        XAIClient(api_key=SECRET, base_url="http://127.0.0.1:9/v1")
        XAIClient(api_key=SECRET, base_url="http://localhost:9/v1")
        XAIClient(api_key=SECRET, base_url="http://[::1]:9/v1")


@pytest.mark.parametrize("url", ["ftp://x/v1", "not a url", "https://"])
def test_bad_base_url(url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        XAIClient(api_key=SECRET, base_url=url)


def test_negative_max_retries_is_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        XAIClient(api_key=SECRET, max_retries=-1)


def test_200_with_html_is_a_validation_error() -> None:
    handler = Recorder(httpx.Response(200, text="<html>hi</html>", headers={"x-request-id": "r9"}))
    with pytest.raises(APIResponseValidationError) as info:
        client_for(handler).chat_completion([{"role": "user", "content": "hi"}])
    assert info.value.request_id == "r9"
    assert info.value.status_code == 200


def test_200_with_broken_json_is_a_validation_error() -> None:
    handler = Recorder(
        httpx.Response(200, content=b"{oops", headers={"content-type": "application/json"})
    )
    with pytest.raises(APIResponseValidationError, match="not valid JSON"):
        client_for(handler, max_retries=0).chat_completion([{"role": "user", "content": "x"}])
    assert len(handler.requests) == 1


# -- secret hygiene --------------------------------------------------------------------------


def test_key_not_in_repr_or_str() -> None:
    client = client_for(Recorder(ok_json()))
    for text in (repr(client), str(client), repr(vars(client).get("_headers"))):
        assert SECRET not in text


def test_key_absent_from_errors_and_debug_logs_of_a_failing_retried_call(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("langchain_grok._client._base.retry_delay", lambda *a, **k: 0.0)
    failure = httpx.Response(
        503, json={"code": "The service is currently unavailable", "error": "busy"}
    )
    handler = Recorder(failure)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(InternalServerError) as info:
        client_for(handler, max_retries=2).chat_completion([{"role": "user", "content": "x"}])
    assert len(handler.requests) == 3
    assert handler.auth_seen == [f"Bearer {SECRET}"] * 3  # the key did go on the wire
    error = info.value
    texts = [str(error), repr(error), repr(error.body), repr(error.__dict__)]
    assert error.response is not None
    texts.append(str(error.response.request.headers))
    texts.append(str(dict(error.response.request.headers)))
    for text in texts:
        assert SECRET not in text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Retrying POST" in logged
    assert "<redacted>" in logged
    assert SECRET not in logged
    assert "Bearer" not in logged


def test_wrong_key_is_authentication_error_without_retry() -> None:
    body = {
        "code": "Client specified an invalid argument",
        "error": "Incorrect API key provided: xa***ef. You can obtain an API key from https://console.x.ai.",
    }
    handler = Recorder(httpx.Response(400, json=body))
    with pytest.raises(AuthenticationError) as info:
        client_for(handler).chat_completion([{"role": "user", "content": "x"}])
    assert len(handler.requests) == 1
    assert SECRET not in str(info.value)


async def test_async_client_key_hygiene_and_shape(caplog: pytest.LogCaptureFixture) -> None:
    handler = Recorder(ok_json({"id": "a", "choices": []}, **{"x-request-id": "rid"}))
    caplog.set_level(logging.DEBUG)
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncXAIClient(api_key=SECRET, http_client=http) as client:
        assert SECRET not in repr(client)
        result = await client.chat_completion([{"role": "user", "content": "x"}], model="m")
    assert result == {"id": "a", "choices": []}
    assert json.loads(handler.requests[0].content)["model"] == "m"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "request_id=rid" in logged
    assert SECRET not in logged
    await http.aclose()
