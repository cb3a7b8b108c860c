"""Request body building and the per-model parameter rules (pure).

One function decides what goes on the wire, so that sync, async, streaming and non-streaming
calls cannot drift apart, and so that every "the server would reject this" check happens before
a request is spent.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

from langchain_grok._profiles import lookup

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["build_chat_body", "check_params"]

_PENALTIES: Final = ("frequency_penalty", "presence_penalty")

_INT32_MAX: Final = 2**31 - 1  # the API's integers are 32-bit
# name -> (low, high, low inclusive); None bounds are open.
_RANGES: Final[dict[str, tuple[float | None, float | None, bool]]] = {
    "temperature": (0.0, 2.0, True),
    "top_p": (0.0, 1.0, False),
    "frequency_penalty": (-2.0, 2.0, True),
    "presence_penalty": (-2.0, 2.0, True),
    "n": (1, 128, True),
    "max_tokens": (1, _INT32_MAX, True),
    "max_completion_tokens": (1, _INT32_MAX, True),
    "max_output_tokens": (1, _INT32_MAX, True),
    "top_logprobs": (0, 8, True),
    "seed": (-_INT32_MAX - 1, _INT32_MAX, True),
}
_INTEGERS: Final = frozenset(
    {"n", "max_tokens", "max_completion_tokens", "max_output_tokens", "top_logprobs", "seed"}
)


def check_params(params: Mapping[str, Any]) -> None:
    """Reject out-of-range values before a request is sent, naming the parameter.

    Raises:
        ValueError: A known parameter has the wrong type or is out of the API's range.
    """
    for name, value in params.items():
        if value is None:
            continue
        if name in _INTEGERS and (isinstance(value, bool) or not isinstance(value, int)):
            msg = f"{name} must be an integer, got {value!r}"
            raise ValueError(msg)
        bounds = _RANGES.get(name)
        if bounds is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (isinstance(value, float) and math.isnan(value))
        ):
            msg = f"{name} must be a number, got {value!r}"
            raise ValueError(msg)
        low, high, low_inclusive = bounds
        too_low = low is not None and (value < low if low_inclusive else value <= low)
        too_high = high is not None and value > high
        if too_low or too_high:
            opening = "[" if low_inclusive else "("
            upper = "inf)" if high is None else f"{high}]"
            msg = f"{name}={value!r} is out of range {opening}{low}, {upper}"
            raise ValueError(msg)
    stop = params.get("stop")
    if stop is not None and not (
        isinstance(stop, str) or (isinstance(stop, list) and all(isinstance(s, str) for s in stop))
    ):
        msg = f"stop must be a string or a list of strings, got {stop!r}"
        raise ValueError(msg)


def check_reasoning_effort(model: str, effort: str | None) -> None:
    """Reject a `reasoning_effort` the (known) model does not accept, listing what it does."""
    if effort is None:
        return
    profile = lookup(model)
    if profile is None or profile.efforts is None:
        return
    if not profile.efforts:
        msg = (
            f"reasoning_effort is not accepted by {model} (the API rejects it for every "
            "value); remove it or pick a model that takes it, e.g. grok-4.3"
        )
        raise ValueError(msg)
    if effort not in profile.efforts:
        allowed = ", ".join(repr(e) for e in profile.efforts)
        msg = f"reasoning_effort={effort!r} is not accepted by {model}; use one of {allowed}"
        raise ValueError(msg)


def drop_rejected(model: str, params: dict[str, Any]) -> list[str]:
    """Remove what a known model would answer with a 400; return the names removed.

    Dropping (with a warning from the caller) is kinder than failing: chains written for one
    model often carry a `stop` that another model cannot take.
    """
    profile = lookup(model)
    if profile is None:
        return []
    dropped = []
    # An empty stop list asks for nothing: it is dropped without a warning.
    if not profile.accepts_stop and params.pop("stop", None):
        dropped.append("stop")
    if profile.reasoning:
        dropped.extend(name for name in _PENALTIES if params.pop(name, None) is not None)
    return dropped


def _checked_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The non-None parameters, after the checks both APIs share."""
    body: dict[str, Any] = {k: v for k, v in params.items() if v is not None}
    model = body.get("model")
    if not isinstance(model, str) or not model:
        msg = f"model must be a non-empty string, got {model!r}"
        raise ValueError(msg)
    check_params(body)
    if "search_parameters" in body:
        msg = (
            "search_parameters (Live Search) was retired by xAI and now fails with HTTP 410; "
            "bind the web_search or x_search server-side tools instead"
        )
        raise ValueError(msg)
    check_reasoning_effort(model, body.get("reasoning_effort"))
    return body


