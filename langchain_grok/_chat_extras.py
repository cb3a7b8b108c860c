"""`ChatGrok` methods on xAI's platform endpoints: token counts, the catalog, deferred results.

Kept out of `chat_models` so that module stays the fields and the four entry points. These are
mixins with no fields of their own; `ChatGrok` lists them before `BaseChatModel`, so their
token counting replaces LangChain's default, which would load a GPT-2 tokenizer (downloading it
on first use) and count the wrong tokens for Grok.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final, cast

from langchain_grok._catalog import ModelPrices, merge_profile
from langchain_grok._outputs import completion_to_result
from langchain_grok._tokens import (
    TOKEN_CACHE,
    explain_failure,
    message_texts,
    token_ids_from_payload,
    tool_texts,
)
from langchain_grok.errors import APIError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from langchain_core.language_models import ModelProfile
    from langchain_core.messages import AIMessage, BaseMessage

    from langchain_grok._client import AsyncXAIClient, XAIClient
    from langchain_grok._types import ChatCompletion, LanguageModel, TokenizeTextResponse

__all__ = ["CatalogMethods", "DeferredMethods", "TokenCountingMethods"]

# At most this many tokenize requests in flight per async count: enough to hide latency,
# few enough not to trip the per-key rate limit with a long conversation.
_MAX_CONCURRENT_TOKENIZE: Final = 8


class _Host:
    """What the mixins use of `ChatGrok` (declared for the type checker only)."""

    if TYPE_CHECKING:
        model_name: str
        xai_api_base: str
        deferred_poll_interval: float
        deferred_timeout: float
        custom_get_token_ids: Callable[[str], list[int]] | None
        profile: ModelProfile | None
        _catalog_entry: LanguageModel | None

        @property
        def client(self) -> XAIClient: ...

        @property
        def async_client(self) -> AsyncXAIClient: ...


class TokenCountingMethods(_Host):
    """Token counts from `POST /v1/tokenize-text`, with the configured model's tokenizer."""

    def _token_key(self, text: str) -> tuple[str, str, bytes]:
        if not isinstance(text, str):
            msg = f"text must be a string, got {type(text).__name__}"
            raise ValueError(msg)  # noqa: TRY004 - a ValueError is what LangChain callers catch
        return TOKEN_CACHE.key(self._tokenize_base(), self.model_name, text)

    def _tokenize_base(self) -> str:
        return self.xai_api_base.rstrip("/")

    def _remember(self, key: tuple[str, str, bytes], payload: TokenizeTextResponse) -> list[int]:
        ids = token_ids_from_payload(payload)
        TOKEN_CACHE.put(key, ids)
        return ids

    def _reraise(self, error: APIError) -> None:
        better = explain_failure(error, self._tokenize_base())
        if better is not None:
            raise better from error

    def get_token_ids(self, text: str) -> list[int]:
        """Return the ids of the tokens of `text`, from the model's own tokenizer.

        One `POST /v1/tokenize-text` request per distinct text (model and base URL); answers
        are cached in a bounded, process-wide LRU cache, failures are not. An empty text is
        `[]` without a request. `custom_get_token_ids`, when set, is used instead.

        Raises:
            ValueError: `text` is not a string (before any request).
            APIConnectionError: The endpoint could not be reached (the message says that token
                counting needs it; there is no offline fallback).
            NotFoundError: The model, or the endpoint, is unknown at `base_url`.
        """
        if self.custom_get_token_ids is not None:
            return self.custom_get_token_ids(text)
        key = self._token_key(text)
        cached = TOKEN_CACHE.get(key) if text else []
        if cached is not None:
            return cached
        try:
            payload = self.client.tokenize_text(text, self.model_name)
        except APIError as exc:
            self._reraise(exc)
            raise
        return self._remember(key, payload)

    async def aget_token_ids(self, text: str) -> list[int]:
        """Async twin of `get_token_ids` (same request, same cache)."""
        if self.custom_get_token_ids is not None:
            return self.custom_get_token_ids(text)
        key = self._token_key(text)
        cached = TOKEN_CACHE.get(key) if text else []
        if cached is not None:
            return cached
        try:
            payload = await self.async_client.tokenize_text(text, self.model_name)
        except APIError as exc:
            self._reraise(exc)
            raise
        return self._remember(key, payload)

    def get_num_tokens(self, text: str) -> int:
        """Count the tokens of `text` with the model's own tokenizer (see `get_token_ids`).

        The text is counted as given: no chat template, no message framing.
        """
        return len(self.get_token_ids(text))

    async def aget_num_tokens(self, text: str) -> int:
        """Async twin of `get_num_tokens`."""
        return len(await self.aget_token_ids(text))

    def get_num_tokens_from_messages(
        self,
        messages: list[BaseMessage],
        tools: Sequence[Any] | None = None,
    ) -> int:
        """Count the prompt tokens of a conversation (and tools) with the model's tokenizer.

        The messages are converted exactly as a Chat Completions request converts them, and
        each text the model reads is tokenized on its own by `POST /v1/tokenize-text` (cached
        as in `get_token_ids`, so re-counting a growing history costs one request per new
        text; validation errors are raised before any request).

        Counted: system and user text; assistant text; replayed reasoning text
        (`reasoning_content` or `reasoning` blocks); each tool call's function name and JSON
        arguments; tool results, including the `Error:` prefix a failed tool's result gets;
        with `tools`, each function tool's definition as the compact JSON of its `function`
        object (name, description, parameters).

        Not counted, so the server's `prompt_tokens` will be higher:

        - the chat template's framing tokens around each message (role markers, separators,
          tool-call ids, names) and around tool schemas, which xAI does not publish;
        - images (the endpoint counts text only) and files given by id;
        - encrypted reasoning replayed on the Responses API, and the prompt text server-side
          tools (`web_search`, ...) add;
        - the system prompt xAI itself may add.

        Args:
            messages: The conversation, as it would be passed to `invoke`.
            tools: Tools in any form `bind_tools` accepts.

        Raises:
            ValueError: A message or tool that could not be sent either.
            APIConnectionError: The endpoint could not be reached (no offline fallback).
            NotFoundError: The model, or the endpoint, is unknown at `base_url`.
        """
        texts = [*message_texts(messages), *tool_texts(tools)]
        return sum(len(self.get_token_ids(text)) for text in texts)

    async def aget_num_tokens_from_messages(
        self,
        messages: list[BaseMessage],
        tools: Sequence[Any] | None = None,
    ) -> int:
        """Async twin of `get_num_tokens_from_messages` (what is counted is the same).

        Texts not in the cache are tokenized concurrently, at most 8 requests at a time.
        """
        texts = [*message_texts(messages), *tool_texts(tools)]
        limit = asyncio.Semaphore(_MAX_CONCURRENT_TOKENIZE)

        async def count(text: str) -> int:
            async with limit:
                return len(await self.aget_token_ids(text))

        # Each distinct text once: duplicates would all miss the cache while the first is
        # still in flight.
        distinct = list(dict.fromkeys(texts))
        tasks = [asyncio.ensure_future(count(text)) for text in distinct]
        try:
            counted = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:  # the first failure is the answer: stop the other requests
                task.cancel()
            raise
        counts = dict(zip(distinct, counted, strict=True))
        return sum(counts[text] for text in texts)


