"""ChatGrok with deferred completions, end to end through the emulator (sync and async)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, AIMessageChunk
from pydantic import BaseModel, Field, ValidationError

from langchain_grok import ChatGrok
from langchain_grok.errors import DeferredTimeoutError, NotFoundError
from langchain_grok.testing import FakeXAIServer, text_reply, tool_call_reply

POLL = "/v1/chat/deferred-completion/"
MODES = ["sync", "async"]


class GetWeather(BaseModel):
    """Get the weather for a city."""

    city: str = Field(description="City name")


def grok(server: FakeXAIServer, **kwargs: Any) -> ChatGrok:
    kwargs.setdefault("model", "grok-4.3")
    kwargs.setdefault("deferred_poll_interval", 0.01)
    return ChatGrok(api_key=server.api_key, base_url=server.base_url, **kwargs)


def ask(runnable: Any, mode: str, text: str, **kwargs: Any) -> Any:
    if mode == "sync":
        return runnable.invoke(text, **kwargs)
    return asyncio.run(runnable.ainvoke(text, **kwargs))


def stream(runnable: Any, mode: str, text: str, **kwargs: Any) -> list[Any]:
    if mode == "sync":
        return list(runnable.stream(text, **kwargs))

    async def collect() -> list[Any]:
        return [chunk async for chunk in runnable.astream(text, **kwargs)]

    return asyncio.run(collect())


def finished(server: FakeXAIServer) -> list[Any]:
    return server.wait_for_requests(len(server.requests))


def submissions(server: FakeXAIServer) -> list[Any]:
    return [r for r in finished(server) if r.method == "POST"]


def polls(server: FakeXAIServer) -> list[Any]:
    return [r for r in finished(server) if r.path.startswith(POLL)]


def merge(chunks: list[Any]) -> AIMessageChunk:
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert isinstance(merged, AIMessageChunk)
    return merged


# -- invoke / ainvoke --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_deferred_call_returns_the_same_message_as_a_direct_one(mode: str) -> None:
    """Usage, cost, reasoning and tool calls survive: the same conversion as a direct call."""
    with FakeXAIServer(deferred_polls=1) as server:
        reply = tool_call_reply("GetWeather", {"city": "Paris"})
        server.script(reply, reply)
        model = grok(server).bind_tools([GetWeather])
        deferred = ask(model, mode, "weather in Paris?", deferred=True)
        direct = ask(model, mode, "weather in Paris?", use_responses_api=False)
        assert isinstance(deferred, AIMessage)
        assert deferred.tool_calls == direct.tool_calls
        assert deferred.tool_calls[0]["name"] == "GetWeather"
        assert deferred.tool_calls[0]["args"] == {"city": "Paris"}
        assert deferred.usage_metadata == direct.usage_metadata
        usage = deferred.usage_metadata
        assert usage is not None
        assert usage["output_token_details"]["reasoning"] > 0
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
        assert deferred.response_metadata["cost_usd"] > 0
        assert deferred.response_metadata["finish_reason"] == "tool_calls"
        assert deferred.additional_kwargs["reasoning_content"]
        # The deferred call went to Chat Completions (the default would be the Responses API).
        submitted, direct_request = submissions(server)
        assert submitted.path == direct_request.path == "/v1/chat/completions"
        assert submitted.json["deferred"] is True
        assert submitted.json["tools"][0]["function"]["name"] == "GetWeather"
        assert "deferred" not in direct_request.json
        assert [r.status for r in polls(server)] == [202, 200]


@pytest.mark.parametrize("mode", MODES)
def test_the_field_sets_the_default_and_a_call_can_turn_it_off(mode: str) -> None:
    with FakeXAIServer() as server:
        model = grok(server, deferred=True)
        assert ask(model, mode, "first").content == "You said: first"
        assert ask(model, mode, "second", deferred=False).content == "You said: second"
        first, second = submissions(server)
        assert first.path == "/v1/chat/completions"
        assert first.json["deferred"] is True
        # Not deferred: back to the default API, and `deferred` is never sent there.
        assert second.path == "/v1/responses"
        assert "deferred" not in second.json
        assert len(polls(server)) == 1


@pytest.mark.parametrize("mode", MODES)
def test_conversation_id_goes_on_the_submission(mode: str) -> None:
    with FakeXAIServer() as server:
        ask(grok(server, conversation_id="conv-1"), mode, "hi", deferred=True)
        assert submissions(server)[0].headers["x-grok-conv-id"] == "conv-1"
        assert "x-grok-conv-id" not in polls(server)[0].headers


# -- stream / astream --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_streaming_a_deferred_call_yields_the_finished_answer_as_stream_chunks(mode: str) -> None:
    with FakeXAIServer(deferred_polls=2) as server:
        server.script(
            tool_call_reply("GetWeather", {"city": "Oslo"}, content="Checking."),
            tool_call_reply("GetWeather", {"city": "Oslo"}, content="Checking."),
        )
        model = grok(server).bind_tools([GetWeather])
        chunks = stream(model, mode, "weather in Oslo?", deferred=True)
        invoked = ask(model, mode, "weather in Oslo?", deferred=True)
        assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
        assert chunks[-1].chunk_position == "last"
        assert [c.usage_metadata is not None for c in chunks].count(True) == 1  # usage once
        merged = merge(chunks)
        assert merged.content == invoked.content == "Checking."
        assert merged.tool_calls == invoked.tool_calls
        assert merged.usage_metadata == invoked.usage_metadata
        assert merged.response_metadata["cost_usd"] == invoked.response_metadata["cost_usd"]
        assert merged.additional_kwargs["reasoning_content"]
        for submitted in submissions(server):
            assert submitted.json["deferred"] is True
            assert "stream" not in submitted.json
            assert "stream_options" not in submitted.json
        assert [r.status for r in polls(server)] == [202, 202, 200] * 2


class TokenCounter(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        self.tokens.append(token)


@pytest.mark.parametrize("mode", MODES)
def test_streaming_true_with_deferred_polls_and_reports_the_answer_as_tokens(mode: str) -> None:
    with FakeXAIServer() as server:
        server.script(text_reply("all at once"))
        counter = TokenCounter()
        model = grok(server, streaming=True, deferred=True, callbacks=[counter])
        assert ask(model, mode, "hi").content == "all at once"
        assert "".join(counter.tokens) == "all at once"
        assert "stream" not in submissions(server)[0].json


# -- timeouts and resuming ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_deadline_raises_the_typed_timeout_and_the_client_resumes_from_its_id(
    mode: str,
) -> None:
    with FakeXAIServer(deferred_polls=5) as server:
        model = grok(server)
        with pytest.raises(DeferredTimeoutError) as caught:
            ask(model, mode, "slow one", deferred=True, deferred_timeout=0.02)
        request_id = caught.value.deferred_request_id
        assert polls(server)[0].path == POLL + request_id
        if mode == "sync":
            result = model.client.wait_deferred_completion(request_id, poll_interval=0.01)
        else:
            result = asyncio.run(
                model.async_client.wait_deferred_completion(request_id, poll_interval=0.01)
            )
        assert result["choices"][0]["message"]["content"] == "You said: slow one"
        with pytest.raises(NotFoundError, match=request_id):
            model.client.get_deferred_completion(request_id)


# -- what fails before any request -------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_deferred_is_never_sent_to_the_responses_api(
    fake_xai_server: FakeXAIServer, mode: str
) -> None:
    model = grok(fake_xai_server)
    with pytest.raises(ValueError, match="only on Chat Completions"):
        ask(model, mode, "x", deferred=True, use_responses_api=True)
    with pytest.raises(ValueError, match="only on Chat Completions"):
        ask(grok(fake_xai_server, use_responses_api=True, deferred=True), mode, "x")
    with pytest.raises(ValueError, match="server-side tools"):
        ask(model.bind_tools([{"type": "web_search"}]), mode, "x", deferred=True)
    with pytest.raises(ValueError, match="only on Chat Completions"):
        stream(model, mode, "x", deferred=True, use_responses_api=True)
    assert fake_xai_server.requests == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"deferred_poll_interval": 0}, "deferred_poll_interval"),
        ({"deferred_poll_interval": "1"}, "deferred_poll_interval"),
        ({"deferred_timeout": -1}, "deferred_timeout"),
        ({"deferred_timeout": float("inf")}, "deferred_timeout"),
        ({"deferred": "yes"}, "deferred must be True or False"),
    ],
)
def test_bad_per_call_settings_fail_before_any_request_naming_them(
    fake_xai_server: FakeXAIServer, mode: str, options: dict[str, Any], named: str
) -> None:
    call_options = {"deferred": True, **options}
    with pytest.raises(ValueError, match=named):
        ask(grok(fake_xai_server), mode, "x", **call_options)
    with pytest.raises(ValueError, match=named):
        stream(grok(fake_xai_server), mode, "x", **call_options)
    assert fake_xai_server.requests == []


@pytest.mark.parametrize(
    "options",
    [
        {"deferred_poll_interval": 0},
        {"deferred_poll_interval": float("nan")},
        {"deferred_timeout": float("inf")},
        {"deferred_timeout": -5},
    ],
)
def test_bad_settings_fail_at_construction_naming_the_field(options: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=next(iter(options))):
        ChatGrok(api_key="k", **options)


def test_bad_poll_settings_fail_even_on_a_call_that_is_not_deferred(
    fake_xai_server: FakeXAIServer,
) -> None:
    model = grok(fake_xai_server, use_responses_api=False)
    with pytest.raises(ValueError, match="deferred_timeout"):
        model.invoke("x", deferred_timeout=-1)
    assert fake_xai_server.requests == []
    # Valid ones are harmless there, and never reach the body.
    assert model.invoke("x", deferred_timeout=5).content == "You said: x"
    assert "deferred_timeout" not in fake_xai_server.requests[0].json
    assert "deferred" not in fake_xai_server.requests[0].json


@pytest.mark.parametrize("mode", MODES)
def test_structured_output_works_on_a_deferred_model(mode: str) -> None:
    with FakeXAIServer(deferred_polls=1) as server:
        structured = grok(server, deferred=True).with_structured_output(GetWeather)
        parsed = ask(structured, mode, "weather?")
        assert isinstance(parsed, GetWeather)
        submitted = submissions(server)[0]
        assert submitted.json["deferred"] is True
        assert submitted.json["response_format"]["type"] == "json_schema"


@pytest.mark.parametrize("mode", MODES)
def test_resume_deferred_returns_the_message_invoke_would_have(mode: str) -> None:
    reply = tool_call_reply("GetWeather", {"city": "Oslo"}, content="Checking.")
    with FakeXAIServer() as server:
        server.script(reply)
        direct = grok(server).bind_tools([GetWeather]).invoke("weather?", deferred=True)
    with FakeXAIServer(deferred_polls=5) as server:
        server.script(reply)
        model = grok(server)
        with pytest.raises(DeferredTimeoutError) as caught:
            ask(
                model.bind_tools([GetWeather]),
                mode,
                "weather?",
                deferred=True,
                deferred_timeout=0.02,
            )
        request_id = caught.value.deferred_request_id
        other = grok(server)  # e.g. another process: only the id is needed
        if mode == "sync":
            resumed = other.resume_deferred(request_id, poll_interval=0.01)
        else:
            resumed = asyncio.run(other.aresume_deferred(request_id, poll_interval=0.01))
        assert isinstance(resumed, AIMessage)
        assert resumed.content == direct.content == "Checking."
        assert resumed.tool_calls == direct.tool_calls
        assert resumed.usage_metadata == direct.usage_metadata
        assert resumed.response_metadata["cost_in_usd_ticks"] > 0
        assert (
            resumed.response_metadata["cost_in_usd_ticks"]
            == direct.response_metadata["cost_in_usd_ticks"]
        )
        with pytest.raises(NotFoundError, match=request_id):  # handed out once
            other.resume_deferred(request_id, poll_interval=0.01)
        with pytest.raises(ValueError, match="poll_interval"):
            other.resume_deferred(request_id, poll_interval=0)
