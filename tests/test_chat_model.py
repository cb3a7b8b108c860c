"""ChatGrok end to end through the emulator: what LangChain users meet.

Each anchors.md pain point that belongs to the ChatGrok issue has a test here (named in its
docstring) that fails on the incumbent's bug.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.exceptions import ModelRateLimitError
from langchain_core.load import dumpd
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from pydantic import ValidationError

from langchain_grok import ChatGrok
from langchain_grok._outputs import usage_to_metadata
from langchain_grok.errors import RateLimitError
from langchain_grok.testing import FakeXAIServer, ScriptedReply, error_reply, text_reply

SECRET = "xai-fake-key"  # the emulator's key; asserted absent wherever a secret must not be


def grok(server: FakeXAIServer, **kwargs: Any) -> ChatGrok:
    # These tests pin the Chat Completions path; test_responses_e2e.py covers the other one.
    kwargs.setdefault("model", "grok-4.3")
    kwargs.setdefault("use_responses_api", False)
    return ChatGrok(api_key=server.api_key, base_url=server.base_url, **kwargs)


class TokenCounter(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.chunks: list[Any] = []

    def on_llm_new_token(self, token: Any, *, chunk: Any = None, **kwargs: Any) -> None:
        self.tokens.append(token)
        self.chunks.append(chunk)


# -- construction and configuration ------------------------------------------------------------


def test_default_model_is_current_and_retired_names_still_work(
    fake_xai_server: FakeXAIServer,
) -> None:
    """Pain point 14: ChatXAI defaulted to a retired model with no profile."""
    model = ChatGrok(api_key="k")
    assert model.model_name == "grok-4.3"
    assert model.profile is not None
    assert model.profile["reasoning_effort_levels"] == ["none", "low", "medium", "high"]
    # A retired slug is accepted; the reply reports the model that actually served it.
    fake_xai_server.script(text_reply("hi", model="grok-4.3"))
    reply = grok(fake_xai_server, model="grok-4-fast-reasoning").invoke("x")
    assert fake_xai_server.requests[0].json["model"] == "grok-4-fast-reasoning"
    assert reply.response_metadata["model_name"] == "grok-4.3"


def test_missing_key_fails_at_first_call_naming_the_env_var(
    fake_xai_server: FakeXAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XAI_API_KEY", raising=False)
    model = ChatGrok(base_url=fake_xai_server.base_url)  # construction must not fail
    with pytest.raises(ValueError, match="XAI_API_KEY"):
        model.invoke("hi")
    assert fake_xai_server.requests == []


def test_env_vars_configure_the_model(fake_xai_env: FakeXAIServer) -> None:
    assert ChatGrok().invoke("from env").content == "You said: from env"


def test_aliases_and_unknown_kwargs(fake_xai_server: FakeXAIServer) -> None:
    model = ChatGrok(
        model_name="grok-4.5",
        xai_api_key=fake_xai_server.api_key,
        xai_api_base=fake_xai_server.base_url,
        max_completion_tokens=50,
        user="user-7",  # unknown to ChatGrok: goes to model_kwargs
        timeout=30,
        use_responses_api=False,
    )
    assert model.model_kwargs == {"user": "user-7"}
    model.invoke("hi")
    body = fake_xai_server.requests[0].json
    assert body["model"] == "grok-4.5"
    assert body["max_completion_tokens"] == 50
    assert "max_tokens" not in body
    assert body["user"] == "user-7"


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"temperature": 5}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_retries": -1}, "max_retries"),
        ({"n": 2, "streaming": True}, "n > 1"),
        ({"reasoning_effort": "xhigh"}, "reasoning_effort"),
        ({"model": "grok-4.20-0309-reasoning", "reasoning_effort": "low"}, "reasoning_effort"),
        ({"service_tier": "gold"}, "service_tier"),
        ({"model_kwargs": {"temperature": 9}}, "temperature"),
    ],
)
def test_bad_constructor_arguments_name_the_parameter(kwargs: dict[str, Any], name: str) -> None:
    """Pain point 5: a reasoning_effort the model rejects fails here, not as a 400."""
    with pytest.raises((ValueError, ValidationError), match=name):
        ChatGrok(api_key="k", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"temperature": 3.0}, "temperature"),
        ({"reasoning_effort": "maximal"}, "reasoning_effort"),
        ({"top_logprobs": 20}, "top_logprobs"),
        ({"search_parameters": {"mode": "on"}}, "search_parameters"),
    ],
)
def test_bad_call_arguments_fail_before_any_request(
    fake_xai_server: FakeXAIServer, kwargs: dict[str, Any], name: str
) -> None:
    with pytest.raises(ValueError, match=name):
        grok(fake_xai_server).invoke("hi", **kwargs)
    with pytest.raises(ValueError, match=name):
        list(grok(fake_xai_server).stream("hi", **kwargs))
    assert fake_xai_server.requests == []


def test_stop_is_dropped_once_with_a_warning_for_reasoning_models(
    fake_xai_server: FakeXAIServer,
) -> None:
    """Pain point 4: the emulator, like xAI, answers `stop` on a reasoning model with a 400."""
    model = grok(fake_xai_server, stop=["END"], presence_penalty=0.5)
    with pytest.warns(UserWarning, match="rejects stop, presence_penalty"):
        model.invoke("one")
    model.invoke("two", stop=["X"])  # no second warning for the same instance
    for request in fake_xai_server.requests:
        assert "stop" not in request.json
        assert "presence_penalty" not in request.json
    non_reasoning = grok(fake_xai_server, model="grok-4.20-0309-non-reasoning")
    non_reasoning.invoke("three", stop=["END"])
    assert fake_xai_server.requests[-1].json["stop"] == ["END"]


def test_per_call_overrides_and_conversation_id(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server, conversation_id="conv-1", temperature=0.1)
    model.invoke("a")
    model.invoke("b", temperature=0.7, model="grok-4.5", conversation_id="conv-2")
    first, second = fake_xai_server.requests
    assert first.headers["x-grok-conv-id"] == "conv-1"
    assert first.json["temperature"] == 0.1
    assert second.headers["x-grok-conv-id"] == "conv-2"
    assert (second.json["temperature"], second.json["model"]) == (0.7, "grok-4.5")
    assert "conversation_id" not in second.json
    assert model._get_ls_params(model="grok-4.5")["ls_model_name"] == "grok-4.5"
    assert model._get_ls_params()["ls_provider"] == "xai"


# -- output ----------------------------------------------------------------------------------


def test_invoke_metadata_usage_and_reasoning(fake_xai_server: FakeXAIServer) -> None:
    """Pain points 3, 6, 15: reasoning surfaced; output counts reasoning; totals add up."""
    reply = grok(fake_xai_server).invoke("what is up")
    assert reply.content == "You said: what is up"
    assert reply.additional_kwargs["reasoning_content"]
    assert reply.content_blocks[0]["type"] == "reasoning"
    usage = reply.usage_metadata
    assert usage is not None
    raw = fake_xai_server.requests[0]
    assert raw.json["model"] == "grok-4.3"
    reasoning = usage["output_token_details"]["reasoning"]
    assert reasoning > 0
    assert usage["output_tokens"] > reasoning
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    meta = reply.response_metadata
    assert meta["model_provider"] == "xai"
    assert meta["finish_reason"] == "stop"
    assert isinstance(meta["cost_in_usd_ticks"], int)
    assert meta["cost_usd"] == meta["cost_in_usd_ticks"] / 1e10
    assert meta["id"] == reply.id


def test_stream_usage_once_cost_and_last_chunk(fake_xai_server: FakeXAIServer) -> None:
    """Pain point 11: usage is requested and reported exactly once; cost is not lost."""
    chunks = list(grok(fake_xai_server).stream("count the words here"))
    assert fake_xai_server.requests[0].json["stream_options"] == {"include_usage": True}
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    assert [c.chunk_position for c in chunks].count("last") == 1
    assert chunks[-1].chunk_position == "last"
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert isinstance(merged, AIMessageChunk)
    assert merged.content == "You said: count the words here"
    assert merged.usage_metadata is not None
    assert merged.usage_metadata["total_tokens"] == (
        merged.usage_metadata["input_tokens"] + merged.usage_metadata["output_tokens"]
    )
    assert merged.response_metadata["cost_in_usd_ticks"] > 0
    assert merged.response_metadata["finish_reason"] == "stop"


def test_stream_usage_can_be_turned_off(fake_xai_server: FakeXAIServer) -> None:
    chunks = list(grok(fake_xai_server, stream_usage=False).stream("x"))
    assert "stream_options" not in fake_xai_server.requests[0].json
    assert not any(c.usage_metadata for c in chunks)


def test_on_llm_new_token_fires_once_per_token_chunk(fake_xai_server: FakeXAIServer) -> None:
    counter = TokenCounter()
    chunks = list(grok(fake_xai_server).stream("a b c", config={"callbacks": [counter]}))
    text_chunks = [c for c in chunks if c.content]
    assert [t for t in counter.tokens if t] == [c.content for c in text_chunks]
    assert len(counter.tokens) == len(chunks)


def test_streaming_true_invoke_streams_through_callbacks(fake_xai_server: FakeXAIServer) -> None:
    """Pain point 12: `streaming=True` must stream under invoke (agents) and still merge."""
    counter = TokenCounter()
    reply = grok(fake_xai_server, streaming=True).invoke(
        "one two three", config={"callbacks": [counter]}
    )
    assert fake_xai_server.requests[0].json["stream"] is True
    assert reply.content == "You said: one two three"
    assert "".join(counter.tokens) == reply.content
    assert reply.usage_metadata is not None


async def test_astream_events_and_async_paths(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server)
    reply = await model.ainvoke("async hi")
    assert reply.content == "You said: async hi"
    chunks = [c async for c in model.astream("stream hi")]
    assert "".join(str(c.content) for c in chunks) == "You said: stream hi"
    events = [e async for e in model.astream_events("events hi", version="v2")]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "on_chat_model_start"
    assert kinds[-1] == "on_chat_model_end"
    streamed = "".join(
        str(e["data"]["chunk"].content) for e in events if e["event"] == "on_chat_model_stream"
    )
    assert streamed == "You said: events hi"
    batch = await model.abatch(["x", "y"])
    assert [m.content for m in batch] == ["You said: x", "You said: y"]
    assert SECRET not in repr(events)


def test_same_model_across_event_loops(fake_xai_server: FakeXAIServer) -> None:
    """Two `asyncio.run` calls on one model: the first loop's connections must not be reused
    (httpx raises an untyped "Event loop is closed" RuntimeError when they are)."""
    model = grok(fake_xai_server)
    for text in ("first", "second", "third"):
        assert asyncio.run(model.ainvoke(text)).content == f"You said: {text}"
    assert len({r.connection_id for r in fake_xai_server.requests}) == 3


def test_lcel_chain(fake_xai_server: FakeXAIServer) -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "Be brief."), ("human", "{q}")])
    chain = prompt | grok(fake_xai_server) | StrOutputParser()
    assert chain.invoke({"q": "why?"}) == "You said: why?"
    assert fake_xai_server.requests[0].json["messages"][0] == {
        "role": "system",
        "content": "Be brief.",
    }


def test_output_version_v1_content_blocks(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server, output_version="v1")
    reply = model.invoke("blocks")
    assert isinstance(reply.content, list)
    assert [b["type"] for b in reply.content if isinstance(b, dict)] == ["reasoning", "text"]
    streamed = list(model.stream("blocks"))
    merged = streamed[0]
    for chunk in streamed[1:]:
        merged = merged + chunk
    assert [b["type"] for b in merged.content_blocks] == ["reasoning", "text"]


# -- history and tools -----------------------------------------------------------------------


def test_tool_call_history_round_trip(fake_xai_server: FakeXAIServer) -> None:
    """Pain point 1: the emulator rejects `content: null`, as xAI does, with a 400."""
    history = [
        HumanMessage("weather in Paris?"),
        AIMessage("", tool_calls=[{"name": "weather", "args": {"city": "Paris"}, "id": "call_1"}]),
        ToolMessage("sunny", tool_call_id="call_1"),
        AIMessage("It is sunny."),
        HumanMessage("and in Rome?"),
        AIMessage([], tool_calls=[{"name": "weather", "args": {"city": "Roma"}, "id": "call_2"}]),
        ToolMessage("error: timeout", tool_call_id="call_2", status="error"),
    ]
    reply = grok(fake_xai_server).invoke(history)
    assert reply.content == "Tool result: Error: error: timeout"
    sent = fake_xai_server.requests[0].json["messages"]
    assert sent[1]["content"] == ""
    assert sent[5]["content"] == ""
    assert sent[6] == {"role": "tool", "tool_call_id": "call_2", "content": "Error: error: timeout"}


def test_forced_tool_call_and_structured_output(fake_xai_server: FakeXAIServer) -> None:
    from pydantic import BaseModel, Field

    class Weather(BaseModel):
        """Weather report."""

        city: str = Field(min_length=2)
        celsius: int = Field(ge=-50, le=60)

    model = grok(fake_xai_server)
    call = model.bind_tools([Weather], tool_choice="Weather").invoke("Paris?")
    assert call.tool_calls[0]["name"] == "Weather"
    Weather.model_validate(call.tool_calls[0]["args"])
    assert fake_xai_server.requests[-1].json["tool_choice"] == {
        "type": "function",
        "function": {"name": "Weather"},
    }
    methods: tuple[Literal["json_schema", "function_calling", "json_mode"], ...] = (
        "json_schema",
        "function_calling",
        "json_mode",
    )
    for method in methods:
        structured = model.with_structured_output(Weather, method=method)
        if method == "json_mode":
            fake_xai_server.script(text_reply('{"city": "Oslo", "celsius": 3}'))
        result = structured.invoke("weather in Oslo?")
        assert isinstance(result, Weather), method
    raw = model.with_structured_output(Weather, include_raw=True)
    fake_xai_server.script(text_reply("not json at all"))
    out = raw.invoke("x")
    assert out["parsed"] is None
    assert out["parsing_error"] is not None
    assert isinstance(out["raw"], AIMessage)


def test_images_reach_the_wire(fake_xai_server: FakeXAIServer) -> None:
    message = HumanMessage(
        [
            {"type": "text", "text": "describe"},
            {"type": "image", "base64": "iVBORw0KGgo=", "mime_type": "image/png"},
        ]
    )
    grok(fake_xai_server).invoke([message])
    parts = fake_xai_server.requests[0].json["messages"][0]["content"]
    assert parts[1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
    }


# -- errors and secrets -----------------------------------------------------------------------


def test_server_errors_surface_typed(fake_xai_server: FakeXAIServer) -> None:
    fake_xai_server.script(error_reply(429, "all available credits used", repeat=3))
    with pytest.raises(RateLimitError) as info:
        grok(fake_xai_server).invoke("x")
    assert isinstance(info.value, ModelRateLimitError)
    assert len(fake_xai_server.requests) == 1


def test_broken_stream_raises_through_chat_model(fake_xai_server: FakeXAIServer) -> None:
    fake_xai_server.script(ScriptedReply(content="a b c d e f", cut_after_events=3))
    seen: list[Any] = []
    with pytest.raises(Exception, match=r"Connection error|ended before") as info:
        seen.extend(grok(fake_xai_server).stream("x"))
    assert "APIConnectionError" in type(info.value).__name__
    assert len(seen) == 3


def test_key_never_leaks(fake_xai_server: FakeXAIServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    model = grok(fake_xai_server)
    fake_xai_server.script(error_reply(503, "busy", headers={"retry-after-ms": "1"}, repeat=3))
    with pytest.raises(Exception) as info:
        model.invoke("x")
    texts = [
        repr(model),
        str(model),
        json.dumps(dumpd(model)),
        model.model_dump_json(),
        repr(model.model_dump()),
        repr(model._get_ls_params()),
        repr(model._identifying_params),
        str(info.value),
        repr(info.value),
        repr(model.client),
        "\n".join(r.getMessage() for r in caplog.records),
    ]
    for text in texts:
        assert SECRET not in text


# -- properties --------------------------------------------------------------------------------


@given(
    prompt=st.integers(0, 10**7),
    completion=st.integers(0, 10**7),
    reasoning=st.integers(0, 10**7),
    cached=st.integers(0, 10**7),
    includes_reasoning=st.booleans(),
)
def test_usage_normaliser_invariants(
    prompt: int, completion: int, reasoning: int, cached: int, includes_reasoning: bool
) -> None:
    """Pain point 15: never negative, never double counted, totals always add up."""
    cached = min(cached, prompt)
    if includes_reasoning:
        completion += reasoning
    total = prompt + completion + (0 if includes_reasoning else reasoning)
    usage = usage_to_metadata(
        {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": total,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        }
    )
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] == total
    assert usage["output_tokens"] >= usage["output_token_details"]["reasoning"] >= 0
    assert usage["input_token_details"]["cache_read"] <= usage["input_tokens"]


def test_rate_limiter_is_consulted_before_each_request(fake_xai_server: FakeXAIServer) -> None:
    from langchain_core.rate_limiters import BaseRateLimiter

    class CountingLimiter(BaseRateLimiter):
        def __init__(self) -> None:
            self.calls = 0

        def acquire(self, *, blocking: bool = True) -> bool:
            self.calls += 1
            return True

        async def aacquire(self, *, blocking: bool = True) -> bool:
            self.calls += 1
            return True

    limiter = CountingLimiter()
    model = grok(fake_xai_server, rate_limiter=limiter)
    model.invoke("a")
    list(model.stream("b"))
    asyncio.run(model.ainvoke("c"))
    assert limiter.calls == 3
    assert len(fake_xai_server.requests) == 3