class CatalogMethods(_Host):
    """The configured model's live catalog entry: profile refresh and list prices."""

    def _apply_catalog(self, entry: LanguageModel) -> ModelProfile:
        profile = merge_profile(self.profile, self.model_name, entry)
        self.profile = profile
        self._catalog_entry = entry
        return profile

    def refresh_profile(self) -> ModelProfile:
        """Update `profile` from the live catalog (`GET /v1/language-models/{model}`).

        The offline profile stays the default (no request is made unless you call this). The
        live entry wins for what it publishes (the model's canonical id as `name`, input and
        output modalities); the offline table keeps what REST does not publish (context
        window, reasoning-effort levels and default). A model unknown offline gets a profile
        from the live entry alone, or from the offline entry of its canonical id or an alias.
        Afterwards `catalog_entry` holds the raw entry (aliases, fingerprint, version) and
        `prices` its list prices.

        Which parameters are dropped or rejected before sending still follows the offline
        table, keyed by the configured model id.

        Returns:
            The new profile.

        Raises:
            NotFoundError: The catalog does not list the model for this key; `profile` is
                left unchanged.
        """
        return self._apply_catalog(self.client.retrieve_language_model(self.model_name))

    async def arefresh_profile(self) -> ModelProfile:
        """Async twin of `refresh_profile`."""
        entry = await self.async_client.retrieve_language_model(self.model_name)
        return self._apply_catalog(entry)

    @property
    def catalog_entry(self) -> LanguageModel | None:
        """The model's catalog entry from the last `refresh_profile()`; None before one."""
        return self._catalog_entry

    @property
    def prices(self) -> ModelPrices | None:
        """List prices in dollars per million tokens, from the last `refresh_profile()`.

        None until `refresh_profile()` (or `arefresh_profile()`) has run; fields the catalog
        leaves out are None. `prices.estimate(input_tokens, output_tokens)` gives dollars.
        """
        entry = self._catalog_entry
        return None if entry is None else ModelPrices.from_catalog(entry)


class DeferredMethods(_Host):
    """Collect a deferred answer by its request id, as the `AIMessage` `invoke` would return.

    A deferred job keeps running at xAI after `invoke` gives up (`DeferredTimeoutError`) or the
    process dies; its result can be fetched once, within 24 h. Without this, resuming meant the
    raw client and a hand-made conversion.
    """

    def resume_deferred(
        self,
        request_id: str,
        *,
        poll_interval: float | None = None,
        timeout: float | None = None,
    ) -> AIMessage:
        """Poll the deferred job `request_id` until done and return its answer.

        Args:
            request_id: From `DeferredTimeoutError.deferred_request_id` (or
                `client.start_deferred_completion`).
            poll_interval: Seconds before the second poll; defaults to `deferred_poll_interval`.
            timeout: Seconds to wait in all; defaults to `deferred_timeout`.

        Returns:
            The reply, with the usage, cost and tool calls `invoke` would have given. It does
            not pass through callbacks (no run is started), so `get_grok_callback` does not
            count it.

        Raises:
            DeferredTimeoutError: Still pending at the deadline (call again later).
            NotFoundError: Unknown or expired id, or its result was already collected.
        """
        completion = self.client.wait_deferred_completion(
            request_id,
            poll_interval=self.deferred_poll_interval if poll_interval is None else poll_interval,
            timeout=self.deferred_timeout if timeout is None else timeout,
        )
        return _answer(completion)

    async def aresume_deferred(
        self,
        request_id: str,
        *,
        poll_interval: float | None = None,
        timeout: float | None = None,
    ) -> AIMessage:
        """Async `resume_deferred`: cancelling the task stops the polling."""
        completion = await self.async_client.wait_deferred_completion(
            request_id,
            poll_interval=self.deferred_poll_interval if poll_interval is None else poll_interval,
            timeout=self.deferred_timeout if timeout is None else timeout,
        )
        return _answer(completion)


def _answer(completion: ChatCompletion) -> AIMessage:
    return cast("AIMessage", completion_to_result(completion).generations[0].message)
