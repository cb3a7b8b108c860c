"""Fuzzing the pure layers with hypothesis: hostile bytes, message lists and parameters.

Each property is either "a valid result" or "one of our typed errors", never anything else
(no UnicodeDecodeError, KeyError, RecursionError, OverflowError, AttributeError, ...).

Hypothesis settings (each test stays well under 5 s on two cores):

- SSE decoder + `EventParser`: `max_examples=300`, `deadline=None`, bodies up to ~40 fragments
  or 2,000 random bytes, up to 12 arbitrary chunk boundaries, size cap 8 KiB.
- `convert_messages`: `max_examples=300`, `deadline=None`, up to 6 messages with up to 4
  content blocks each, tool-call arguments of nested JSON and non-JSON leaves.
- `build_chat_body`: `max_examples=400`, `deadline=None`, up to 8 parameters, every value type.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import re
import sys
import time
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_grok import ChatGrok
from langchain_grok._client._base import encode_body
from langchain_grok._events import EventParser
from langchain_grok._messages import convert_messages
from langchain_grok._payload import build_chat_body
from langchain_grok._sse import SSEDecodeError, SSEDecoder
from langchain_grok.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    GrokError,
)
from langchain_grok.testing import FakeXAIServer, tool_call_reply

CAP = 8 * 1024
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_BYTES = settings(FUZZ, max_examples=1000)
TYPED = (APIResponseValidationError, APIStatusError, APIConnectionError)

# -- SSE decoder + EventParser ------------------------------------------------------------------

# Pieces that reach the interesting branches far more often than uniform random bytes do.
# JSON payloads that reach the interesting branches far more often than random bytes do.
_PAYLOADS = [
    b"[DONE]",
    b'{"choices":[]}',
    b'{"id":"c","choices":[{"index":0,"delta":{"content":"hi"}}]}',
    b'{"code":"The service is currently unavailable","error":"busy"}',
    b'{"code":"Some resource has been exhausted","error":"slow down"}',
    b'{"error":{"message":"m","status":429}}',
    b'{"error":{"status":"x","code":5}}',
    b'{"error":{"status":99999999999999999999999}}',
    b'{"error":[1,{"a":null}]}',
    b'{"error":null}',
    b'{"error":"x","choices":[]}',
    b'{"type":"response.completed"}',
    b'{"type":"response.output_text.delta","delta":"x"}',
    b'{"type":"response.failed","response":"oops"}',
    b'{"type":"response.failed","response":{"error":"boom"}}',
    b'{"type":"response.failed","response":{"error":{"message":"m","code":"unavailable"}}}',
    b'{"type":"response.failed"}',
    b'{"type":"error","code":"x","message":{"deep":[1]}}',
    b'{"type":"error"}',
    b"[1,2]",
    b'"text"',
    b"1e999",
    b"NaN",
    b"-Infinity",
    b"{",
    b"",
    b"[" * 3000,
    b'{"error":' + b"[" * 3000,
    b'{"error":' + b"[" * 900 + b"]" * 900 + b"}",
    b"\xff\xfe\xfd",
    b"\xc3\xa9",
]
_FRAGMENTS = [
    *_PAYLOADS,
    b"data: ",
    b"data:",
    b"data",
    b"\n",
    b"\r\n",
    b"\r",
    b"\n\n",
    b": keep-alive\n",
    b"event: message\n",
    b"id: 7\n",
    b"retry: 10\n",
    b"}",
    b"]" * 50,
    b"\xef\xbb\xbf",
    b"\xe2\x9c",
    b"\x00",
]
_event_frame = st.builds(
    lambda head, payload, end: head + payload + end,
    # Mostly well-framed, so that most frames reach the JSON and event-type branches.
    st.sampled_from([b"data: "] * 4 + [b"data:", b"event: x\ndata: ", b": c\ndata: ", b""]),
    st.one_of(st.sampled_from(_PAYLOADS), st.binary(max_size=8)),
    st.sampled_from([b"\n\n"] * 4 + [b"\r\n\r\n", b"\r\r", b"\n", b""]),
)
_bodies = st.one_of(
    st.lists(_event_frame, max_size=6).map(b"".join),
    st.binary(max_size=2000),
    st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.binary(max_size=16)), max_size=40).map(
        b"".join
    ),
)
_cuts = st.lists(st.integers(min_value=0, max_value=50_000), max_size=12)


def _chunks(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(body) + 1) for c in cuts})
    return [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]


def _parse(
    chunks: list[bytes], *, responses: bool
) -> tuple[list[dict[str, Any]], Exception | None]:
    """Drive the parser the way the clients do; return the events and the typed error (or None)."""
    parser = EventParser(status_code=200, request_id="req-fuzz", responses=responses)
    parser._decoder = SSEDecoder(max_event_size=CAP)
    events: list[dict[str, Any]] = []
    try:
        for chunk in chunks:
            events.extend(parser.feed(chunk))
            if parser.done:
                break
        else:
            events.extend(parser.finish())
    except TYPED as exc:
        return events, exc
    # A stream that did not raise must have reached its terminator: never "silently short".
    assert parser.done
    return events, None


@FUZZ_BYTES
@given(body=_bodies, cuts=_cuts, responses=st.booleans())
def test_event_parser_raises_only_typed_errors(body: bytes, cuts: list[int], responses: bool):
    events, error = _parse(_chunks(body, cuts), responses=responses)
    for event in events:
        assert isinstance(event, dict)
        assert len(json.dumps(event)) <= 4 * CAP  # re-encoding may escape, never unbounded
    if error is not None:
        assert isinstance(error, GrokError)
        assert str(error)
        assert getattr(error, "request_id", None) == "req-fuzz"


@FUZZ_BYTES
@given(body=_bodies, cuts=_cuts)
def test_sse_decoder_never_holds_more_than_its_cap(body: bytes, cuts: list[int]) -> None:
    decoder = SSEDecoder(max_event_size=CAP)
    for chunk in _chunks(body, cuts):
        try:
            events = decoder.feed(chunk)
        except SSEDecodeError:
            return
        assert all(len(event.data) <= CAP for event in events)
        held = decoder._data_size + decoder._line_size
        if held > CAP:  # allowed only while the error is pending for the next call
            with pytest.raises(SSEDecodeError):
                decoder.feed(b"")
            return
    try:
        events = decoder.flush()
    except SSEDecodeError:
        return
    assert all(len(event.data) <= CAP for event in events)


def test_a_long_line_in_small_pieces_costs_linear_time() -> None:
    """Found by the fuzzer's "never hangs" budget: the decoder re-joined the unfinished line on
    every chunk, so 4 MiB trickled in 256-byte pieces took ~12 s (quadratic); now ~0.05 s."""
    decoder = SSEDecoder()
    piece = b"x" * 256
    started = time.monotonic()
    decoder.feed(b"data: ")
    for _ in range(4 * 1024 * 1024 // len(piece)):
        assert decoder.feed(piece) == []
    assert [e.data for e in decoder.feed(b"\n\n")] == ["x" * 4 * 1024 * 1024]
    assert time.monotonic() - started < 5  # a hang guard with a ~100x margin, not a benchmark


@pytest.mark.parametrize("responses", [False, True])
def test_deeply_nested_frame_is_a_validation_error(responses: bool) -> None:
    """Found by the fuzzer: json.loads raised RecursionError through the parser."""
    events, error = _parse([b"data: " + b"[" * 5000 + b"\n\n"], responses=responses)
    assert events == []
    assert isinstance(error, APIResponseValidationError)


@pytest.mark.parametrize(
    "template",
    [
        b'{"error":%s}',
        b'{"error":{"message":%s}}',
        b'{"error":5,"message":%s}',
        b'{"error":"x","code":%s}',
        b'{"error":{"status":%s,"code":%s}}',
    ],
)
def test_error_frames_of_every_nesting_depth_are_typed(template: bytes) -> None:
    """Found by the fuzzer: an error frame nested just shallow enough for json.loads was too
    deep for the json.dumps that built the message (RecursionError at one depth only, which
    moves with the stack depth, hence the sweep)."""
    for depth in range(1, sys.getrecursionlimit() + 100):
        nested = b"[" * depth + b"]" * depth
        frame = b"data: " + template.replace(b"%s", nested) + b"\n\n"
        events, error = _parse([frame], responses=False)
        assert events == [], depth
        assert isinstance(error, GrokError), depth


def test_response_failed_with_a_non_object_response_is_typed() -> None:
    """Found by the fuzzer: `response.failed` whose `response` is a string raised
    AttributeError instead of a typed error."""
    frame = b'data: {"type":"response.failed","response":"oops"}\n\n'
    _, error = _parse([frame], responses=True)
    assert isinstance(error, APIStatusError)
    _, error = _parse(
        [b'data: {"type":"response.failed","response":{"error":"boom"}}\n\n'], responses=True
    )
    assert isinstance(error, APIStatusError)
    assert "boom" in str(error)


def test_deeply_nested_error_body_through_the_client(fake_xai_server: FakeXAIServer) -> None:
    """The same hostile nesting as a whole HTTP body (200 and 500) stays typed end to end."""
    from langchain_grok import XAIClient
    from langchain_grok.testing import ScriptedReply

    nested = b"[" * 100_000
    fake_xai_server.script(
        ScriptedReply(raw_body=nested, content_type="application/json"),
        ScriptedReply(status=500, raw_body=nested, content_type="application/json"),
    )
    with XAIClient(
        api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url, max_retries=0
    ) as client:
        with pytest.raises(APIResponseValidationError):
            client.chat_completion([{"role": "user", "content": "x"}])
        with pytest.raises(APIStatusError) as info:
            client.chat_completion([{"role": "user", "content": "x"}])
    assert info.value.status_code == 500


def test_deeply_nested_tool_arguments_become_an_invalid_tool_call(
    fake_xai_server: FakeXAIServer,
) -> None:
    fake_xai_server.script(tool_call_reply("lookup", "[" * 100_000))
    model = ChatGrok(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url)
    reply = model.invoke("x")
    assert reply.tool_calls == []
    assert reply.invalid_tool_calls[0]["name"] == "lookup"


# -- message conversion -----------------------------------------------------------------------

_text = st.text(max_size=12)
_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    _text,
)
_json = st.recursive(
    _json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_text, inner, max_size=3)),
    max_leaves=8,
)
# What users put in tool-call arguments besides JSON: bytes, sets, datetimes, objects.
_odd_leaf = st.sampled_from(
    [b"raw", frozenset({1}), dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), object()]
)
_args = st.dictionaries(_text, st.one_of(_json, _odd_leaf), max_size=3)

_PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n0000").decode()
_urls = st.one_of(
    st.sampled_from(
        [
            "https://example.com/cat.png",
            "http://example.com/cat.jpg",
            f"data:image/png;base64,{_PNG}",
            "data:image/png;base64,@@not base64@@",
            "data:text/plain;base64,aGk=",
            "file:///etc/passwd",
            "ftp://example.com/x.png",
            "javascript:alert(1)",
            "",
            "cat.png",
        ]
    ),
    _text,
    st.integers(),
    st.none(),
)
_base64_data = st.one_of(st.sampled_from([_PNG, "!!!", "aGk", "", " "]), _text, st.integers())
_mime = st.one_of(
    st.sampled_from(["image/png", "image/jpeg", "application/pdf", "text/plain"]),
    st.none(),
    st.integers(),
)
_detail = st.one_of(st.sampled_from(["auto", "low", "high", "ultra", ""]), st.none(), _json)
_block_type = st.sampled_from(
    [
        "text",
        "image",
        "image_url",
        "file",
        "audio",
        "video",
        "reasoning",
        "tool_call",
        "non_standard",
        "input_text",
        "",
    ]
)


@st.composite
def _block(draw: st.DrawFn) -> Any:  # noqa: PLR0911 - one return per block kind
    kind = draw(st.integers(0, 7))
    if kind == 0:
        return draw(_text)
    if kind == 1:
        return {"type": "text", "text": draw(st.one_of(_text, st.none(), st.integers()))}
    if kind == 2:
        block: dict[str, Any] = {"type": "image"}
        if draw(st.booleans()):
            block["url"] = draw(_urls)
        else:
            block["base64"] = draw(_base64_data)
            block["mime_type"] = draw(_mime)
        if draw(st.booleans()):
            block["detail"] = draw(_detail)
        if draw(st.booleans()):
            block["extras"] = draw(st.one_of(_text, st.dictionaries(_text, _detail, max_size=2)))
        return block
    if kind == 3:
        image = draw(
            st.one_of(_urls, st.fixed_dictionaries({"url": _urls}, optional={"detail": _detail}))
        )
        return {"type": "image_url", "image_url": image}
    if kind == 4:
        return {"type": "file", "file_id": draw(st.one_of(_text, st.integers(), st.none()))}
    if kind == 5:
        return {"type": "reasoning", "reasoning": draw(_text)}
    if kind == 6:
        return {"type": draw(_block_type), "text": draw(_text), "extra": draw(_json)}
    return draw(st.dictionaries(_text, _json, max_size=3))


_content = st.one_of(_text, st.lists(_block(), max_size=4))
_ids = st.one_of(_text, st.none())
_names = st.one_of(st.none(), _text)


@st.composite
def _message(draw: st.DrawFn) -> BaseMessage:  # noqa: PLR0911 - one per kind
    kind = draw(st.integers(0, 6))
    content = draw(_content)
    name = draw(_names)
    if kind == 0:
        return HumanMessage(content=content, name=name)
    if kind == 1:
        return SystemMessage(content=content, name=name)
    if kind == 2:
        calls = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"name": _text, "args": _args, "id": _ids, "type": st.just("tool_call")}
                ),
                max_size=2,
            )
        )
        invalid = draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "name": _names,
                        "args": st.one_of(st.none(), _text),
                        "id": _ids,
                        "error": st.none(),
                        "type": st.just("invalid_tool_call"),
                    }
                ),
                max_size=1,
            )
        )
        extra = draw(st.dictionaries(st.just("reasoning_content"), st.one_of(_text, st.integers())))
        return AIMessage(
            content=content,
            name=name,
            tool_calls=calls,
            invalid_tool_calls=invalid,
            additional_kwargs=extra,
        )
    if kind == 3:
        status = draw(st.sampled_from(["success", "error"]))
        return ToolMessage(content=content, tool_call_id=draw(_text), status=status)
    if kind == 4:
        role = draw(
            st.one_of(
                st.sampled_from(["user", "assistant", "system", "developer", "tool", "wizard"]),
                _text,
            )
        )
        return ChatMessage(role=role, content=content, name=name)
    if kind == 5:
        return FunctionMessage(name=draw(_text) or "f", content=content)
    # Content mutated after construction (pydantic does not re-validate): non-str/dict parts.
    message = HumanMessage(content=[draw(_text)])
    odd = draw(st.one_of(st.integers(), st.none(), st.lists(_text, max_size=1)))
    cast("list[Any]", message.content).append(odd)
    return message


_DATA_URL = re.compile(r"data:image/[\w.+-]+;base64,(?P<data>.*)", re.DOTALL)


def _check_image(part: dict[str, Any]) -> None:
    image = part["image_url"]
    assert set(image) <= {"url", "detail"}
    url = image["url"]
    assert isinstance(url, str)
    if url.startswith("data:"):
        match = _DATA_URL.fullmatch(url)
        assert match, url
        assert base64.b64decode(re.sub(r"\s+", "", match["data"]), validate=True)
    else:
        assert url.startswith(("https://", "http://")), url
    if "detail" in image:
        assert image["detail"] in ("auto", "low", "high")


def _check_payload(payload: list[dict[str, Any]], messages: list[BaseMessage]) -> None:
    """What the API accepts, as far as the client can know it."""
    assert len(payload) == len(messages)
    json.dumps(payload, allow_nan=False)  # strict JSON: no NaN, no bytes, no objects
    for item in payload:
        role = item["role"]
        assert role in {"system", "user", "assistant", "tool"}
        content = item["content"]
        assert content is not None
        if role in ("assistant", "system"):
            assert isinstance(content, str)
        elif isinstance(content, list):
            assert content, "an empty content list is rejected by the API"
            for part in content:
                assert part["type"] in {"text", "image_url", "file"}
                if part["type"] == "text":
                    assert isinstance(part["text"], str)
                elif part["type"] == "image_url":
                    _check_image(part)
                else:
                    assert isinstance(part["file"]["file_id"], str)
                    assert part["file"]["file_id"]
        else:
            assert isinstance(content, str)
        if role == "tool":
            assert isinstance(item["tool_call_id"], str)
            assert item["tool_call_id"]
        for call in item.get("tool_calls", []):
            assert isinstance(call["id"], str)
            assert call["id"]
            assert isinstance(call["function"]["name"], str)
            assert isinstance(call["function"]["arguments"], str)
        if "name" in item:
            assert isinstance(item["name"], str)


@FUZZ
@given(messages=st.lists(_message(), max_size=6))
def test_convert_messages_gives_a_valid_payload_or_a_value_error(
    messages: list[BaseMessage],
) -> None:
    try:
        payload = convert_messages(messages)
    except ValueError as exc:
        text = str(exc)
        if messages:
            assert re.match(r"Cannot send message \d+ \(\w+\): .+", text), text
        else:
            assert "empty" in text
        return
    _check_payload(payload, messages)


# -- build_chat_body ------------------------------------------------------------------------------

# Checked parameters get every kind of value; the rest are passed through as given, so they get
# JSON values (what a caller can mean). Integers stay below 10**300: larger ones hit the
# OverflowError pinned by test_bad_input.py::test_huge_integer_parameters_fail_clearly.
_CHECKED = [
    "temperature",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "n",
    "max_tokens",
    "max_completion_tokens",
    "top_logprobs",
    "seed",
    "stop",
]
_any_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**300), max_value=10**300),
    st.integers(min_value=-5, max_value=12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-3, max_value=3),
    _text,
    st.sampled_from(["none", "low", "medium", "high", "xhigh"]),
    st.lists(st.one_of(_text, st.integers()), max_size=3),
    st.dictionaries(_text, _json_leaf, max_size=2),
)
_models = st.one_of(
    st.sampled_from(
        ["grok-4.3", "grok-4.5", "grok-4.20-0309-reasoning", "grok-4.20-0309-non-reasoning"]
    ),
    st.sampled_from(["grok-3-mini", "my-fine-tune", ""]),
    st.none(),
    st.integers(),
)
_params = st.fixed_dictionaries(
    {"model": _models},
    optional={
        **dict.fromkeys(_CHECKED, _any_value),
        "user": _json,
        "reasoning_effort": st.one_of(_text, _json),
        "search_parameters": _json,
        "parallel_tool_calls": _json,
        "response_format": _json,
    },
)
_RANGES = {
    "temperature": (0, 2),
    "top_p": (0, 1),
    "frequency_penalty": (-2, 2),
    "presence_penalty": (-2, 2),
    "top_logprobs": (0, 8),
}
_NOT_A_PARAMETER = re.compile(r"n > 1")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=_params, stream=st.booleans(), stream_usage=st.booleans())
def test_build_chat_body_gives_a_valid_body_or_names_the_parameter(
    params: dict[str, Any], stream: bool, stream_usage: bool
) -> None:
    messages = [{"role": "user", "content": "hi"}]
    try:
        body, dropped = build_chat_body(messages, params, stream=stream, stream_usage=stream_usage)
        # Pass-through values (user, response_format, ...) are checked for JSON when the client
        # encodes the body, still before anything is sent: the pipeline is what must name them.
        encode_body(body)
    except ValueError as exc:
        text = str(exc)
        named = [name for name in params if re.search(rf"\b{re.escape(name)}\b", text)]
        assert named or _NOT_A_PARAMETER.search(text), text
        return
    json.dumps(body, allow_nan=False)
    assert isinstance(body["model"], str)
    assert body["model"]
    assert body["messages"] == messages
    assert "max_tokens" not in body
    assert "search_parameters" not in body
    assert all(value is not None for value in body.values())
    for name, (low, high) in _RANGES.items():
        if name in body:
            assert not isinstance(body[name], bool)
            assert low <= body[name] <= high
    for name in ("n", "max_completion_tokens", "seed", "top_logprobs"):
        if name in body:
            assert type(body[name]) is int
    if "n" in body:
        assert body["n"] >= 1
    if "max_completion_tokens" in body:
        assert body["max_completion_tokens"] >= 1
    if "stop" in body:
        assert isinstance(body["stop"], list)
        assert body["stop"]
        assert all(isinstance(s, str) for s in body["stop"])
    if stream:
        assert body["stream"] is True
        assert body.get("n", 1) == 1
        assert ("stream_options" in body) == stream_usage
    else:
        assert "stream" not in body
        assert "stream_options" not in body
    assert set(dropped) <= {"stop", "frequency_penalty", "presence_penalty"}
    for name in dropped:
        assert name not in body
    if "top_logprobs" in body:
        assert body["logprobs"] is True
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in body.values())
