"""The bad-input catalogue: every mistake fails with a clear error BEFORE any request.

Each case names what is wrong (the regex), and the emulator must have seen zero requests:
a request spent on input the API would reject costs the caller a round trip, a retry budget
and sometimes money. Message cases run through all four entry points (invoke, stream, ainvoke,
astream), because each builds its request separately.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_grok import AsyncXAIClient, ChatGrok, XAIClient

if TYPE_CHECKING:
    from langchain_grok.testing import FakeXAIServer

PNG = "iVBORw0KGgo="


def grok(server: FakeXAIServer, **kwargs: Any) -> ChatGrok:
    kwargs.setdefault("use_responses_api", False)  # the x-grok-conv-id header is chat-only
    return ChatGrok(api_key=server.api_key, base_url=server.base_url, **kwargs)


async def _call(model: Any, mode: str, messages: Any, /, **kwargs: Any) -> None:
    if mode == "invoke":
        model.invoke(messages, **kwargs)
    elif mode == "stream":
        list(model.stream(messages, **kwargs))
    elif mode == "ainvoke":
        await model.ainvoke(messages, **kwargs)
    else:
        [_ async for _ in model.astream(messages, **kwargs)]


MODES = pytest.mark.parametrize("mode", ["invoke", "stream", "ainvoke", "astream"])


def _with_int_part() -> list[HumanMessage]:
    message = HumanMessage(["look:"])
    cast("list[Any]", message.content).append(42)  # mutated after validation
    return [message]


def _image(**block: Any) -> HumanMessage:
    return HumanMessage([{"type": "text", "text": "what is this?"}, {"type": "image", **block}])


def _image_url(image_url: Any) -> HumanMessage:
    return HumanMessage([{"type": "image_url", "image_url": image_url}])


MESSAGE_CASES: dict[str, tuple[Callable[[], Any], str]] = {
    "empty list": (list, r"messages must not be empty"),
    "unknown role": (lambda: [ChatMessage(role="wizard", content="hi")], r"unknown role 'wizard'"),
    "unknown role tuple": (lambda: [("wizard", "hi")], r"message type: 'wizard'"),
    "tool role without id": (
        lambda: [ChatMessage(role="tool", content="42")],
        r"message 0 \(ChatMessage\).*tool_call_id.*ToolMessage",
    ),
    "empty tool_call_id": (
        lambda: [HumanMessage("q"), ToolMessage("42", tool_call_id="")],
        r"message 1 \(ToolMessage\).*empty tool_call_id",
    ),
    "function message": (
        lambda: [FunctionMessage(name="f", content="x")],
        r"FunctionMessage.*ToolMessage",
    ),
    "empty content list": (lambda: [HumanMessage([])], r"content is an empty list"),
    "int content part": (_with_int_part, r"content part of type int"),
    "audio part": (
        lambda: [HumanMessage([{"type": "audio", "base64": "UklGRg==", "mime_type": "audio/wav"}])],
        r"content block of type 'audio' is not supported",
    ),
    "part without type": (lambda: [HumanMessage([{"text": "hi"}])], r"type None"),
    "image in system message": (
        lambda: [SystemMessage([{"type": "image", "url": "https://x.test/a.png"}]), "hi"],
        r"message 0 \(SystemMessage\).*'image' cannot be sent in this message",
    ),
    "image in assistant message": (
        lambda: [AIMessage([{"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}])],
        r"message 0 \(AIMessage\).*'image_url' cannot be sent",
    ),
    "tool call without id": (
        lambda: [
            HumanMessage("q"),
            AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": None}]),
        ],
        r"tool call 'f' has no id",
    ),
    "tool args not JSON (datetime)": (
        lambda: [
            HumanMessage("q"),
            AIMessage(
                "",
                tool_calls=[
                    {
                        "name": "f",
                        "args": {"when": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)},
                        "id": "c1",
                    }
                ],
            ),
            ToolMessage("ok", tool_call_id="c1"),
        ],
        r"tool call 'f' has arguments that are not JSON.*datetime",
    ),
    "tool args NaN": (
        lambda: [
            HumanMessage("q"),
            AIMessage("", tool_calls=[{"name": "f", "args": {"x": math.nan}, "id": "c1"}]),
            ToolMessage("ok", tool_call_id="c1"),
        ],
        r"tool call 'f' has arguments that are not JSON",
    ),
    "image without data": (lambda: [_image()], r"image block needs a non-empty `url` or `base64`"),
    "image bad base64": (
        lambda: [_image(base64="!!! not base64 !!!", mime_type="image/png")],
        r"`base64` is not valid base64",
    ),
    "image pdf mime": (
        lambda: [_image(base64=PNG, mime_type="application/pdf")],
        r"mime_type 'application/pdf'",
    ),
    "image file url": (
        lambda: [_image(url="file:///etc/passwd")],
        r"image URL must be https://, http:// or a data:image/\.\.\. URI, got 'file:///etc/passwd'",
    ),
    "image_url empty": (lambda: [_image_url({"url": ""})], r"needs image_url\.url"),
    "image_url not a URL": (lambda: [_image_url("cat.png")], r"image URL must be.*'cat\.png'"),
    "image_url bad data URI": (
        lambda: [_image_url("data:image/png;base64,@@@@")],
        r"image data URI is not valid base64",
    ),
    "image_url non-image data URI": (
        lambda: [_image_url("data:text/plain;base64,aGk=")],
        r"data URI must look like data:image/png;base64",
    ),
    "image detail": (
        lambda: [_image_url({"url": "https://x.test/a.png", "detail": "ultra"})],
        r"detail must be one of auto, low, high, got 'ultra'",
    ),
}


@MODES
@pytest.mark.parametrize("case", list(MESSAGE_CASES))
async def test_bad_messages_fail_before_any_request(
    fake_xai_server: FakeXAIServer, mode: str, case: str
) -> None:
    build, pattern = MESSAGE_CASES[case]
    with pytest.raises(ValueError, match=pattern):
        await _call(grok(fake_xai_server), mode, build())
    assert fake_xai_server.requests == []


# -- parameters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"temperature": -1}, "temperature"),
        ({"temperature": math.nan}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"max_tokens": -5}, "max_tokens"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"n": 0}, "n"),
        ({"top_p": 0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_logprobs": 99}, "top_logprobs"),
        ({"frequency_penalty": 10}, "frequency_penalty"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": math.nan}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"reasoning_effort": "maximal"}, "reasoning_effort"),
        ({"service_tier": "gold"}, "service_tier"),
        ({"stop": [1, 2]}, "stop"),
        ({"model_kwargs": {"top_logprobs": -1}}, "top_logprobs"),
    ],
)
def test_bad_constructor_parameters(
    fake_xai_server: FakeXAIServer, kwargs: dict[str, Any], name: str
) -> None:
    with pytest.raises(ValueError, match=name):  # pydantic's ValidationError is a ValueError
        grok(fake_xai_server, **kwargs)
    assert fake_xai_server.requests == []


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"timeout": math.inf}, r"timeout must be a positive, finite number"),
        ({"base_url": "ftp://files.example/v1"}, r"base_url must be an http\(s\) URL"),
        ({"default_headers": {"x-team": "a\r\nx-evil: 1"}}, r"header 'x-team'"),
        ({"default_headers": {"x-user": "José"}}, r"header 'x-user'"),
        ({"api_key": "   "}, r"XAI_API_KEY"),
    ],
)
def test_bad_settings_fail_at_the_first_call_before_any_request(
    fake_xai_server: FakeXAIServer, kwargs: dict[str, Any], pattern: str
) -> None:
    model = ChatGrok(
        **{"api_key": fake_xai_server.api_key, "base_url": fake_xai_server.base_url, **kwargs}
    )
    with pytest.raises(ValueError, match=pattern):
        model.invoke("hi")
    assert fake_xai_server.requests == []


@MODES
@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"temperature": -1}, r"temperature=-1 is out of range"),
        ({"temperature": math.nan}, r"temperature must be a number"),
        ({"temperature": "hot"}, r"temperature must be a number"),
        ({"max_tokens": -5}, r"max_tokens=-5 is out of range"),
        ({"n": 0}, r"n=0 is out of range"),
        ({"top_p": 2}, r"top_p=2 is out of range"),
        ({"top_logprobs": 99}, r"top_logprobs=99 is out of range"),
        ({"seed": 1.5}, r"seed must be an integer"),
        ({"stop": [1, 2]}, r"stop must be a string or a list of strings"),
        ({"reasoning_effort": "maximal"}, r"reasoning_effort='maximal' is not accepted"),
        ({"model": ""}, r"model must be a non-empty string"),
        ({"user": object()}, r"parameter 'user' cannot be sent as JSON"),
        ({"user": math.nan}, r"parameter 'user' cannot be sent as JSON"),
        ({"conversation_id": "café"}, r"header 'x-grok-conv-id'"),
    ],
)
async def test_bad_call_parameters(
    fake_xai_server: FakeXAIServer, mode: str, kwargs: dict[str, Any], pattern: str
) -> None:
    with pytest.raises(ValueError, match=pattern):
        await _call(grok(fake_xai_server), mode, "hi", **kwargs)
    assert fake_xai_server.requests == []


@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_n_above_one_cannot_stream(fake_xai_server: FakeXAIServer, mode: str) -> None:
    with pytest.raises(ValueError, match=r"n > 1 cannot be combined with streaming"):
        await _call(grok(fake_xai_server), mode, "hi", n=2)
    assert fake_xai_server.requests == []


@pytest.mark.parametrize("name", ["temperature", "max_tokens"])
def test_huge_integer_parameters_fail_clearly(fake_xai_server: FakeXAIServer, name: str) -> None:
    huge: dict[str, Any] = {name: 10**400}
    with pytest.raises(ValueError, match=name):
        grok(fake_xai_server).invoke("hi", **huge)
    assert fake_xai_server.requests == []


# -- tools ------------------------------------------------------------------------------------

FUNCTION = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}


@pytest.mark.parametrize(
    ("tools", "kwargs", "pattern"),
    [
        ([42], {}, r"tool 0 \(int\) cannot be used as a tool"),
        (["search the web"], {}, r"tool 0 \(str\) cannot be used as a tool"),
        ([FUNCTION, None], {}, r"tool 1 \(NoneType\) cannot be used as a tool"),
        ([{"parameters": {}}], {}, r"tool 0 \(dict\) cannot be used as a tool"),
        ([FUNCTION], {"tool_choice": "nope"}, r"tool_choice='nope' names no bound tool"),
        ([FUNCTION], {"tool_choice": 5}, r"tool_choice must be a string, bool or dict"),
    ],
)
def test_tools_that_cannot_be_converted(
    fake_xai_server: FakeXAIServer, tools: list[Any], kwargs: dict[str, Any], pattern: str
) -> None:
    with pytest.raises(ValueError, match=pattern):
        grok(fake_xai_server).bind_tools(tools, **kwargs)
    assert fake_xai_server.requests == []


def test_function_tool_without_its_function(fake_xai_server: FakeXAIServer) -> None:
    with pytest.raises(ValueError, match=r"tool 0"):
        grok(fake_xai_server).bind_tools([{"type": "function"}])
    assert fake_xai_server.requests == []


def test_function_tool_with_a_non_schema_parameters(fake_xai_server: FakeXAIServer) -> None:
    bad = {"type": "function", "function": {"name": "lookup", "parameters": "a string"}}
    with pytest.raises(ValueError, match=r"lookup|parameters"):
        grok(fake_xai_server).bind_tools([bad]).invoke("hi")
    assert fake_xai_server.requests == []


# -- the low-level clients --------------------------------------------------------------------


@pytest.mark.parametrize("cls", [XAIClient, AsyncXAIClient])
@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"timeout": -1}, r"timeout must be a positive, finite number.*-1"),
        ({"timeout": math.nan}, r"timeout must be a positive, finite number.*nan"),
        ({"timeout": math.inf}, r"timeout must be a positive, finite number.*inf"),
        ({"timeout": "10"}, r"timeout must be a positive, finite number.*'10'"),
        ({"max_retries": -1}, r"max_retries must be an integer >= 0, got -1"),
        ({"max_retries": "3"}, r"max_retries must be an integer >= 0, got '3'"),
        ({"max_retries": 1.5}, r"max_retries must be an integer >= 0, got 1\.5"),
        ({"base_url": "not a url"}, r"base_url must be an http\(s\) URL"),
        ({"base_url": "ftp://x.test/v1"}, r"base_url must be an http\(s\) URL"),
        ({"api_key": ""}, r"XAI_API_KEY"),
        ({"default_headers": {"bad header": "x"}}, r"invalid HTTP header name 'bad header'"),
        ({"default_headers": {"x-a": "1\n2"}}, r"header 'x-a'"),
    ],
)
def test_bad_client_arguments(cls: type[Any], kwargs: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        cls(**{"api_key": "xai-k", "base_url": "https://api.x.ai/v1", **kwargs})


def test_a_non_ascii_key_fails_without_quoting_it(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "xai-clé-secrète"
    monkeypatch.setenv("XAI_API_KEY", secret)
    with pytest.raises(ValueError, match="XAI_API_KEY") as info:
        XAIClient(base_url="https://api.x.ai/v1")
    assert "clé" not in str(info.value)


def test_a_secret_header_value_is_not_quoted_in_the_error() -> None:
    with pytest.raises(ValueError, match=r"(?i)header 'authorization'") as info:
        XAIClient(api_key="k", default_headers={"Authorization": "Bearer xai-s3cret\n"})
    assert "s3cret" not in str(info.value)


def test_bad_extra_headers_fail_before_the_request() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with XAIClient(api_key="k", base_url="https://api.x.ai/v1", http_client=http) as client:
        with pytest.raises(ValueError, match=r"header 'x-grok-conv-id'"):
            client.chat_completion(
                [{"role": "user", "content": "x"}], extra_headers={"x-grok-conv-id": "ü"}
            )
        with pytest.raises(ValueError, match=r"parameter 'metadata' cannot be sent as JSON"):
            client.chat_completion([{"role": "user", "content": "x"}], metadata={1, 2})
    assert sent == []


def test_messages_are_checked_once_per_call_not_per_message_type(
    fake_xai_server: FakeXAIServer,
) -> None:
    """A valid conversation with every accepted part still goes through (the checks above are
    not over-eager)."""
    history: list[BaseMessage] = [
        SystemMessage("be brief"),
        HumanMessage(
            [
                "plain string part",
                {"type": "text", "text": "describe"},
                {"type": "image", "base64": PNG, "mime_type": "image/png", "detail": "low"},
                {"type": "image", "url": "https://x.test/a.png", "extras": {"detail": "high"}},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                {"type": "image_url", "image_url": "http://x.test/b.jpg"},
            ]
        ),
        AIMessage("", tool_calls=[{"name": "f", "args": {"q": [1, None]}, "id": "c1"}]),
        ToolMessage("result", tool_call_id="c1", status="error"),
    ]
    assert grok(fake_xai_server).invoke(history).content
    (request,) = fake_xai_server.requests
    parts = request.json["messages"][1]["content"]
    assert [p["type"] for p in parts] == ["text"] * 2 + ["image_url"] * 4
    assert parts[2]["image_url"] == {"url": f"data:image/png;base64,{PNG}", "detail": "low"}
    assert parts[3]["image_url"]["detail"] == "high"


def test_per_call_timeout_is_refused_not_sent(fake_xai_server: FakeXAIServer) -> None:
    with pytest.raises(ValueError, match="timeout is a ChatGrok setting"):
        grok(fake_xai_server).invoke("hi", timeout=5)
    assert fake_xai_server.requests == []


@pytest.mark.parametrize("setting", ["store", "include", "use_previous_response_id"])
def test_responses_only_settings_refused_with_chat_completions_forced(setting):
    value = ["reasoning.encrypted_content"] if setting == "include" else True
    with pytest.raises(ValueError, match=setting):
        ChatGrok(api_key="k", use_responses_api=False, **{setting: value})


def test_responses_only_settings_refused_when_the_call_needs_chat_completions(fake_xai_server):
    model = ChatGrok(api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url, store=True)
    with pytest.raises(ValueError, match=r"store applies only to the Responses API.*seed"):
        model.invoke("hi", seed=7)
    with pytest.raises(ValueError, match="previous_response_id"):
        model.invoke("hi", use_responses_api=False, previous_response_id="resp_1", store=False)
    assert fake_xai_server.requests == []  # refused before anything was sent
    assert model.invoke("hi").content  # the default route (Responses) still takes store=True
