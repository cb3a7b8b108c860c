"""The JSON bodies the clients send, built the same way by both twins (pure).

The caller's parameters go in as given (`**params` are the API's own fields); only what the
call itself decides (`stream`, and dropping `stream_options` from a non-streamed call) is set
here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["chat_body", "response_body", "tokenize_body"]


def response_body(
    input_: str | Sequence[Mapping[str, Any]],
    model: str,
    params: Mapping[str, Any],
    *,
    stream: bool,
) -> dict[str, Any]:
    """A Responses API body: `input` as given (a string, or a list copied so we never alias it)."""
    body: dict[str, Any] = {
        "model": model,
        "input": input_ if isinstance(input_, str) else list(input_),
    }
    body.update(params)
    if stream:
        body["stream"] = True
    else:
        body.pop("stream", None)
    return body


def chat_body(
    messages: Sequence[Mapping[str, Any]],
    model: str,
    temperature: float | None,
    params: Mapping[str, Any],
    *,
    stream: bool,
) -> dict[str, Any]:
    """A Chat Completions body; `stream_options` goes only with `stream: true`, as the API says."""
    body: dict[str, Any] = {"model": model, "messages": list(messages)}
    if temperature is not None:
        body["temperature"] = temperature
    body.update(params)
    if stream:
        body["stream"] = True
    else:
        body.pop("stream", None)
        body.pop("stream_options", None)
    return body


def tokenize_body(text: str, model: str, user: str | None) -> dict[str, Any]:
    """The tokenize-text body; a wrong type fails naming its parameter, not as xAI's 422."""
    if not isinstance(text, str):
        msg = f"text must be a string, got {type(text).__name__}"
        raise ValueError(msg)  # noqa: TRY004 - a ValueError is what LangChain callers catch
    if not isinstance(model, str) or not model:
        msg = f"model must be a non-empty model id, got {model!r}"
        raise ValueError(msg)
    body: dict[str, Any] = {"text": text, "model": model}
    if user is not None:
        body["user"] = user
    return body
