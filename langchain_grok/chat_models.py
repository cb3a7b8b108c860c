"""`ChatGrok`: xAI's Grok models as a LangChain chat model.

This module holds only the configuration fields and thin entry points. Conversion lives in
`_messages` / `_payload` / `_outputs`, HTTP in `_client`, so that each can be tested alone and
the sync and async paths share everything but the I/O call.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.language_models import BaseChatModel, LangSmithParams, ModelProfile
from langchain_core.utils import from_env, secret_from_env
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr, model_validator

from langchain_grok._chat_extras import CatalogMethods, DeferredMethods, TokenCountingMethods
from langchain_grok._client import AsyncXAIClient, XAIClient
from langchain_grok._constants import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_DEFERRED_POLL_INTERVAL,
    DEFAULT_DEFERRED_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MODEL,
)
from langchain_grok._outputs import ChunkConverter, completion_to_chunks, completion_to_result
from langchain_grok._payload import check_params, check_reasoning_effort
from langchain_grok._profiles import lookup, to_langchain_profile
from langchain_grok._requests import (
    DeferredWait,
    RequestPlan,
    Settings,
    plan_request,
    refuse_responses_only,
)
from langchain_grok._responses import response_to_result
from langchain_grok._responses_stream import ResponsesChunkConverter
from langchain_grok._structured import (
    StructuredMethod,
    format_tool_choice,
    format_tools,
    structured_output_pipeline,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator, Sequence

    from langchain_core.callbacks import (
        AsyncCallbackManagerForLLMRun,
        CallbackManagerForLLMRun,
    )
    from langchain_core.language_models import LanguageModelInput
    from langchain_core.messages import AIMessage, BaseMessage
    from langchain_core.outputs import ChatGenerationChunk, ChatResult
    from langchain_core.runnables import Runnable
    from langchain_core.tools import BaseTool
    from typing_extensions import Self

    from langchain_grok._types import ChatCompletion, LanguageModel

__all__ = ["ChatGrok"]

_MODEL_PARAMS = (
    "temperature",
    "max_tokens",
    "top_p",
    "stop",
    "seed",
    "logprobs",
    "top_logprobs",
    "frequency_penalty",
    "presence_penalty",
    "reasoning_effort",
    "service_tier",
)


class ChatGrok(TokenCountingMethods, CatalogMethods, DeferredMethods, BaseChatModel):
    """xAI Grok chat model.

    Setup:
        `pip install langchain-grok` and set `XAI_API_KEY`.

    The constructor takes the names `langchain_xai.ChatXAI` users already write (`model`,
    `api_key` / `xai_api_key`, `base_url` / `xai_api_base`, `temperature`, `max_tokens`, ...),
    so migrating is an import change. The key is read lazily: a missing key fails at the first
    call, with a message that names `XAI_API_KEY`.

    Token counts (`get_num_tokens`, `get_num_tokens_from_messages` and their `a`-prefixed
    async twins) come from xAI's tokenize-text endpoint with the model's own tokenizer;
    `refresh_profile()` updates `profile` and `prices` from the live model catalog.

    Example:
        >>> from langchain_grok import ChatGrok
        >>> model = ChatGrok(model="grok-4.3", temperature=0)  # doctest: +SKIP
        >>> model.invoke("Hello").content  # doctest: +SKIP
    """

    model_name: str = Field(default=DEFAULT_MODEL, alias="model")
    """Model id or alias (`grok-4.3`, `grok-4.5`, `grok-4.20-0309-reasoning`, ...)."""
    xai_api_key: SecretStr | None = Field(
        alias="api_key", default_factory=secret_from_env(API_KEY_ENV, default=None)
    )
    """API key; defaults to `XAI_API_KEY`. Never shown in repr, logs or serialized output."""
    xai_api_base: str = Field(
        alias="base_url", default_factory=from_env(BASE_URL_ENV, default=DEFAULT_BASE_URL + "/")
    )
    """API root including `/v1`; defaults to `XAI_API_BASE`, then `https://api.x.ai/v1/`."""
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    """Sampling temperature in [0, 2]; None leaves the server default (1)."""
    max_tokens: int | None = Field(default=None, ge=1, alias="max_completion_tokens")
    """Cap on generated tokens, sent as `max_completion_tokens`."""
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    """Stop sequences; dropped with a warning for models that reject them (reasoning models)."""
    seed: int | None = None
    n: int = Field(default=1, ge=1)
    """Number of choices; more than 1 cannot be streamed."""
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=8)
    frequency_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    presence_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    reasoning_effort: str | None = None
    """`none` / `low` / `medium` / `high` / `xhigh`; checked against the model's allowed set."""
    service_tier: Literal["default", "priority"] | None = None
    conversation_id: str | None = None
    """Sent as `x-grok-conv-id` (Responses: `prompt_cache_key`) so that follow-up turns reach
    the server holding the prompt cache."""
    use_responses_api: bool | None = None
    """None: xAI's recommended Responses API whenever it can serve the request, else Chat
    Completions (`n > 1`, `seed`, `logit_bias`, `stop` or penalties the model accepts); False:
    always Chat Completions (gateways that only speak it); True: always the Responses API."""
    store: bool = False
    """Responses API: let xAI keep the response for 30 days. Off by default for privacy; without
    it, reasoning is carried between turns as encrypted items in the messages."""
    include: list[str] | None = None
    """Responses API `include` values (`reasoning.encrypted_content` is added when not storing)."""
    use_previous_response_id: bool = False
    """Responses API: send only the messages after the last reply plus its id (implies store)."""
    deferred: bool = False
    """Submit each request as a deferred completion (Chat Completions only) and poll for the
    result, for answers that take long or connections a proxy would cut; per call too:
    `invoke(..., deferred=True)`. Streaming calls get the finished answer as chunks."""
    deferred_poll_interval: float = Field(
        default=DEFAULT_DEFERRED_POLL_INTERVAL, gt=0, allow_inf_nan=False
    )
    """Deferred: seconds between the first two polls; the wait doubles up to 10 s."""
    deferred_timeout: float = Field(default=DEFAULT_DEFERRED_TIMEOUT, gt=0, allow_inf_nan=False)
    """Deferred: seconds to wait for the result before `DeferredTimeoutError` (which carries
    the id to resume with `resume_deferred`)."""
    request_timeout: float | None = Field(default=None, alias="timeout", gt=0)
    """Seconds for each phase of a request; None gives finite defaults (read 600 s)."""
    max_retries: int = Field(default=DEFAULT_MAX_RETRIES, ge=0)
    streaming: bool = False
    """Stream internally even for `invoke` (tokens reach callbacks as they arrive)."""
    stream_usage: bool = True
    """Request the usage chunk at the end of streams (reported once per stream)."""
    default_headers: dict[str, str] | None = None
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Any other body fields, sent as given (e.g. `user`, `parallel_tool_calls`)."""
    http_client: Any | None = Field(default=None, exclude=True)
    """An `httpx.Client` for sync calls (proxies, transports, limits)."""
    http_async_client: Any | None = Field(default=None, exclude=True)
    """An `httpx.AsyncClient` for async calls."""

    model_config = ConfigDict(populate_by_name=True, protected_namespaces=())

    _client: XAIClient | None = PrivateAttr(default=None)
    _async_client: AsyncXAIClient | None = PrivateAttr(default=None)
    _pid: int = PrivateAttr(default_factory=os.getpid)
    _warned: set[str] = PrivateAttr(default_factory=set)
    _catalog_entry: LanguageModel | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _collect_model_kwargs(cls, values: Any) -> Any:
        """Move unknown constructor arguments into `model_kwargs`, as ChatOpenAI does."""
        if not isinstance(values, dict):
            return values
        known = {name for name, field in cls.model_fields.items()} | {
            field.alias for field in cls.model_fields.values() if field.alias
        }
        extra = {k: values[k] for k in list(values) if k not in known}
        if not extra:
            return values
        clash = sorted(set(extra) & set(values.get("model_kwargs") or {}))
        if clash:
            msg = f"Parameters {clash} were given both directly and in model_kwargs"
            raise ValueError(msg)
        for key in extra:
            values.pop(key)
        return {**values, "model_kwargs": {**(values.get("model_kwargs") or {}), **extra}}

    @model_validator(mode="after")
    def _check_settings(self) -> Self:
        if self.n > 1 and self.streaming:
            msg = "n > 1 cannot be combined with streaming=True"
            raise ValueError(msg)
        if self.use_responses_api is False:
            refuse_responses_only(
                self._settings(), {}, chain=self.use_previous_response_id, forced=True
            )
        check_reasoning_effort(self.model_name, self.reasoning_effort)
        check_params(self.model_kwargs)
        return self

    # -- LangChain plumbing ----------------------------------------------------------------

    @property
    def _llm_type(self) -> str:
        return "xai-chat"

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """ChatGrok round-trips through `dumpd` / `load` (the key is kept out, as a secret)."""
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """The namespace `load` uses to find this class."""
        return ["langchain_grok", "chat_models"]

    @property
    def lc_secrets(self) -> dict[str, str]:
        """Where `load(..., secrets_from_env=True)` finds the key again."""
        return {"xai_api_key": API_KEY_ENV}

    def _resolve_model_profile(self) -> ModelProfile | None:
        known = lookup(self.model_name)
        return to_langchain_profile(known) if known else None

    @property
    def _default_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.model_name}
        params.update({name: getattr(self, name) for name in _MODEL_PARAMS})
        if self.n != 1:
            params["n"] = self.n
        params.update(self.model_kwargs)
        return params

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {k: v for k, v in self._default_params.items() if v is not None}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="xai",
            ls_model_name=kwargs.get("model") or self.model_name,
            ls_model_type="chat",
        )
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        ls_stop = stop or kwargs.get("stop") or self.stop
        if ls_stop:
            params["ls_stop"] = ls_stop
        return params

    def __getstate__(self) -> dict[Any, Any]:
        # Clients hold connection pools (sockets, locks) that cannot cross a process boundary:
        # a copy starts without them and builds its own on first use, as after fork().
        state = super().__getstate__()
        private = dict(state.get("__pydantic_private__") or {})
        private.update(_client=None, _async_client=None)
        state["__pydantic_private__"] = private
        return state

    # -- clients (created lazily: the key is needed only when a request is made) -----------

    def _client_args(self) -> dict[str, Any]:
        return {
            "api_key": self.xai_api_key.get_secret_value() if self.xai_api_key else None,
            "base_url": self.xai_api_base,
            "timeout": self.request_timeout,
            "max_retries": self.max_retries,
            "default_headers": self.default_headers,
        }

    def _check_process(self) -> None:
        # Clients made before fork() point at the parent's pool: make new ones in the child.
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._client = None
            self._async_client = None

    @property
    def client(self) -> XAIClient:
        """The sync `XAIClient` this model sends through (one connection pool per process)."""
        self._check_process()
        if self._client is None:
            self._client = XAIClient(
                **self._client_args(),
                http_client=self.http_client,
                share_pool=self.http_client is None,
            )
        return self._client

    @property
    def async_client(self) -> AsyncXAIClient:
        """The `AsyncXAIClient` this model sends through."""
        self._check_process()
        if self._async_client is None:
            self._async_client = AsyncXAIClient(
                **self._client_args(),
                http_client=self.http_async_client,
                share_pool=self.http_async_client is None,
            )
        return self._async_client

    # -- request building (shared by all four entry points) --------------------------------

    def _plan(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
        *,
        stream: bool,
    ) -> RequestPlan:
        plan = plan_request(self._settings(), messages, stop, kwargs, stream=stream)
        self._warn_dropped(plan.body["model"], plan.dropped, responses=plan.responses)
        return plan

    def _settings(self) -> Settings:
        return Settings(
            params=self._default_params,
            stream_usage=self.stream_usage,
            conversation_id=self.conversation_id,
            use_responses_api=self.use_responses_api,
            store=self.store,
            include=tuple(self.include or ()),
            use_previous_response_id=self.use_previous_response_id,
            deferred=self.deferred,
            deferred_poll_interval=self.deferred_poll_interval,
            deferred_timeout=self.deferred_timeout,
        )

    def _warn_dropped(self, model: str, dropped: list[str], *, responses: bool) -> None:
        fresh = [name for name in dropped if name not in self._warned]
        if fresh:
            self._warned.update(fresh)
            where = " on the Responses API" if responses else ""
            warnings.warn(
                f"{model} rejects {', '.join(fresh)}{where}; not sent (this warning is shown "
                "once per ChatGrok instance)",
                UserWarning,
                stacklevel=4,
            )

    # -- entry points -----------------------------------------------------------------------

    def _deferred(self, plan: RequestPlan, wait: DeferredWait) -> ChatCompletion:
        return self.client.deferred_chat_completion(
            extra_headers=plan.headers, **wait.options(), **plan.body
        )

    async def _adeferred(self, plan: RequestPlan, wait: DeferredWait) -> ChatCompletion:
        return await self.async_client.deferred_chat_completion(
            extra_headers=plan.headers, **wait.options(), **plan.body
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,  # noqa: ARG002
        **kwargs: Any,
    ) -> ChatResult:
        plan = self._plan(messages, stop, kwargs, stream=False)
        if plan.deferred is not None:
            return completion_to_result(self._deferred(plan, plan.deferred))
        if plan.responses:
            return response_to_result(
                self.client.create_response(extra_headers=plan.headers, **plan.body)
            )
        return completion_to_result(
            self.client.chat_completion(extra_headers=plan.headers, **plan.body)
        )

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,  # noqa: ARG002
        **kwargs: Any,
    ) -> ChatResult:
        plan = self._plan(messages, stop, kwargs, stream=False)
        if plan.deferred is not None:
            return completion_to_result(await self._adeferred(plan, plan.deferred))
        if plan.responses:
            response = await self.async_client.create_response(
                extra_headers=plan.headers, **plan.body
            )
            return response_to_result(response)
        payload = await self.async_client.chat_completion(extra_headers=plan.headers, **plan.body)
        return completion_to_result(payload)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,  # noqa: ARG002
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        plan = self._plan(messages, stop, kwargs, stream=True)
        if plan.deferred is not None:
            yield from completion_to_chunks(self._deferred(plan, plan.deferred))
            return
        converter: ChunkConverter | ResponsesChunkConverter
        events: Iterator[Any]
        if plan.responses:
            converter = ResponsesChunkConverter()
            events = self.client.stream_response(extra_headers=plan.headers, **plan.body)
        else:
            converter = ChunkConverter()
            events = self.client.stream_chat_completion(extra_headers=plan.headers, **plan.body)
        for payload in events:
            chunk = converter.convert(payload)
            if chunk is not None:
                yield chunk
        yield converter.finish()

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,  # noqa: ARG002
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        plan = self._plan(messages, stop, kwargs, stream=True)
        if plan.deferred is not None:
            for piece in completion_to_chunks(await self._adeferred(plan, plan.deferred)):
                yield piece
            return
        converter: ChunkConverter | ResponsesChunkConverter
        events: AsyncIterator[Any]
        if plan.responses:
            converter = ResponsesChunkConverter()
            events = self.async_client.stream_response(extra_headers=plan.headers, **plan.body)
        else:
            converter = ChunkConverter()
            events = self.async_client.stream_chat_completion(
                extra_headers=plan.headers, **plan.body
            )
        async for payload in events:
            chunk = converter.convert(payload)
            if chunk is not None:
                yield chunk
        yield converter.finish()

    # -- tools and structured output --------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        parallel_tool_calls: bool | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools in any form LangChain accepts (BaseTool, function, pydantic, dict, ...).

        Args:
            tools: The tools.
            tool_choice: "auto", "none", "required" / "any", a tool name, `True` (the only
                tool), or the API's dict form.
            parallel_tool_calls: False allows at most one call per turn.
            strict: Ask the API to hold arguments to the schema exactly.
            **kwargs: Other request parameters to bind.
        """
        formatted = format_tools(tools, strict=strict)
        choice = format_tool_choice(tool_choice, formatted)
        if choice is not None:
            kwargs["tool_choice"] = choice
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: StructuredMethod = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """Return a runnable whose output follows `schema`.

        Args:
            schema: Pydantic class (output is an instance), TypedDict or JSON schema (output is
                a dict); optional for `json_mode`.
            method: "json_schema" (default: the API's native structured outputs),
                "function_calling" (a forced tool call) or "json_mode" (any JSON object).
            include_raw: Return `{"raw", "parsed", "parsing_error"}` and never raise on a bad
                reply.
            strict: Ask the API to enforce the schema exactly.
            **kwargs: Not accepted; present so that a misspelt option fails loudly.

        Raises:
            ValueError: Unknown keyword arguments, unknown method, or no schema where needed.
        """
        if kwargs:
            msg = f"Unexpected arguments to with_structured_output: {sorted(kwargs)}"
            raise ValueError(msg)
        return structured_output_pipeline(
            self.bind,
            self.bind_tools,
            schema,
            method=method,
            include_raw=include_raw,
            strict=strict,
        )
