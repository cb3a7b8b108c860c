"""Decide which API a call goes to and build its body (pure).

ChatGrok speaks Chat Completions and the Responses API. The same LangChain call maps to either,
so this module is the one place that picks the API and applies the per-API rules; the entry
points in `chat_models` only send what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from langchain_core.messages import AIMessage

from langchain_grok._constants import DEFAULT_DEFERRED_POLL_INTERVAL, DEFAULT_DEFERRED_TIMEOUT
from langchain_grok._deferred import check_poll_settings
from langchain_grok._messages import convert_messages
from langchain_grok._payload import build_chat_body, build_responses_body
from langchain_grok._profiles import lookup
from langchain_grok._responses import messages_to_input
from langchain_grok._structured import SERVER_TOOL_TYPES

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from langchain_core.messages import BaseMessage

__all__ = ["DeferredWait", "RequestPlan", "Settings", "plan_request"]

ENCRYPTED_REASONING: Final = "reasoning.encrypted_content"
# Call kwargs that configure ChatGrok itself rather than the request body.
_LOCAL_KWARGS: Final = (
    "conversation_id",
    "stream_usage",
    "ls_structured_output_format",
    "stream",
    "use_responses_api",
    "use_previous_response_id",
)


@dataclass(frozen=True, slots=True)
class Settings:
    """The model-level defaults a request starts from."""

    params: Mapping[str, Any]
    stream_usage: bool
    conversation_id: str | None
    use_responses_api: bool | None
    store: bool
    include: tuple[str, ...]
    use_previous_response_id: bool
    deferred: bool = False
    deferred_poll_interval: float = DEFAULT_DEFERRED_POLL_INTERVAL
    deferred_timeout: float = DEFAULT_DEFERRED_TIMEOUT


@dataclass(frozen=True, slots=True)
class DeferredWait:
    """How to wait for a deferred completion (the client's `poll_interval` and `timeout`)."""

    poll_interval: float
    timeout: float

    def options(self) -> dict[str, Any]:
        """The keyword arguments of `deferred_chat_completion` this stands for."""
        return {"poll_interval": self.poll_interval, "timeout": self.timeout}


@dataclass(frozen=True, slots=True)
class RequestPlan:
    """What to send: which API, the JSON body, extra headers, and parameters dropped.

    `deferred` is set when the body is to be submitted as a deferred completion and polled
    for; the body itself never carries `deferred` or `stream` then (the client adds the one).
    """

    responses: bool
    body: dict[str, Any]
    headers: dict[str, str] | None
    dropped: list[str]
    deferred: DeferredWait | None = None


def _has_server_tools(params: Mapping[str, Any]) -> bool:
    return any(
        isinstance(tool, dict) and tool.get("type") in SERVER_TOOL_TYPES
        for tool in params.get("tools") or ()
    )


def needs_chat_completions(params: Mapping[str, Any]) -> bool:
    """Whether the request uses something only Chat Completions takes.

    The Responses API takes no `stop`, `seed`, `n`, `logit_bias`, `deferred` or penalties. Where
    the model would reject `stop` or penalties anyway (reasoning models drop them), they do not
    hold the request back.
    """
    model = lookup(str(params.get("model")))
    accepts_stop = model is None or model.accepts_stop
    accepts_penalties = model is None or not model.reasoning
    return (
        (accepts_stop and bool(params.get("stop")))
        or (params.get("n") or 1) > 1
        or any(params.get(key) is not None for key in ("seed", "logit_bias", "deferred"))
        or (
            accepts_penalties
            and any(params.get(k) is not None for k in ("frequency_penalty", "presence_penalty"))
        )
    )


def _choose_responses(params: Mapping[str, Any], choice: Any) -> bool:
    """Pick the API: the caller's choice, else the Responses API whenever it can serve the call.

    xAI recommends the Responses API and adds features only there; Chat Completions is kept for
    requests only it can serve and for gateways that only speak it (`use_responses_api=False`).
    """
    if choice is None:
        return not needs_chat_completions(params) or _has_server_tools(params)
    if not choice and _has_server_tools(params):
        msg = (
            "server-side tools (web_search, x_search, code_execution, ...) run only on the "
            "Responses API; remove use_responses_api=False or the tools"
        )
        raise ValueError(msg)
    return bool(choice)


def refuse_responses_only(
    settings: Settings, params: Mapping[str, Any], *, chain: bool, forced: bool
) -> None:
    """Fail when a call bound for Chat Completions asks for what only the Responses API does.

    `store`, `include` and chaining by `previous_response_id` exist only there; dropping them
    silently would, for instance, leave a user who asked for stored responses with none.
    """
    if not (
        chain
        or settings.store
        or settings.include
        or "store" in params
        or "include" in params
        or "previous_response_id" in params
    ):
        return  # the common case, on every call
    asked = [
        name
        for name, value in (
            ("store", params.get("store", settings.store)),
            ("include", params.get("include", settings.include)),
            ("use_previous_response_id", chain),
            ("previous_response_id", params.get("previous_response_id")),
        )
        if value
    ]
    if asked:
        why = (
            "use_responses_api=False"
            if forced
            else "this call needs Chat Completions (it uses n > 1, seed, logit_bias, deferred, "
            "or stop / penalties the model accepts)"
        )
        verb = "apply" if len(asked) > 1 else "applies"
        msg = f"{', '.join(asked)} {verb} only to the Responses API, but {why}"
        raise ValueError(msg)


def _deferred_wait(settings: Settings, params: dict[str, Any]) -> DeferredWait | None:
    """Take the deferred settings out of the parameters; None when the call is not deferred."""
    deferred = params.pop("deferred", None)
    poll_interval = params.pop("deferred_poll_interval", None)
    timeout = params.pop("deferred_timeout", None)
    if deferred is None and poll_interval is None and timeout is None and not settings.deferred:
        return None  # the common case, on every call: nothing to check
    if deferred is None:
        deferred = settings.deferred
    if not isinstance(deferred, bool):
        msg = f"deferred must be True or False, got {deferred!r}"
        raise ValueError(msg)  # noqa: TRY004 - a bad value, like the other parameter errors
    wait = DeferredWait(
        poll_interval=settings.deferred_poll_interval if poll_interval is None else poll_interval,
        timeout=settings.deferred_timeout if timeout is None else timeout,
    )
    # Checked even when not deferred: a bad value is a bug wherever it is passed.
    check_poll_settings(
        wait.poll_interval, wait.timeout, names=("deferred_poll_interval", "deferred_timeout")
    )
    return wait if deferred else None


def _check_deferred_api(params: Mapping[str, Any], choice: Any) -> None:
    """Deferred completions exist only on Chat Completions: refuse what needs the other API."""
    if choice:
        msg = (
            "deferred completions exist only on Chat Completions; remove use_responses_api=True "
            "or deferred=True"
        )
        raise ValueError(msg)
    if _has_server_tools(params):
        msg = (
            "server-side tools (web_search, x_search, code_execution, ...) run only on the "
            "Responses API, which has no deferred completions; remove the tools or deferred=True"
        )
        raise ValueError(msg)


def _after_previous_response(
    messages: Sequence[BaseMessage],
) -> tuple[Sequence[BaseMessage], str | None]:
    """The messages after the last stored Responses reply, and that reply's id."""
    for position in range(len(messages) - 1, -1, -1):
        message = messages[position]
        if isinstance(message, AIMessage) and message.response_metadata.get("api") == "responses":
            response_id = message.response_metadata.get("id")
            if response_id and position + 1 < len(messages):
                return messages[position + 1 :], str(response_id)
            break
    return messages, None


def plan_request(
    settings: Settings,
    messages: Sequence[BaseMessage],
    stop: list[str] | None,
    kwargs: Mapping[str, Any],
    *,
    stream: bool,
) -> RequestPlan:
    """Build the request for one call.

    Raises:
        ValueError: A parameter or message cannot be sent; the message names it.
    """
    params = {**settings.params, **kwargs}
    conversation_id = params.pop("conversation_id", None) or settings.conversation_id
    stream_usage = params.pop("stream_usage", settings.stream_usage)
    choice = params.pop("use_responses_api", settings.use_responses_api)
    chain = params.pop("use_previous_response_id", settings.use_previous_response_id)
    wait = _deferred_wait(settings, params)
    for key in _LOCAL_KWARGS:
        params.pop(key, None)
    if "timeout" in kwargs:
        msg = "timeout is a ChatGrok setting (ChatGrok(timeout=...)), not a per-call argument"
        raise ValueError(msg)
    if stop is not None:
        params["stop"] = stop
    if stream and (params.get("n") or 1) > 1:
        msg = "n > 1 cannot be combined with streaming; use invoke() or set n=1"
        raise ValueError(msg)
    if wait is not None:
        _check_deferred_api(params, choice)
        stream = False  # the finished result is fetched whole (and streamed from memory)
    if wait is not None or not _choose_responses(params, choice):
        refuse_responses_only(settings, params, chain=chain, forced=choice is False)
        body, dropped = build_chat_body(
            convert_messages(messages), params, stream=stream, stream_usage=stream_usage
        )
        headers = {"x-grok-conv-id": conversation_id} if conversation_id else None
        return RequestPlan(
            responses=False, body=body, headers=headers, dropped=dropped, deferred=wait
        )
    return _responses_plan(settings, messages, params, conversation_id, chain=chain, stream=stream)


def _responses_plan(
    settings: Settings,
    messages: Sequence[BaseMessage],
    params: dict[str, Any],
    conversation_id: str | None,
    *,
    chain: bool,
    stream: bool,
) -> RequestPlan:
    # Chaining by id needs the server to keep the earlier turns.
    store = bool(params.pop("store", settings.store)) or chain
    include = list(params.pop("include", None) or settings.include)
    if chain and "previous_response_id" not in params:
        messages, previous = _after_previous_response(messages)
        if previous:
            params["previous_response_id"] = previous
    known = lookup(str(params.get("model")))
    # Stateless multi-turn reasoning works only if the encrypted reasoning is replayed.
    if not store and ENCRYPTED_REASONING not in include and (known is None or known.reasoning):
        include.append(ENCRYPTED_REASONING)
    if conversation_id:
        params.setdefault("prompt_cache_key", conversation_id)
    body, dropped = build_responses_body(messages_to_input(messages), params, stream=stream)
    body["store"] = store
    if include:
        body["include"] = include
    return RequestPlan(responses=True, body=body, headers=None, dropped=dropped)
