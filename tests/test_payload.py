"""Request body rules: names, ranges, per-model drops and rejections."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_grok._payload import build_chat_body

MESSAGES = [{"role": "user", "content": "hi"}]


def body(stream: bool = False, stream_usage: bool = True, **params: Any) -> dict[str, Any]:
    params.setdefault("model", "grok-4.3")
    result, _ = build_chat_body(MESSAGES, params, stream=stream, stream_usage=stream_usage)
    return result


def test_none_values_are_omitted_and_max_tokens_renamed() -> None:
    assert body(temperature=None, max_tokens=10, seed=3) == {
        "model": "grok-4.3",
        "max_completion_tokens": 10,
        "seed": 3,
        "messages": MESSAGES,
    }


def test_stream_asks_for_usage_unless_disabled() -> None:
    assert body(stream=True)["stream_options"] == {"include_usage": True}
    assert "stream_options" not in body(stream=True, stream_usage=False)


def test_stream_flag_in_params_never_leaks_into_non_stream_body() -> None:
    result, _ = build_chat_body(
        MESSAGES, {"model": "m", "stream": True}, stream=False, stream_usage=True
    )
    assert "stream" not in result


def test_top_logprobs_implies_logprobs() -> None:
    assert body(top_logprobs=3)["logprobs"] is True


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("temperature", 2.5),
        ("temperature", -0.1),
        ("top_p", 0),
        ("top_p", 1.5),
        ("n", 0),
        ("max_tokens", 0),
        ("top_logprobs", 9),
        ("presence_penalty", 3),
        ("seed", 1.5),
        ("temperature", "hot"),
        ("stop", [1, 2]),
    ],
)
def test_out_of_range_values_name_the_parameter(name: str, value: Any) -> None:
    with pytest.raises(ValueError, match=name):
        body(model="some-unknown-model", **{name: value})


def test_reasoning_models_drop_stop_and_penalties() -> None:
    result, dropped = build_chat_body(
        MESSAGES,
        {"model": "grok-4.3", "stop": ["x"], "presence_penalty": 0.5, "frequency_penalty": 0.1},
        stream=False,
        stream_usage=True,
    )
    assert dropped == ["stop", "frequency_penalty", "presence_penalty"]
    assert not {"stop", "presence_penalty", "frequency_penalty"} & set(result)


def test_empty_stop_is_dropped_silently() -> None:
    _, dropped = build_chat_body(
        MESSAGES, {"model": "grok-4.3", "stop": []}, stream=False, stream_usage=True
    )
    assert dropped == []
    assert "stop" not in body(model="grok-4.20-non-reasoning", stop=[])


def test_non_reasoning_model_keeps_stop_and_unknown_model_keeps_everything() -> None:
    assert body(model="grok-4.20-0309-non-reasoning", stop="END")["stop"] == ["END"]
    kept = body(model="grok-99", stop=["x"], presence_penalty=1.0)
    assert kept["stop"] == ["x"]
    assert kept["presence_penalty"] == 1.0


def test_retired_slugs_are_accepted_and_treated_as_reasoning() -> None:
    result, dropped = build_chat_body(
        MESSAGES,
        {"model": "grok-4-fast-non-reasoning", "stop": ["x"]},
        stream=False,
        stream_usage=True,
    )
    assert result["model"] == "grok-4-fast-non-reasoning"
    assert dropped == ["stop"]


def test_reasoning_effort_checked_against_the_model() -> None:
    assert body(reasoning_effort="none")["reasoning_effort"] == "none"
    with pytest.raises(
        ValueError, match=r"reasoning_effort='xhigh'.*'none', 'low', 'medium', 'high'"
    ):
        body(reasoning_effort="xhigh")
    with pytest.raises(ValueError, match=r"not accepted by grok-4\.20-0309-reasoning"):
        body(model="grok-4.20-0309-reasoning", reasoning_effort="low")
    # Unknown models and models with unknown rules: sent as asked.
    assert body(model="grok-next", reasoning_effort="ultra")["reasoning_effort"] == "ultra"
    assert body(model="grok-4-fast", reasoning_effort="high")["reasoning_effort"] == "high"


def test_n_greater_than_one_cannot_stream() -> None:
    with pytest.raises(ValueError, match="n > 1"):
        body(stream=True, n=2)
    assert body(n=2)["n"] == 2


def test_live_search_is_refused_before_the_410() -> None:
    with pytest.raises(ValueError, match="search_parameters"):
        body(search_parameters={"mode": "auto"})


def test_model_is_required() -> None:
    with pytest.raises(ValueError, match="model"):
        build_chat_body(MESSAGES, {"model": ""}, stream=False, stream_usage=True)
