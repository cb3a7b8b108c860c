"""Tools, tool choice, structured output and agent loops, on the wire and through the emulator."""

from __future__ import annotations

import asyncio
import json
import warnings
from typing import Annotated, Any, Literal

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, tool
from pydantic import BaseModel, Field
from pydantic.v1 import BaseModel as BaseModelV1
from typing_extensions import TypedDict

from langchain_grok import ChatGrok
from langchain_grok._structured import format_tool_choice, format_tools
from langchain_grok.testing import FakeXAIServer, ScriptedReply, text_reply

Method = Literal["json_schema", "function_calling", "json_mode"]
METHODS: tuple[Method, ...] = ("json_schema", "function_calling", "json_mode")


def grok(server: FakeXAIServer, **kwargs: Any) -> ChatGrok:
    # Chat Completions here; the Responses path runs the same matrix in test_standard_protocol.
    kwargs.setdefault("use_responses_api", False)
    return ChatGrok(api_key=server.api_key, base_url=server.base_url, model="grok-4.3", **kwargs)


# -- the tool forms LangChain users pass -------------------------------------------------------


class GetWeather(BaseModel):
    """Get the weather for a city."""

    city: str = Field(description="City name")
    unit: Literal["C", "F"] = "C"


class GetWeatherV1(BaseModelV1):
    """Get the weather for a city."""

    city: str


class GetWeatherDict(TypedDict):
    """Get the weather for a city."""

    city: Annotated[str, ..., "City name"]


@tool
def get_weather(city: str) -> str:
    """Get the weather for a city."""
    return f"sunny in {city}"


def plain_get_weather(city: str) -> str:
    """Get the weather for a city.

    Args:
        city: City name.
    """
    return city


JSON_SCHEMA = {
    "title": "GetWeather",
    "description": "Get the weather for a city.",
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
OPENAI_DICT = {
    "type": "function",
    "function": {
        "name": "GetWeather",
        "description": "Get the weather for a city.",
        "parameters": JSON_SCHEMA,
    },
}


def _runnable_tool() -> BaseTool:
    from langchain_core._api.beta_decorator import LangChainBetaWarning
    from langchain_core.runnables import RunnableLambda

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LangChainBetaWarning)  # as_tool is beta in core
        return RunnableLambda(str).as_tool(
            name="GetWeather", description="Get the weather for a city.", arg_types={"city": str}
        )


@pytest.mark.parametrize(
    "form",
    [
        GetWeather,
        GetWeatherV1,
        GetWeatherDict,
        get_weather,
        plain_get_weather,
        JSON_SCHEMA,
        OPENAI_DICT,
        _runnable_tool(),
    ],
    ids=[
        "pydantic",
        "pydantic_v1",
        "typeddict",
        "tool_decorator",
        "function",
        "json_schema",
        "openai_dict",
        "runnable_as_tool",
    ],
)
def test_every_tool_form_binds_and_round_trips(fake_xai_server: FakeXAIServer, form: Any) -> None:
    bound = grok(fake_xai_server).bind_tools([form], tool_choice="any")
    reply = bound.invoke("weather in Oslo?")
    sent = fake_xai_server.requests[0].json
    (spec,) = sent["tools"]
    assert spec["type"] == "function"
    assert spec["function"]["name"].lower().replace("_", "").startswith(("getweather", "plain"))
    assert "city" in spec["function"]["parameters"]["properties"]
    assert sent["tool_choice"] == "required"
    assert isinstance(reply, AIMessage)
    (call,) = reply.tool_calls
    assert call["name"] == spec["function"]["name"]
    assert isinstance(call["args"]["city"], str)


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("any", "required"),
        ("GetWeather", {"type": "function", "function": {"name": "GetWeather"}}),
        (True, {"type": "function", "function": {"name": "GetWeather"}}),
        (
            {"type": "function", "function": {"name": "GetWeather"}},
            {"type": "function", "function": {"name": "GetWeather"}},
        ),
    ],
)
def test_tool_choice_forms_on_the_wire(
    fake_xai_server: FakeXAIServer, choice: Any, wire: Any
) -> None:
    grok(fake_xai_server).bind_tools([GetWeather], tool_choice=choice).invoke("x")
    assert fake_xai_server.requests[0].json["tool_choice"] == wire


def test_parallel_tool_calls_and_strict_pass_through(fake_xai_server: FakeXAIServer) -> None:
    grok(fake_xai_server).bind_tools([GetWeather], parallel_tool_calls=False, strict=True).invoke(
        "x"
    )
    sent = fake_xai_server.requests[0].json
    assert sent["parallel_tool_calls"] is False
    assert sent["tools"][0]["function"]["strict"] is True
    assert "tool_choice" not in sent


def test_tool_binding_errors_name_the_problem() -> None:
    tools = format_tools([GetWeather, get_weather])
    with pytest.raises(ValueError, match="names no bound tool"):
        format_tool_choice("lookup", tools)
    with pytest.raises(ValueError, match="exactly one bound tool"):
        format_tool_choice(True, tools)
    with pytest.raises(ValueError, match=r"tool 1 .*cannot be used as a tool"):
        format_tools([GetWeather, 42])  # type: ignore[list-item]
    # Server-side tools pass through under the names the Responses API takes.
    assert format_tools([{"type": "code_execution"}, {"type": "x_search"}]) == [
        {"type": "code_interpreter"},
        {"type": "x_search"},
    ]


