"""FakeXAIServer over real TCP, driven with stdlib HTTP clients only.

The emulator is the ground other protocol tests stand on, so these tests pin its wire shapes to
the recordings (key order, role/finish/usage placement, chunk framing), its validation to the
real API's, and its failure modes (delays, cuts, malformed frames, disconnects, shutdown).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time
from typing import Any

import pytest

from langchain_grok.testing import (
    FakeXAIServer,
    ScriptedReply,
    error_reply,
    in_band_error_reply,
    make_schema_value,
    text_reply,
    tool_call_reply,
)

CHAT = "/v1/chat/completions"
USAGE_KEYS = [
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_tokens_details",
    "completion_tokens_details",
    "num_sources_used",
    "cost_in_usd_ticks",
]
CHUNK_KEYS = ["id", "object", "created", "model", "choices", "system_fingerprint", "service_tier"]
# cc14 (grok-4-fast, 2026-03), shortened ids: four events and [DONE], replayed byte-exact.
RECORDED_SSE = (
    b'data: {"id":"53ae","object":"chat.completion.chunk","created":1773345550,'
    b'"model":"grok-4-fast-reasoning","choices":[{"index":0,"delta":{"content":"Ol\xc3\xa1",'
    b'"role":"assistant"}}],"system_fingerprint":"fp_3d7ed3b779"}\n\n'
    b'data: {"id":"53ae","object":"chat.completion.chunk","created":1773345550,'
    b'"model":"grok-4-fast-reasoning","choices":[{"index":0,"delta":{"content":"!"}}],'
    b'"system_fingerprint":"fp_3d7ed3b779"}\n\n'
    b'data: {"id":"53ae","object":"chat.completion.chunk","created":1773345550,'
    b'"model":"grok-4-fast-reasoning","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],'
    b'"system_fingerprint":"fp_3d7ed3b779"}\n\n'
    b'data: {"id":"53ae","object":"chat.completion.chunk","created":1773345550,'
    b'"model":"grok-4-fast-reasoning","choices":[],"usage":{"prompt_tokens":165}}\n\n'
    b"data: [DONE]\n\n"
)
WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 10},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 3, "maximum": 7},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "when": {"type": "string", "format": "date"},
        "contact": {"type": "string", "format": "email"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "flag": {"type": "boolean"},
        "note": {"anyOf": [{"type": "null"}, {"type": "string"}]},
        "place": {"$ref": "#/$defs/Place"},
    },
    "required": ["city", "unit", "days", "ratio", "when", "contact", "tags", "flag", "place"],
    "additionalProperties": False,
    "$defs": {
        "Place": {
            "type": "object",
            "properties": {"lat": {"type": "number"}, "id": {"type": "string", "format": "uuid"}},
            "required": ["lat", "id"],
        }
    },
}


# -- helpers -------------------------------------------------------------------------------


@pytest.fixture
def server(fake_xai_server: FakeXAIServer) -> FakeXAIServer:
    return fake_xai_server


def chat_body(text: str = "hi there", model: str = "grok-4.3", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def auth(server: FakeXAIServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.api_key}", "Content-Type": "application/json"}


def post(
    server: FakeXAIServer,
    body: Any,
    headers: dict[str, str] | None = None,
    *,
    path: str = CHAT,
    raw: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        data = raw if raw is not None else json.dumps(body).encode()
        conn.request("POST", path, data, auth(server) if headers is None else headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def get(server: FakeXAIServer, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", path, headers=auth(server) if headers is None else headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def raw_request(server: FakeXAIServer, body: dict[str, Any], *, close: bool = False) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST {CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {server.api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    )
    if close:
        head += "Connection: close\r\n"
    return head.encode() + b"\r\n" + data


class Exchange:
    """A response read off a raw socket, keeping the chunked framing visible."""

    def __init__(self, sock: socket.socket) -> None:
        self.file = sock.makefile("rb")
        self.status = int(self.file.readline().split()[1])
        self.headers: dict[str, str] = {}
        while (line := self.file.readline()) not in {b"\r\n", b""}:
            name, _, value = line.decode().partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def chunks(self) -> tuple[list[bytes], bool]:
        """Read chunks until the terminating one; returns (chunks, terminated cleanly)."""
        chunks: list[bytes] = []
        while True:
            try:
                size_line = self.file.readline()
            except ConnectionResetError:
                return chunks, False
            if not size_line:
                return chunks, False
            size = int(size_line, 16)
            if size == 0:
                assert self.file.readline() == b"\r\n"
                return chunks, True
            chunks.append(self.file.read(size))
            assert self.file.read(2) == b"\r\n"

    def close(self) -> None:
        self.file.close()


def stream(server: FakeXAIServer, body: dict[str, Any]) -> tuple[Exchange, list[bytes], bool]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(raw_request(server, body))
        exchange = Exchange(sock)
        chunks, terminated = exchange.chunks()
        exchange.close()
    return exchange, chunks, terminated


def payloads(chunks: list[bytes]) -> list[Any]:
    out: list[Any] = []
    for chunk in chunks:
        assert chunk.startswith(b"data: ")
        assert chunk.endswith(b"\n\n")
        assert chunk.count(b"\n\n") == 1, "one SSE event per chunk"
        data = chunk[6:-2].decode()
        out.append(data if data == "[DONE]" else json.loads(data))
    return out


FORMATS = {
    "date": r"\d{4}-\d{2}-\d{2}",
    "email": r"[^@\s]+@[^@\s]+\.[a-z]+",
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
}


def check_schema(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> None:
    """A hand-written check for the schema subset WEATHER_SCHEMA uses."""
    if "$ref" in schema:
        check_schema(value, root["$defs"][schema["$ref"].rsplit("/", 1)[1]], root)
    elif "anyOf" in schema:
        assert any(matches(value, option, root) for option in schema["anyOf"])
    else:
        CHECKS[schema["type"]](value, schema, root)


def matches(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    try:
        check_schema(value, schema, root)
    except AssertionError:
        return False
    return True


def check_object(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> None:
    assert isinstance(value, dict)
    assert set(schema["required"]) <= value.keys() <= schema["properties"].keys()
    for name, item in value.items():
        check_schema(item, schema["properties"][name], root)


def check_string(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> None:
    assert isinstance(value, str)
    assert len(value) >= schema.get("minLength", 0)
    assert value in schema.get("enum", [value])
    if "format" in schema:
        assert re.fullmatch(FORMATS[schema["format"]], value)


def check_number(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> None:
    assert isinstance(value, int | float)
    assert not isinstance(value, bool)
    if schema["type"] == "integer":
        assert isinstance(value, int)
    assert value >= schema.get("minimum", value)
    assert value <= schema.get("maximum", value)
    assert value > schema.get("exclusiveMinimum", value - 1)


def check_array(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> None:
    assert isinstance(value, list)
    assert len(value) >= schema.get("minItems", 0)
    for item in value:
        check_schema(item, schema["items"], root)


def check_boolean(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> None:
    assert isinstance(value, bool)


def check_null(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> None:
    assert value is None


CHECKS = {
    "object": check_object,
    "string": check_string,
    "integer": check_number,
    "number": check_number,
    "array": check_array,
    "boolean": check_boolean,
    "null": check_null,
}


# -- default answers and wire shapes -------------------------------------------------------


def test_default_answer_json_shape(server: FakeXAIServer) -> None:
    status, headers, raw = post(server, chat_body("hi there"))
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(raw)
    assert "transfer-encoding" not in headers
    for name in ("x-request-id", "x-ratelimit-limit-requests", "x-ratelimit-remaining-tokens"):
        assert headers[name]
    body = json.loads(raw)
    assert list(body) == [*CHUNK_KEYS[:4], "choices", "usage", *CHUNK_KEYS[5:]]
    assert body["object"] == "chat.completion"
    assert body["model"] == "grok-4.3"
    choice = body["choices"][0]
    assert list(choice) == ["index", "message", "finish_reason"]
    assert choice["finish_reason"] == "stop"
    message = choice["message"]
    assert list(message) == ["role", "content", "reasoning_content", "refusal"]
    assert message["content"] == "You said: hi there"
    assert message["reasoning_content"] == 'The user said: "hi there"\n'
    usage = body["usage"]
    assert list(usage) == USAGE_KEYS
    reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
    assert reasoning > 0
    assert usage["completion_tokens"] == 4  # "You", " said:", " hi", " there"
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] + reasoning
    assert usage["num_sources_used"] == 0
    assert usage["cost_in_usd_ticks"] > 0


def test_fresh_request_id_per_request(server: FakeXAIServer) -> None:
    first = post(server, chat_body())[1]["x-request-id"]
    second = post(server, chat_body())[1]["x-request-id"]
    assert first != second


def test_non_reasoning_model_sends_no_reasoning(server: FakeXAIServer) -> None:
    body = json.loads(post(server, chat_body(model="grok-4.20-0309-non-reasoning"))[2])
    assert "reasoning_content" not in body["choices"][0]["message"]
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0


def test_default_stream_frames(server: FakeXAIServer) -> None:
    body = chat_body("a b", stream=True, stream_options={"include_usage": True})
    exchange, chunks, terminated = stream(server, body)
    assert exchange.status == 200
    assert exchange.headers["transfer-encoding"] == "chunked"
    assert exchange.headers["content-type"] == "text/event-stream"
    assert exchange.headers["cache-control"] == "no-cache"
    assert exchange.headers["x-request-id"]
    assert terminated
    events = payloads(chunks)
    assert events[-1] == "[DONE]"
    *deltas, finish, usage = events[:-1]
    assert {e["id"] for e in events[:-1]} == {events[0]["id"]}
    assert all(list(e) == CHUNK_KEYS for e in [*deltas, finish])
    assert list(usage) == [*CHUNK_KEYS[:5], "usage", *CHUNK_KEYS[5:]]
    assert usage["choices"] == []
    assert list(usage["usage"]) == USAGE_KEYS
    assert finish["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    first = deltas[0]["choices"][0]["delta"]
    assert list(first) == ["reasoning_content", "role"]
    assert all("role" not in d["choices"][0]["delta"] for d in deltas[1:])
    assert all("finish_reason" not in d["choices"][0] for d in deltas)
    kinds = [next(iter(d["choices"][0]["delta"])) for d in deltas]
    assert kinds == sorted(kinds, key=lambda k: k != "reasoning_content"), "reasoning first"
    content = "".join(d["choices"][0]["delta"].get("content", "") for d in deltas)
    assert content == "You said: a b"
    assert [d["choices"][0]["delta"].get("content") for d in deltas[-3:]] == [" said:", " a", " b"]


def test_stream_without_include_usage_sends_no_usage(server: FakeXAIServer) -> None:
    _, chunks, _ = stream(server, chat_body(model="grok-4.20-0309-non-reasoning", stream=True))
    events = payloads(chunks)
    assert all("usage" not in e for e in events[:-1])
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert list(events[0]["choices"][0]["delta"]) == ["content", "role"]


def test_tool_result_and_text_parts_are_echoed(server: FakeXAIServer) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = [
        {
            "role": "user",
            "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
        },
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "42"},
    ]
    message = json.loads(post(server, {"model": "grok-4.3", "messages": messages})[2])["choices"][0]
    assert message["message"]["content"] == "Tool result: 42"
    assert message["message"]["reasoning_content"] == 'The tool returned: "42"\n'
    body = json.loads(post(server, {"model": "grok-4.3", "messages": messages[:1]})[2])
    assert body["choices"][0]["message"]["content"] == "You said: one two"


def test_forced_tool_call_arguments_follow_the_schema(server: FakeXAIServer) -> None:
    tools = [
        {"type": "function", "function": {"name": "noop", "parameters": {"type": "object"}}},
        {"type": "function", "function": {"name": "weather", "parameters": WEATHER_SCHEMA}},
    ]
    named = {"type": "function", "function": {"name": "weather"}}
    body = json.loads(post(server, chat_body(tools=tools, tool_choice=named))[2])
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == ""
    (call,) = choice["message"]["tool_calls"]
    assert list(call) == ["id", "function", "type"]
    assert re.fullmatch(r"call_\d{8}", call["id"])
    assert call["function"]["name"] == "weather"
    check_schema(json.loads(call["function"]["arguments"]), WEATHER_SCHEMA, WEATHER_SCHEMA)
    again = json.loads(post(server, chat_body(tools=tools, tool_choice=named))[2])
    assert again["choices"][0]["message"]["tool_calls"][0]["id"] == call["id"], "deterministic"
    required = json.loads(post(server, chat_body(tools=tools, tool_choice="required"))[2])
    assert required["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "noop"
    auto = json.loads(post(server, chat_body(tools=tools, tool_choice="auto"))[2])
    assert "tool_calls" not in auto["choices"][0]["message"]


def test_forced_tool_call_streams_as_one_whole_chunk(server: FakeXAIServer) -> None:
    tools = [{"type": "function", "function": {"name": "w", "parameters": WEATHER_SCHEMA}}]
    body = chat_body(model="grok-4-1-fast-non-reasoning", tools=tools, tool_choice="required")
    events = payloads(stream(server, {**body, "stream": True})[1])
    assert len(events) == 3  # tool call, finish, [DONE]
    delta = events[0]["choices"][0]["delta"]
    assert list(delta) == ["role", "tool_calls"]
    (call,) = delta["tool_calls"]
    assert list(call) == ["id", "function", "index", "type"]
    assert list(call["function"]) == ["name", "arguments"]
    check_schema(json.loads(call["function"]["arguments"]), WEATHER_SCHEMA, WEATHER_SCHEMA)
    assert events[1]["choices"][0]["finish_reason"] == "tool_calls"


def test_response_formats(server: FakeXAIServer) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "w", "schema": WEATHER_SCHEMA}}
    content = json.loads(post(server, chat_body(response_format=fmt))[2])["choices"][0]
    check_schema(json.loads(content["message"]["content"]), WEATHER_SCHEMA, WEATHER_SCHEMA)
    obj = json.loads(post(server, chat_body("hey", response_format={"type": "json_object"}))[2])
    assert json.loads(obj["choices"][0]["message"]["content"]) == {"answer": "You said: hey"}


# -- HTTP plumbing -------------------------------------------------------------------------


def test_keep_alive_reuses_one_connection(server: FakeXAIServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        for _ in range(2):
            conn.request("POST", CHAT, json.dumps(chat_body()), auth(server))
            resp = conn.getresponse()
            assert resp.status == 200
            resp.read()
    finally:
        conn.close()
    post(server, chat_body())
    ids = [r.connection_id for r in server.wait_for_requests(3)]
    assert ids[0] == ids[1]
    assert ids[2] != ids[0]


def test_connection_close_is_honoured(server: FakeXAIServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(raw_request(server, chat_body(), close=True))
        exchange = Exchange(sock)
        assert exchange.headers["connection"] == "close"
        exchange.file.read(int(exchange.headers["content-length"]))
        assert exchange.file.read() == b"", "server closed the connection"
        exchange.close()


def test_chunked_request_body_is_accepted(server: FakeXAIServer) -> None:
    data = json.dumps(chat_body("chunked body")).encode()
    head = (
        f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.api_key}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunked = b"".join(b"%x\r\n%b\r\n" % (len(p), p) for p in (data[:7], data[7:])) + b"0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head + chunked)
        exchange = Exchange(sock)
        body = json.loads(exchange.file.read(int(exchange.headers["content-length"])))
        exchange.close()
    assert body["choices"][0]["message"]["content"] == "You said: chunked body"
    assert server.requests[0].json == chat_body("chunked body")


@pytest.mark.parametrize(
    "garbage",
    [b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET / HTTP/1.1\r\nbad header\r\n\r\n"],
)
def test_garbage_gets_400_and_close_then_server_still_serves(
    server: FakeXAIServer, garbage: bytes
) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(garbage)
        exchange = Exchange(sock)
        assert exchange.status == 400
        exchange.file.read(int(exchange.headers["content-length"]))
        assert exchange.file.read() == b""
        exchange.close()
    assert post(server, chat_body())[0] == 200


def test_hundreds_of_concurrent_connections(server: FakeXAIServer) -> None:
    socks = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(200)]
    try:
        for i, sock in enumerate(socks):
            sock.sendall(raw_request(server, chat_body(f"n{i}")))
        for i, sock in enumerate(socks):
            resp = http.client.HTTPResponse(sock)
            resp.begin()
            assert json.loads(resp.read())["choices"][0]["message"]["content"] == f"You said: n{i}"
            resp.close()
    finally:
        for sock in socks:
            sock.close()
    assert len({r.connection_id for r in server.wait_for_requests(200)}) == 200


def test_models_endpoint(server: FakeXAIServer) -> None:
    status, body = get(server, "/v1/models")
    assert status == 200
    assert body["object"] == "list"
    assert {"grok-4.3", "grok-build-0.1"} <= {m["id"] for m in body["data"]}
    assert all(list(m) == ["id", "created", "object", "owned_by"] for m in body["data"])
    assert get(server, "/v1/models/grok-4.3") == (200, body["data"][0])
    assert get(server, "/v1/models/nope")[0] == 404
    assert get(server, "/v1/models", headers={})[0] == 401
    assert get(server, "/v1/models", headers={"Authorization": "Bearer xai-other"})[0] == 400


def test_unknown_path_and_wrong_method(server: FakeXAIServer) -> None:
    status, _, raw = post(server, chat_body(), path="/v1/nothing")
    assert status == 404
    assert json.loads(raw)["code"] == "Some requested entity was not found"
    status, body = get(server, CHAT)
    assert status == 405
    assert set(body) == {"code", "error"}
    status, headers, _ = post(server, {}, path="/v1/models")
    assert (status, headers["allow"]) == (405, "GET")


# -- validation ----------------------------------------------------------------------------


def test_wrong_key_is_400_with_masked_key_and_no_request_id(server: FakeXAIServer) -> None:
    headers = {"Authorization": "Bearer xai-wrong-key", "Content-Type": "application/json"}
    status, resp_headers, raw = post(server, chat_body(), headers)
    assert status == 400
    assert json.loads(raw) == {
        "code": "Client specified an invalid argument",
        "error": "Incorrect API key provided: xa***ey. You can obtain an API key from "
        "https://console.x.ai.",
    }
    assert "x-request-id" not in resp_headers
    assert not any(name.startswith("x-ratelimit") for name in resp_headers)


@pytest.mark.parametrize("value", [None, "Basic abc", "Bearer", "Bearer a b"])
def test_missing_or_malformed_authorization_is_401(
    server: FakeXAIServer, value: str | None
) -> None:
    headers = {"Content-Type": "application/json"}
    if value is not None:
        headers["Authorization"] = value
    status, _, raw = post(server, chat_body(), headers)
    assert status == 401
    assert set(json.loads(raw)) == {"code", "error"}


def test_custom_api_key() -> None:
    with FakeXAIServer(api_key="xai-custom") as server:
        assert server.api_key == "xai-custom"
        assert post(server, chat_body())[0] == 200


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [("text/plain", b'{"model":"m"}'), ("application/json", b""), ("application/json", b"{no")],
)
def test_bad_media_type_or_body_is_415(
    server: FakeXAIServer, content_type: str, raw: bytes
) -> None:
    headers = {"Authorization": f"Bearer {server.api_key}", "Content-Type": content_type}
    assert post(server, None, headers, raw=raw)[0] == 415


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        {"messages": [{"role": "user", "content": "x"}]},
        {"model": "grok-4.3"},
        {"model": "grok-4.3", "messages": []},
        {"model": "grok-4.3", "messages": [{"role": "wizard", "content": "x"}]},
    ],
)
def test_malformed_body_is_422(server: FakeXAIServer, body: Any) -> None:
    assert post(server, body)[0] == 422


def test_search_parameters_is_410(server: FakeXAIServer) -> None:
    status, _, raw = post(server, chat_body(search_parameters={"mode": "auto"}))
    assert status == 410
    assert json.loads(raw)["error"].startswith("Live search is deprecated")


@pytest.mark.parametrize(
    ("model", "param"),
    [
        ("grok-4.3", "stop"),
        ("grok-build-0.1", "presence_penalty"),
        ("grok-3-mini", "frequency_penalty"),
        ("grok-code-fast-1", "stop"),
    ],
)
def test_reasoning_models_reject_stop_and_penalties(
    server: FakeXAIServer, model: str, param: str
) -> None:
    extra: dict[str, Any] = {param: ["x"] if param == "stop" else 1}
    status, _, raw = post(server, chat_body(model=model, **extra))
    assert status == 400
    assert json.loads(raw)["error"] == f"Argument not supported on this model: {param}"


def test_non_reasoning_model_accepts_stop(server: FakeXAIServer) -> None:
    assert post(server, chat_body(model="grok-4.20-0309-non-reasoning", stop=["x"]))[0] == 200


def _history(assistant: dict[str, Any], tool_call_id: str = "call_1") -> dict[str, Any]:
    return {
        "model": "grok-4.3",
        "messages": [
            {"role": "user", "content": "weather?"},
            assistant,
            {"role": "tool", "tool_call_id": tool_call_id, "content": "sunny"},
        ],
    }


TOOL_CALL = {"id": "call_1", "type": "function", "function": {"name": "w", "arguments": "{}"}}


@pytest.mark.parametrize(
    "assistant",
    [
        {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]},
        {"role": "assistant", "tool_calls": [TOOL_CALL]},
        {"role": "assistant", "content": [], "tool_calls": [TOOL_CALL]},
    ],
)
def test_null_content_on_tool_call_turn_is_400(
    server: FakeXAIServer, assistant: dict[str, Any]
) -> None:
    status, _, raw = post(server, _history(assistant))
    assert status == 400
    assert "Each message must have at least one content element" in json.loads(raw)["error"]


def test_null_content_without_tool_calls_is_400(server: FakeXAIServer) -> None:
    body = chat_body()
    body["messages"].append({"role": "assistant", "content": None})
    assert post(server, body)[0] == 400


def test_empty_string_content_on_tool_call_turn_is_accepted(server: FakeXAIServer) -> None:
    assistant = {"role": "assistant", "content": "", "tool_calls": [TOOL_CALL]}
    assert post(server, _history(assistant))[0] == 200


def test_tool_message_must_answer_a_prior_call(server: FakeXAIServer) -> None:
    assistant = {"role": "assistant", "content": "", "tool_calls": [TOOL_CALL]}
    status, _, raw = post(server, _history(assistant, tool_call_id="call_other"))
    assert status == 400
    assert "call_other" in json.loads(raw)["error"]


def test_validation_runs_before_a_scripted_reply_is_consumed(server: FakeXAIServer) -> None:
    server.script(text_reply("scripted"))
    assert post(server, chat_body(), {"Content-Type": "application/json"})[0] == 401
    assert server.pending_replies == 1
    body = json.loads(post(server, chat_body())[2])
    assert body["choices"][0]["message"]["content"] == "scripted"
    assert server.pending_replies == 0


# -- scripted replies ----------------------------------------------------------------------


def test_error_reply_with_headers(server: FakeXAIServer) -> None:
    server.script(error_reply(429, "slow down", headers={"Retry-After": "1"}))
    status, headers, raw = post(server, chat_body())
    assert status == 429
    assert headers["retry-after"] == "1"
    assert "x-request-id" not in headers
    assert json.loads(raw) == {"code": "Some resource has been exhausted", "error": "slow down"}


def test_status_without_body_repeats(server: FakeXAIServer) -> None:
    server.script(ScriptedReply(status=503, repeat=2), text_reply("back"))
    assert server.pending_replies == 3
    for _ in range(2):
        status, _, raw = post(server, chat_body(stream=True))
        assert status == 503
        assert json.loads(raw)["code"] == "The service is currently unavailable"
    assert json.loads(post(server, chat_body())[2])["choices"][0]["message"]["content"] == "back"
    assert json.loads(post(server, chat_body())[2])["choices"][0]["message"]["content"] == (
        "You said: hi there"
    )


def test_in_band_error_on_a_stream_request(server: FakeXAIServer) -> None:
    server.script(in_band_error_reply("Timed out waiting for first token"))
    status, headers, raw = post(server, chat_body(stream=True))
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(raw) == {
        "code": "The service is currently unavailable",
        "error": "Timed out waiting for first token",
    }


def test_verbatim_json_body(server: FakeXAIServer) -> None:
    server.script(ScriptedReply(status=201, body={"anything": [1, None]}, headers={"X-A": "b"}))
    status, headers, raw = post(server, chat_body())
    assert (status, headers["x-a"], json.loads(raw)) == (201, "b", {"anything": [1, None]})


def test_raw_body_html_error_page(server: FakeXAIServer) -> None:
    page = b"<html><body>502 Bad Gateway</body></html>"
    server.script(ScriptedReply(status=502, raw_body=page, content_type="text/html"))
    status, headers, raw = post(server, chat_body())
    assert (status, headers["content-type"], raw) == (502, "text/html", page)


def test_raw_sse_replay_is_byte_exact_one_event_per_chunk(server: FakeXAIServer) -> None:
    server.script(ScriptedReply(raw_body=RECORDED_SSE, content_type="text/event-stream"))
    exchange, chunks, terminated = stream(server, chat_body(stream=True))
    assert exchange.headers["transfer-encoding"] == "chunked"
    assert terminated
    assert b"".join(chunks) == RECORDED_SSE
    assert len(chunks) == 5
    assert payloads(chunks)[0]["choices"][0]["delta"]["content"] == "Olá"


def test_raw_sse_replay_honours_cut(server: FakeXAIServer) -> None:
    reply = ScriptedReply(
        raw_body=RECORDED_SSE, content_type="text/event-stream", cut_after_events=2
    )
    server.script(reply)
    _, chunks, terminated = stream(server, chat_body(stream=True))
    assert not terminated
    assert b"".join(chunks) == b"".join(RECORDED_SSE.split(b"\n\n")[i] + b"\n\n" for i in (0, 1))


def test_scripted_fields_override_defaults(server: FakeXAIServer) -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    server.script(
        text_reply(
            "ok", reasoning_content="thinking", model="grok-x", usage=usage, finish_reason="length"
        ),
        text_reply("plain", reasoning_content=""),
    )
    body = json.loads(post(server, chat_body())[2])
    assert body["model"] == "grok-x"
    assert body["usage"] == usage
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["message"]["reasoning_content"] == "thinking"
    body = json.loads(post(server, chat_body())[2])
    assert list(body["choices"][0]["message"]) == ["role", "content", "refusal"]


def test_chunk_words_groups_tokens(server: FakeXAIServer) -> None:
    server.script(text_reply("one two three four five", chunk_words=2, reasoning_content=""))
    events = payloads(stream(server, chat_body(stream=True))[1])
    deltas = [e["choices"][0]["delta"].get("content") for e in events[:-2]]
    assert deltas == ["one two", " three four", " five"]


def test_scripted_tool_calls(server: FakeXAIServer) -> None:
    calls: list[dict[str, Any]] = [
        {"name": "a", "arguments": {"x": 1}},
        {"name": "b", "arguments": "not json", "id": "call_custom"},
    ]
    server.script(ScriptedReply(tool_calls=calls, repeat=2))
    message = json.loads(post(server, chat_body())[2])["choices"][0]["message"]
    assert message["content"] == ""
    assert [c["function"] for c in message["tool_calls"]] == [
        {"name": "a", "arguments": '{"x":1}'},
        {"name": "b", "arguments": "not json"},
    ]
    assert message["tool_calls"][1]["id"] == "call_custom"
    events = payloads(stream(server, chat_body(stream=True))[1])
    streamed = [
        e["choices"][0]["delta"]["tool_calls"][0]
        for e in events[:-1]
        if "tool_calls" in e["choices"][0]["delta"]
    ]
    assert [(c["index"], c["id"]) for c in streamed] == [
        (0, message["tool_calls"][0]["id"]),
        (1, "call_custom"),
    ]
    assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"


def test_tool_call_reply_helper(server: FakeXAIServer) -> None:
    server.script(tool_call_reply("lookup", {"q": "x"}))
    message = json.loads(post(server, chat_body())[2])["choices"][0]["message"]
    assert message["tool_calls"][0]["function"] == {"name": "lookup", "arguments": '{"q":"x"}'}


def test_delay_holds_the_status_line(server: FakeXAIServer) -> None:
    server.script(ScriptedReply(delay=0.3), ScriptedReply(delay=2))
    started = time.monotonic()
    assert post(server, chat_body())[0] == 200
    assert time.monotonic() - started >= 0.25
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=0.2)
    try:
        conn.request("POST", CHAT, json.dumps(chat_body()), auth(server))
        with pytest.raises(TimeoutError):
            conn.getresponse()
    finally:
        conn.close()


def test_event_delay_spaces_events(server: FakeXAIServer) -> None:
    server.script(text_reply("a b c d e", event_delay=0.05, reasoning_content=""))
    started = time.monotonic()
    events = payloads(stream(server, chat_body(stream=True))[1])
    assert len(events) == 7
    assert time.monotonic() - started >= 0.25


def test_cut_after_events_breaks_the_chunked_body(server: FakeXAIServer) -> None:
    server.script(text_reply("a b c d e", cut_after_events=2))
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("POST", CHAT, json.dumps(chat_body(stream=True)), auth(server))
        resp = conn.getresponse()
        assert resp.status == 200
        with pytest.raises(http.client.IncompleteRead) as info:
            resp.read()
    finally:
        conn.close()
    assert info.value.partial.count(b"data: ") == 2
    (record,) = server.wait_for_requests(1)
    assert record.outcome == "cut"


def test_malformed_event(server: FakeXAIServer) -> None:
    server.script(text_reply("a b c", malformed_at_event=1))
    _, chunks, terminated = stream(server, chat_body(stream=True))
    assert terminated
    assert chunks[1] == b"data: {not json\n\n"
    assert chunks[-1] == b"data: [DONE]\n\n"


def test_error_event_ends_the_stream(server: FakeXAIServer) -> None:
    error = {"code": "Internal error", "error": "boom"}
    server.script(
        text_reply("a b c", error_event_at=1, error_event=error), text_reply("x", error_event_at=0)
    )
    _, chunks, terminated = stream(server, chat_body(stream=True))
    assert terminated
    assert len(chunks) == 2
    assert payloads(chunks)[1] == error
    _, chunks, _ = stream(server, chat_body(stream=True))
    assert set(payloads(chunks)[0]) == {"code", "error"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"status": 99},
        {"repeat": 0},
        {"chunk_words": 0},
        {"delay": -1},
        {"cut_after_events": -1},
        {"body": {}, "raw_body": b""},
        {"headers": {"x": "a\r\nb"}},
        {"headers": {"x": "\u2603"}},
        {"headers": {"a:b": "c"}},
    ],
)
def test_impossible_replies_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ScriptedReply(**kwargs)


# -- outcomes, lifecycle, fixtures ---------------------------------------------------------


def test_client_disconnect_mid_stream_is_recorded(server: FakeXAIServer) -> None:
    server.script(text_reply(" ".join(["word"] * 200), event_delay=0.01))
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(raw_request(server, chat_body(stream=True)))
    assert sock.recv(1024).startswith(b"HTTP/1.1 200")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # RST: the next server write fails
    (record,) = server.requests
    assert record.finished.wait(5)
    assert record.outcome == "client_disconnected"
    assert record.status == 200


def test_stop_aborts_slow_streams_and_delays_quickly() -> None:
    server = FakeXAIServer().start()
    server.script(text_reply("a b c", event_delay=30), ScriptedReply(delay=30))
    streaming = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    waiting = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        streaming.sendall(raw_request(server, chat_body(stream=True)))
        exchange = Exchange(streaming)
        assert exchange.file.readline()  # first chunk is on its way
        waiting.sendall(raw_request(server, chat_body()))
        while len(server.requests) < 2:
            time.sleep(0.01)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 1.0
        assert [r.outcome for r in server.requests] == ["cut", "cut"]
        assert all(r.finished.is_set() for r in server.requests)
        assert waiting.recv(1024) == b""
        exchange.close()
    finally:
        streaming.close()
        waiting.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()


def test_start_and_stop_are_idempotent() -> None:
    server = FakeXAIServer()
    with pytest.raises(RuntimeError):
        _ = server.base_url
    assert server.start() is server.start()
    assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
    server.stop()
    server.stop()
    with server:
        assert post(server, chat_body())[0] == 200


def test_wait_for_requests_times_out(server: FakeXAIServer) -> None:
    post(server, chat_body())
    assert len(server.wait_for_requests(1)) == 1
    with pytest.raises(TimeoutError):
        server.wait_for_requests(2, timeout=0.1)


def test_reset_clears_script_and_records(server: FakeXAIServer) -> None:
    server.script(text_reply("never"))
    post(server, chat_body())
    server.script(text_reply("dropped"))
    server.reset()
    assert server.requests == []
    assert server.pending_replies == 0
    assert json.loads(post(server, chat_body())[2])["choices"][0]["message"]["content"] != "dropped"


def test_recorded_request_fields(server: FakeXAIServer) -> None:
    post(server, chat_body(), path=f"{CHAT}?beta=1")
    (record,) = server.wait_for_requests(1)
    assert (record.method, record.path, record.query) == ("POST", CHAT, {"beta": "1"})
    assert record.headers["authorization"] == f"Bearer {server.api_key}"
    assert json.loads(record.body) == record.json == chat_body()
    assert (record.outcome, record.status) == ("completed", 200)


def test_model_latency_applies_to_every_answer() -> None:
    with FakeXAIServer(model_latency=0.2) as server:
        started = time.monotonic()
        assert get(server, "/v1/models")[0] == 200
        assert time.monotonic() - started >= 0.15


def test_env_fixture(fake_xai_env: FakeXAIServer) -> None:
    assert os.environ["XAI_API_KEY"] == fake_xai_env.api_key
    assert os.environ["XAI_API_BASE"] == fake_xai_env.base_url
    assert post(fake_xai_env, chat_body())[0] == 200


def test_import_stays_cheap() -> None:
    code = (
        "import sys, langchain_grok.testing as t; "
        "print(sorted(m for m in sys.modules if m.startswith('langchain_grok.testing.')))"
    )
    result = subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


# -- schema values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "integer", "minimum": 5}, 5),
        ({"type": "integer", "exclusiveMaximum": -3}, -4),
        ({"type": "integer", "minimum": 10, "multipleOf": 7}, 14),
        ({"type": "number", "exclusiveMinimum": 0, "maximum": 0.5}, 0.5),
        ({"type": ["null", "boolean"]}, True),
        ({"const": "fixed"}, "fixed"),
        ({"type": "string", "format": "date-time"}, "2024-01-01T00:00:00Z"),
        ({"type": "string", "maxLength": 3}, "exa"),
        ({"type": "array", "prefixItems": [{"type": "null"}, {"type": "integer"}]}, [None, 0]),
        ({"oneOf": [{"type": "null"}, {"type": "integer", "minimum": 1}]}, 1),
        (
            {"allOf": [{"properties": {"a": {"const": 1}}}, {"properties": {"b": {"const": 2}}}]},
            {"a": 1, "b": 2},
        ),
    ],
)
def test_schema_values(schema: dict[str, Any], expected: Any) -> None:
    assert make_schema_value(schema) == expected


def test_schema_value_for_recursive_schema_terminates() -> None:
    tree = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "children": {"items": {"$ref": "#"}}},
        "required": ["name"],
    }
    value = make_schema_value(tree)
    assert value["name"] == "example"
    assert isinstance(value["children"], list)


@pytest.mark.parametrize(
    "schema", [False, {"$ref": "#/$defs/missing"}, {"type": "integer", "minimum": 3, "maximum": 2}]
)
def test_impossible_schemas_raise(schema: Any) -> None:
    with pytest.raises(ValueError):
        make_schema_value(schema)


def test_unsatisfiable_response_schema_is_400(server: FakeXAIServer) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"$ref": "#/nope"}}}
    status, _, raw = post(server, chat_body(response_format=fmt))
    assert status == 400
    assert json.loads(raw)["error"].startswith("Invalid JSON schema")


@pytest.mark.parametrize(
    "extra",
    [
        {"tool_choice": {"type": "function", "function": "oops"}},
        {"tool_choice": "required"},
        {"tool_choice": {"type": "function", "function": {"name": "missing"}}},
    ],
)
def test_bad_tool_choice_is_400(server: FakeXAIServer, extra: dict[str, Any]) -> None:
    assert post(server, chat_body(**extra))[0] == 400


def test_busy_port_fails_start() -> None:
    with FakeXAIServer() as first:
        second = FakeXAIServer(port=first.port)
        with pytest.raises(OSError):
            second.start()
        assert post(first, chat_body())[0] == 200