def build_chat_body(
    messages: list[dict[str, Any]],
    params: Mapping[str, Any],
    *,
    stream: bool,
    stream_usage: bool,
) -> tuple[dict[str, Any], list[str]]:
    """The JSON body of a chat completion request, and the parameters dropped for the model.

    Args:
        messages: Already converted message dicts.
        params: Everything else, merged in precedence order by the caller (model fields, then
            `model_kwargs`, then per-call kwargs); must contain `model`. None values are
            omitted so the server applies its own defaults.
        stream: Whether to request an event stream.
        stream_usage: Ask for the usage chunk at the end of a stream.

    Raises:
        ValueError: A parameter is invalid for the request or the model (named in the message).
    """
    body = _checked_params(params)
    model = body["model"]
    if stream and body.get("n", 1) > 1:
        msg = "n > 1 cannot be combined with streaming; use invoke() or set n=1"
        raise ValueError(msg)
    if isinstance(body.get("stop"), str):
        body["stop"] = [body["stop"]]
    if body.get("stop") == []:
        del body["stop"]
    if "max_tokens" in body:
        tokens = body.pop("max_tokens")
        body.setdefault("max_completion_tokens", tokens)
    if body.get("top_logprobs") is not None:
        body.setdefault("logprobs", True)
    dropped = drop_rejected(model, body)
    body["messages"] = messages
    if stream:
        body["stream"] = True
        if stream_usage:
            body["stream_options"] = {"include_usage": True}
    else:
        body.pop("stream", None)
        body.pop("stream_options", None)
    return body, dropped


# -- Responses API -----------------------------------------------------------------------------

# Chat Completions parameters the Responses API does not take (xai-api.md section 6).
_NOT_ON_RESPONSES: Final = ("stop", "frequency_penalty", "presence_penalty", "seed", "n")
_TOKEN_LIMITS: Final = ("max_output_tokens", "max_completion_tokens", "max_tokens")


def _responses_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    """Chat Completions' nested function tool -> the Responses API's flat one."""
    if tool.get("type") != "function" or "function" not in tool:
        return dict(tool)  # server-side tools are already in Responses form
    function = tool["function"]
    flat: dict[str, Any] = {"type": "function", "name": function["name"]}
    for key in ("description", "parameters", "strict"):
        if key in function:
            flat[key] = function[key]
    return flat


def _responses_tool_choice(choice: Any) -> Any:
    if isinstance(choice, dict) and choice.get("type") == "function" and "function" in choice:
        return {"type": "function", "name": choice["function"]["name"]}
    return choice


def _responses_text_format(response_format: Mapping[str, Any]) -> dict[str, Any]:
    if response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema") or {}
        return {"format": {"type": "json_schema", **spec}}
    return {"format": dict(response_format)}


def build_responses_body(
    input_items: list[dict[str, Any]],
    params: Mapping[str, Any],
    *,
    stream: bool,
) -> tuple[dict[str, Any], list[str]]:
    """The JSON body of a `POST /v1/responses`, and the parameters dropped for this API.

    Takes the same merged parameters as `build_chat_body` and renames what the Responses API
    names differently: `max_tokens` -> `max_output_tokens` (which includes reasoning),
    `reasoning_effort` -> `reasoning.effort`, `response_format` -> `text.format`, nested
    function tools -> flat ones.

    Raises:
        ValueError: A parameter is invalid for the request or the model (named in the message).
    """
    body = _checked_params(params)
    dropped = [name for name in _NOT_ON_RESPONSES if body.pop(name, None) not in (None, [], 1)]
    limits = [
        body.pop(k, None) for k in ("max_output_tokens", "max_completion_tokens", "max_tokens")
    ]
    limit = next((value for value in limits if value is not None), None)
    if limit is not None:
        body["max_output_tokens"] = limit
    effort = body.pop("reasoning_effort", None)
    if effort is not None:
        body["reasoning"] = {**(body.get("reasoning") or {}), "effort": effort}
    if "response_format" in body:
        body["text"] = _responses_text_format(body.pop("response_format"))
    if body.get("tools"):
        body["tools"] = [_responses_tool(tool) for tool in body["tools"]]
    if "tool_choice" in body:
        body["tool_choice"] = _responses_tool_choice(body["tool_choice"])
    if body.get("top_logprobs") is not None:
        body.setdefault("logprobs", True)
    body.pop("stream_options", None)
    body["input"] = input_items
    if stream:
        body["stream"] = True
    else:
        body.pop("stream", None)
    return body, dropped