# -- tool calls coming back ------------------------------------------------------------------


def test_parallel_unicode_tool_calls_invoke_and_stream(fake_xai_server: FakeXAIServer) -> None:
    calls = [
        {"name": "get_weather", "arguments": {"city": "東京"}},
        {"name": "get_weather", "arguments": {"city": "Zürich"}},
    ]
    fake_xai_server.script(ScriptedReply(tool_calls=calls), ScriptedReply(tool_calls=calls))
    model = grok(fake_xai_server).bind_tools([get_weather])
    reply = model.invoke("x")
    assert [c["args"] for c in reply.tool_calls] == [{"city": "東京"}, {"city": "Zürich"}]
    merged: Any = None
    for chunk in model.stream("x"):
        merged = chunk if merged is None else merged + chunk
    assert isinstance(merged, AIMessageChunk)
    assert [c["args"] for c in merged.tool_calls] == [{"city": "東京"}, {"city": "Zürich"}]
    assert [c["id"] for c in merged.tool_calls] == [c["id"] for c in reply.tool_calls]
    assert merged.response_metadata["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("arguments", ["not json", '{"city" "Oslo"}', "[1, 2]"])
def test_invalid_arguments_become_invalid_tool_calls_and_never_raise(
    fake_xai_server: FakeXAIServer, arguments: str
) -> None:
    fake_xai_server.script(
        ScriptedReply(tool_calls=[{"name": "get_weather", "arguments": arguments}], repeat=2)
    )
    model = grok(fake_xai_server).bind_tools([get_weather])
    reply = model.invoke("x")
    assert reply.tool_calls == []
    assert reply.invalid_tool_calls[0]["args"] == arguments
    merged: Any = None
    for chunk in model.stream("x"):
        merged = chunk if merged is None else merged + chunk
    assert merged.tool_calls == []
    assert merged.invalid_tool_calls[0]["args"] == arguments


# -- structured output -------------------------------------------------------------------------


class Person(BaseModel):
    """A person."""

    name: str = Field(min_length=1)
    age: int = Field(ge=0, le=150)
    email: str | None = None


class PersonDict(TypedDict):
    """A person."""

    name: str
    age: int


PERSON_SCHEMA = {
    "title": "Person",
    "description": "A person.",
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}
GOOD_JSON = '{"name": "Ada", "age": 36}'


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "schema", [Person, PersonDict, PERSON_SCHEMA], ids=["pydantic", "typeddict", "json_schema"]
)
def test_structured_output_every_method_and_schema_kind(
    fake_xai_server: FakeXAIServer, method: Method, schema: Any
) -> None:
    if method == "json_mode":  # no schema on the wire: the reply's shape comes from the prompt
        fake_xai_server.script(text_reply(GOOD_JSON), text_reply(GOOD_JSON))
    structured = grok(fake_xai_server).with_structured_output(schema, method=method)
    result = structured.invoke("Who is Ada?")
    streamed = list(structured.stream("Who is Ada?"))
    for value in (result, streamed[-1]):
        if schema is Person:
            assert isinstance(value, Person)
        else:
            assert isinstance(value, dict)
            assert isinstance(value["name"], str)
            assert isinstance(value["age"], int)
    sent = fake_xai_server.requests[0].json
    name = "PersonDict" if schema is PersonDict else "Person"
    if method == "json_schema":
        spec = sent["response_format"]
        assert spec["type"] == "json_schema"
        assert spec["json_schema"]["name"] == name
        assert spec["json_schema"]["schema"]["properties"].keys() >= {"name", "age"}
    elif method == "function_calling":
        assert sent["tool_choice"] == {"type": "function", "function": {"name": name}}
        assert sent["parallel_tool_calls"] is False
    else:
        assert sent["response_format"] == {"type": "json_object"}


def test_structured_stream_is_progressive(fake_xai_server: FakeXAIServer) -> None:
    fake_xai_server.script(text_reply('{"name": "Ada Lovelace", "age": 36}'))
    parts = list(grok(fake_xai_server).with_structured_output(PERSON_SCHEMA).stream("x"))
    assert len(parts) > 1
    assert parts[0] != parts[-1]
    assert parts[-1] == {"name": "Ada Lovelace", "age": 36}


@pytest.mark.parametrize("method", METHODS)
def test_include_raw_never_raises_on_a_bad_reply(
    fake_xai_server: FakeXAIServer, method: Method
) -> None:
    if method == "function_calling":
        bad: ScriptedReply = ScriptedReply(tool_calls=[{"name": "Person", "arguments": "{oops"}])
    else:
        bad = text_reply("I cannot answer in JSON, sorry.")
    fake_xai_server.script(bad, bad)
    structured = grok(fake_xai_server).with_structured_output(
        Person, method=method, include_raw=True
    )
    out = structured.invoke("x")
    assert out["parsed"] is None
    assert out["parsing_error"] is not None
    assert isinstance(out["raw"], AIMessage)
    merged: dict[str, Any] = {}
    for part in structured.stream("x"):  # streamed as partial updates of the three keys
        merged.update(part)
    assert merged["parsed"] is None
    assert merged["parsing_error"] is not None


def test_include_raw_on_a_good_reply(fake_xai_server: FakeXAIServer) -> None:
    out = grok(fake_xai_server).with_structured_output(Person, include_raw=True).invoke("x")
    assert isinstance(out["parsed"], Person)
    assert out["parsing_error"] is None


def test_structured_output_rejects_bad_arguments() -> None:
    model = ChatGrok(api_key="k")
    with pytest.raises(ValueError, match="method must be one of"):
        model.with_structured_output(Person, method="xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="schema is required"):
        model.with_structured_output(None)
    with pytest.raises(ValueError, match="Unexpected arguments"):
        model.with_structured_output(Person, temperature=0)


# -- a scripted multi-tool agent loop, sync and async -------------------------------------------


@tool
def lookup_city(name: str) -> str:
    """Find a city's country."""
    return {"Paris": "France", "Rome": "Italy"}.get(name, "unknown")


@tool
def get_temperature(city: str) -> float:
    """Current temperature in Celsius."""
    return {"Paris": 18.0, "Rome": 24.0}.get(city, 0.0)


@tool
def to_fahrenheit(celsius: float) -> float:
    """Convert Celsius to Fahrenheit."""
    return round(celsius * 9 / 5 + 32, 1)


AGENT_SCRIPT = (
    ScriptedReply(
        tool_calls=[
            {"name": "lookup_city", "arguments": {"name": "Paris"}},
            {"name": "lookup_city", "arguments": {"name": "Rome"}},
        ]
    ),
    ScriptedReply(
        tool_calls=[
            {"name": "get_temperature", "arguments": {"city": "Paris"}},
            {"name": "get_temperature", "arguments": {"city": "Rome"}},
        ]
    ),
    ScriptedReply(tool_calls=[{"name": "to_fahrenheit", "arguments": {"celsius": 24.0}}]),
    text_reply("Rome, Italy is warmer: 75.2°F."),
)


def check_agent_requests(server: FakeXAIServer) -> None:
    """Every request the agent sent must be one the real API accepts."""
    requests = server.requests
    assert len(requests) == 4
    for turn, request in enumerate(requests):
        messages = request.json["messages"]
        assert {t["function"]["name"] for t in request.json["tools"]} == {
            "lookup_city",
            "get_temperature",
            "to_fahrenheit",
        }
        pending: set[str] = set()
        for message in messages:
            assert message["role"] in {"system", "user", "assistant", "tool"}
            assert message.get("content") is not None
            if message["role"] == "assistant":
                pending = {c["id"] for c in message.get("tool_calls", [])}
                for call in message.get("tool_calls", []):
                    json.loads(call["function"]["arguments"])
            if message["role"] == "tool":
                assert message["tool_call_id"] in pending
                pending.discard(message["tool_call_id"])
        assert not pending, f"turn {turn}: tool calls without results"
        tool_results = [m for m in messages if m["role"] == "tool"]
        assert len(tool_results) == [0, 2, 4, 5][turn]


def _agent(model: ChatGrok) -> Any:
    from langchain.agents import create_agent

    return create_agent(
        model,
        tools=[lookup_city, get_temperature, to_fahrenheit],
        system_prompt="Use the tools.",
    )


def test_agent_loop_three_tools_four_turns(fake_xai_server: FakeXAIServer) -> None:
    fake_xai_server.script(*AGENT_SCRIPT)
    result = _agent(grok(fake_xai_server)).invoke(
        {"messages": [HumanMessage("Which is warmer, Paris or Rome, in Fahrenheit?")]}
    )
    check_agent_requests(fake_xai_server)
    final = result["messages"][-1]
    assert final.content == "Rome, Italy is warmer: 75.2°F."
    tool_outputs = [m.content for m in result["messages"] if isinstance(m, ToolMessage)]
    assert tool_outputs == ["France", "Italy", "18.0", "24.0", "75.2"]


def test_agent_loop_async_streaming(fake_xai_server: FakeXAIServer) -> None:
    fake_xai_server.script(*AGENT_SCRIPT)
    agent = _agent(grok(fake_xai_server, streaming=True))

    async def run() -> list[Any]:
        question = {"messages": [HumanMessage("Which is warmer, Paris or Rome, in Fahrenheit?")]}
        return [step async for step in agent.astream(question, stream_mode="updates")]

    steps = asyncio.run(run())
    check_agent_requests(fake_xai_server)
    assert all(r.json.get("stream") is True for r in fake_xai_server.requests)
    nodes = [next(iter(s)) for s in steps]
    turns = [n for i, n in enumerate(nodes) if i == 0 or nodes[i - 1] != n]
    assert turns == ["model", "tools", "model", "tools", "model", "tools", "model"]
